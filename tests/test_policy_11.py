"""Policy `liveperson-cso@1.1`: the same terms text as 1.0 (policies/liveperson-cso/1.1/terms.txt),
re-read cell by cell. What changes, each against the words of the terms:

- clause excerpts verbatim: curly quotes (“T&E”, Customer’s), no full stop after the Table 5
  and Table 6 titles, the no-break spaces of the terms;
- conditions kept as data and shown: Table 6 "24×7 Business Critical Support (English Only)",
  "Direct Access to Tier 2 Support (when available)", Section 9 "Deployment of new LivePerson
  products and services (except those specifically listed as out of scope)";
- I-7 (entitlement.frequency_overrun.level): Table 2 is performed "in accordance with Customer’s
  needs and mutual planning", Table 3 "cannot exceed": an overrun is a warning for a Table 2
  item, an error for a Table 3 item. Under 1.0 (no such table) every overrun is an error;
- I-8 (entitlement.frequencies): "Twice Yearly" <= 2 per contract year, "Semi-Annual" (Table 2)
  and "Semi-Annually" (Table 3) <= 1 per contract half-year, from the term start (I-1);
- I-9 (entitlement.blank_cells): Table 4 gives Integrations 2 cells ("–", "–"), Reporting
  Customization and Plugin/Taglet Creation 3, Customization 4; the 8 cells after them are blank
  and read as Included (under the column's "Up to N Hours*" cell);
- I-10 (expansion.purchase_only_at_renewal) and I-11 (entitlement.hours.count_additional_cost):
  1.0's readings, now named.

Seed numbers: Premier 113 h/quarter; Customer Account Plan Premier "Twice Monthly" (Table 2),
Transcript Analysis Premier "Quarterly" (Table 3), Access to Target Analysis Reports Fundamentals
"Twice Yearly", Industry KPI Analysis Expert "Semi-Annual", On-Site Operations Monitoring Expert
"Semi-Annually" and Premier "At Additional Costs".
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.core.model import Level
from cso_policy.policy.lock import content_hash, read_lock
from tests.conftest import (
    CLI_ENV, POLICY_ROOT, audit_records, contract_toml, delivery, make_contract, of, only, ticket, work,
    write_contract, write_records,
)

REPO = Path(__file__).resolve().parents[1]
V10, V11 = "liveperson-cso@1.0", "liveperson-cso@1.1"
FOLDER_10 = POLICY_ROOT / "liveperson-cso" / "1.0"
FOLDER_11 = POLICY_ROOT / "liveperson-cso" / "1.1"
TERMS = (FOLDER_11 / "terms.txt").read_text(encoding="utf-8")
HASH_10 = "sha256:f7c708566c479f80c235699e3c8f744b375cc556f9c585a408ef392f1f43df3e"  # locked before 1.1
FREQUENCY = "entitlement.frequency"
AS_OF = "2027-01-01T00:00:00Z"


def cli(*args: str):
    return CliRunner(env=CLI_ENV).invoke(main, list(args))


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


def diff_sections(text: str) -> dict[str, list[str]]:
    """`policies diff` output: "[module] table" header -> its change lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines()[1:]:
        if line.startswith("["):
            current = out.setdefault(line, [])
        elif line.strip():
            current.append(line.strip())
    return out


def show(ref: str) -> str:
    result = cli("policies", "show", ref)
    assert result.exit_code == 0, result.output
    return result.output


def block(text: str, heading: str) -> str:
    """The lines of `policies show` under a heading line starting with *heading*, to the next blank line."""
    start = next(i for i, line in enumerate(text.splitlines()) if line.startswith(heading))
    lines = text.splitlines()[start + 1:]
    return "\n".join(lines[: lines.index("")] if "" in lines else lines)


# ------------------------------------------------------------------ the version, its source and its lock


def test_1_1_reads_the_same_terms_text_and_is_locked_beside_1_0():
    manifest = tomllib.loads((FOLDER_11 / "manifest.toml").read_text(encoding="utf-8"))
    assert (manifest["id"], manifest["version"], manifest["example"]) == ("liveperson-cso", "1.1", False)
    assert (FOLDER_11 / "terms.txt").read_bytes() == (FOLDER_10 / "terms.txt").read_bytes()
    assert manifest["source"]["sha256"] == hashlib.sha256((FOLDER_11 / "terms.txt").read_bytes()).hexdigest()
    lock = read_lock(POLICY_ROOT)
    assert lock[V10] == HASH_10 == content_hash(FOLDER_10)  # 1.0 untouched
    assert lock[V11] == content_hash(FOLDER_11)


def test_list_shows_both_versions():
    rows = {line.split("  ", 1)[0] for line in cli("policies", "list").output.splitlines()}
    assert {V10, V11} <= rows


def test_lint_of_policies_is_clean_but_for_the_inconsistent_caps_warnings(in_repo):
    # Section 1 in both versions: premier 113 x 4 = 452 != 455, expert 246 x 4 = 984 != 985
    result = cli("lint", "policies", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"]["errors"] == 0
    assert {f["rule"] for f in report["findings"]} == {"policy.inconsistent_caps"}
    per_file = sorted((Path(f["file"]).parent.name, f["message"].split(":")[0]) for f in report["findings"])
    assert per_file == [("1.0", "expert"), ("1.0", "premier"), ("1.1", "expert"), ("1.1", "premier")]


# ------------------------------------------------------------------ the diff 1.0 -> 1.1


def test_diff_shows_each_change_of_the_review():
    result = cli("policies", "diff", V10, V11)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{V10} -> {V11}\n")
    table = diff_sections(result.output)
    # I-7
    assert table["[entitlement] frequency_overrun.level"] == [
        "+ frequency_overrun.level.Table 2 = 'warning'",
        "+ frequency_overrun.level.Table 3 = 'error'",
        "+ frequency_overrun.level.Table 4 = 'error'",
    ]
    # I-9: the 8 blank cells of Table 4, "" in the cells, each with its reading
    assert table["[entitlement] items.integrations"] == [
        f"~ items.integrations.cells.{tier}: 'Included' -> ''" for tier in ("expert", "premier", "strategic")]
    assert table["[entitlement] items.reporting_customization"] == [
        f"~ items.reporting_customization.cells.{tier}: 'Included' -> ''" for tier in ("expert", "strategic")]
    assert table["[entitlement] items.plugin_taglet_creation"] == [
        f"~ items.plugin_taglet_creation.cells.{tier}: 'Included' -> ''" for tier in ("expert", "strategic")]
    assert table["[entitlement] items.customization"] == ["~ items.customization.cells.strategic: 'Included' -> ''"]
    readings = table["[entitlement] blank_cells.cells"]
    assert len(readings) == 8 and all(line.endswith(" = 'Included'") for line in readings)
    assert "+ blank_cells.clause = 'Table 4'" in table["[entitlement] blank_cells"]
    # conditions of the cells
    assert "+ channels.tier2_direct.condition = 'when available'" in table["[entitlement] channels.tier2_direct"]
    assert table["[entitlement] support.conditions"] == ["+ support.conditions.business_critical_24x7 = 'English Only'"]
    assert ("~ uses.allowed.new_product_deployment: 'Deployment of new LivePerson products and services' -> "
            "'Deployment of new LivePerson products and services (except those specifically listed as out of scope)'"
            ) in table["[expansion] uses.allowed"]
    # the terms' own names and curly quotes
    assert ("~ items.brand_specific_rca.name: 'Escalation Management: Brand specific Root Cause Analysis' -> "
            "'Escalation Management: Brand specific Root Cause Analysis (“RCA”)'") in table["[entitlement] items.brand_specific_rca"]
    assert ("~ uses.allowed.brand_development_support: \"Support for development by the brand using LivePerson's APIs "
            "or SDKs\" -> 'Support for development by the brand using LivePerson’s APIs or SDKs'") in table["[expansion] uses.allowed"]
    assert "[sla] severity.levels" in table and "[sla] clock_definitions" in table
    # Table 9's own cells
    assert "+ tiers.premier.cell = '2x Intermediate Deployments (includes up to 60 hours*)'" in table["[expansion] tiers.premier"]
    # nothing else: the hours, the frequency words (already spelled as the terms spell them) and
    # every Table 2, 3, 5, 6, 8 and 10 cell are unchanged
    assert set(table) == {
        "[entitlement] blank_cells", "[entitlement] blank_cells.cells", "[entitlement] channels.chat",
        "[entitlement] channels.messaging", "[entitlement] channels.phone", "[entitlement] channels.tier2_direct",
        "[entitlement] channels.web", "[entitlement] frequency_overrun.level", "[entitlement] items.brand_specific_rca",
        "[entitlement] items.customization", "[entitlement] items.discretionary_operational_consulting",
        "[entitlement] items.integrations", "[entitlement] items.plugin_taglet_creation",
        "[entitlement] items.reporting_customization", "[entitlement] support.conditions",
        "[sla] clock_definitions", "[sla] severity.levels", "[sla] severity.security_incident",
        "[expansion] tiers.expert", "[expansion] tiers.foundations", "[expansion] tiers.fundamentals",
        "[expansion] tiers.premier", "[expansion] tiers.strategic", "[expansion] uses.allowed",
        "[expansion] uses.disallowed", "[readings] readings", "[clauses] clauses",
    }
    # the new readings and the excerpts made verbatim
    assert [line.split(" = ")[0] for line in table["[readings] readings"]] == ["+ I-7", "+ I-8", "+ I-9", "+ I-10", "+ I-11"]
    assert any(line.startswith("~ Section 1: ") and "“T&E”" in line for line in table["[clauses] clauses"])


# ------------------------------------------------------------------ clause excerpts, verbatim


@pytest.mark.parametrize("version", ["1.1"])
def test_every_clause_excerpt_is_verbatim_from_the_terms(version):
    clauses = tomllib.loads((POLICY_ROOT / "liveperson-cso" / version / "clauses.toml").read_text(encoding="utf-8"))
    for ref, text in clauses.items():
        for piece in text.split(" [...] "):
            assert piece in TERMS, (ref, piece)
    assert "“T&E”" in clauses["Section 1"] and "LivePerson’s then-current rate" in clauses["Section 1"]
    assert "Customer’s needs and mutual planning" in clauses["Table 2"]
    assert clauses["Table 5"].startswith("Premium Technical Support Available Based on CSO Package Purchased [...]")
    assert clauses["Table 6"].startswith("Standard Technical Support Available Based on CSO Package Purchased [...]")
    assert "(English Only)" in clauses["Table 6"] and "(when available)" in clauses["Table 6"]
    assert "'" not in clauses["Section 9"] and "Customer’s CSO package" in clauses["Section 9"]


def test_explain_quotes_the_clause_with_the_terms_curly_quotes(tmp_path):
    # Premier: 3 account plans in contract month 2026-01 (Table 2, 'Twice Monthly'), 120 h in 2026-Q1
    # (Section 1: 113 h), and a Foundations phone ticket (Table 6: phone '–')
    root = tmp_path / "ws"
    write_contract(root / "contracts" / "c1.toml", make_contract(policy=V11))
    write_contract(root / "contracts" / "c2.toml", make_contract("C-2", tier="foundations", lobs=["f"], policy=V11))
    write_records(root / "records" / "r.jsonl", [
        delivery("d1", "2026-01-05", "customer_account_plan"), delivery("d2", "2026-01-12", "customer_account_plan"),
        delivery("d3", "2026-01-19", "customer_account_plan"), work("w1", "2026-01-20", 120),
        ticket("t1", "2026-02-02T10:00:00-05:00", channel="phone", lob="f", contract="C-2"),
    ])
    (root / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n')
    out = cli("explain", FREQUENCY, str(root), "--as-of", AS_OF)
    assert out.exit_code == 0, out.output
    assert f"{FREQUENCY} (warning)" in out.output  # I-7
    assert ('    Table 2: "All deliverables defined below may be performed by LivePerson in accordance with '
            'Customer’s needs and mutual planning, in all cases based on the applicable CSO package purchased by '
            'your organization."') in out.output
    hours = cli("explain", "entitlement.quarterly_hours", str(root), "--as-of", AS_OF).output
    assert "Travel & Expense Fees (“T&E”)" in hours and "subject to the customer’s advance approval" in hours
    assert "LivePerson’s then-current rate as mutually agreed by the parties in writing." in hours  # no-break space read as a space
    phone = cli("explain", "entitlement.channel_not_included", str(root), "--as-of", AS_OF).output
    assert '    Table 6: "Standard Technical Support Available Based on CSO Package Purchased [...]' in phone
    assert "Purchased." not in phone


# ------------------------------------------------------------------ I-7


def account_plans(policy: str, *days: str):
    return audit_records(make_contract(policy=policy), [
        delivery(f"d{i}", day, "customer_account_plan") for i, day in enumerate(days, 1)], select=[FREQUENCY])


@pytest.mark.parametrize(("policy", "level"), [(V11, Level.WARNING), (V10, Level.ERROR)])
def test_table_2_overrun_is_a_warning_under_1_1_and_an_error_under_1_0(policy, level):
    # Premier customer_account_plan 'Twice Monthly': a third in contract month 2026-01-01..01-31
    f = only(account_plans(policy, "2026-01-02", "2026-01-15", "2026-01-31"), FREQUENCY)
    assert (f.record, f.period, f.level, f.clause, f.policy) == ("d3", "2026-M01", level, "Table 2", policy)
    assert "delivered 3 times in contract month 2026-M01" in f.message and "'Twice Monthly' allows 2" in f.message


@pytest.mark.parametrize("policy", [V10, V11])
def test_table_3_overrun_is_an_error_under_both(policy):
    # Premier transcript_analysis 'Quarterly': 3 in 2026-Q1, the 2nd and 3rd are over
    findings = audit_records(make_contract(policy=policy), [
        delivery(f"d{i}", f"2026-0{i}-10", "transcript_analysis") for i in (1, 2, 3)], select=[FREQUENCY])
    assert [(f.record, f.period, f.level, f.clause) for f in of(findings, FREQUENCY)] == [
        ("d2", "2026-Q1", Level.ERROR, "Table 3"), ("d3", "2026-Q1", Level.ERROR, "Table 3")]


def test_a_table_2_overrun_alone_does_not_fail_the_run_under_1_1(tmp_path):
    for policy, code in ((V11, 0), (V10, 1)):
        root = tmp_path / policy
        write_contract(root / "contracts" / "c.toml", make_contract(policy=policy))
        write_records(root / "records" / "r.jsonl", [
            delivery(f"d{i}", day, "customer_account_plan") for i, day in
            enumerate(["2026-01-02", "2026-01-15", "2026-01-31"], 1)])
        (root / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n')
        assert cli("audit", str(root), "--as-of", AS_OF).exit_code == code, policy


# ------------------------------------------------------------------ the parameters are data the code reads


def variant(tmp_path: Path, edit: tuple[str, str, str]) -> Path:
    """A workspace whose policies folder holds a copy of 1.1 with one edit (file, old, new); it
    is searched before the bundled one, so contracts pinning 1.1 read the copy."""
    root = tmp_path / "ws"
    folder = root / "pol" / "liveperson-cso" / "1.1"
    shutil.copytree(FOLDER_11, folder)
    name, old, new = edit
    text = (folder / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (folder / name).write_text(text.replace(old, new), encoding="utf-8")
    (root / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\npolicies = ["pol"]\n')
    return root


def audit_json(root: Path, contract, records) -> list[dict]:
    write_contract(root / "contracts" / "c.toml", contract)
    write_records(root / "records" / "r.jsonl", records)
    result = cli("audit", str(root), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def test_i7_level_comes_from_the_policy_data(tmp_path):
    root = variant(tmp_path, ("entitlement.toml", '"Table 2" = "warning"', '"Table 2" = "info"'))
    found = audit_json(root, make_contract(policy=V11), [
        delivery(f"d{i}", day, "customer_account_plan") for i, day in enumerate(["2026-01-02", "2026-01-15", "2026-01-31"], 1)])
    assert [(f["rule"], f["record"], f["level"]) for f in found] == [(FREQUENCY, "d3", "info")]


def test_i9_blank_cells_are_read_through_the_policy_data(tmp_path):
    # 1.1 reads the blank Premier Integrations cell as Included (as 1.0's data said); a copy that
    # reads it as '–' makes Premier integrations work not included
    records = [work("w1", "2026-02-02", 3, service="integrations")]
    assert not of(audit_records(make_contract(policy=V11), records), "entitlement.not_included")
    root = variant(tmp_path, ("entitlement.toml", 'integrations = { premier = "Included",', 'integrations = { premier = "–",'))
    found = audit_json(root, make_contract(policy=V11), records)
    assert [(f["rule"], f["record"]) for f in found] == [("entitlement.not_included", "w1")]


def test_i11_work_at_additional_cost_stays_out_of_the_section_1_hours():
    # Premier 113 h/quarter: 110 h + 6 h of on-site work 'At Additional Costs' -> 110 h counted, no finding
    records = [work("w1", "2026-01-05", 110), work("w2", "2026-01-06", 6, service="on_site_operations_monitoring")]
    for policy in (V10, V11):
        assert not of(audit_records(make_contract(policy=policy), records), "entitlement.quarterly_hours"), policy


def test_i11_parameter_counts_it_when_set(tmp_path):
    root = variant(tmp_path, ("entitlement.toml", "count_additional_cost = false", "count_additional_cost = true"))
    found = audit_json(root, make_contract(policy=V11), [
        work("w1", "2026-01-05", 110), work("w2", "2026-01-06", 6, service="on_site_operations_monitoring")])
    assert ("entitlement.quarterly_hours", "w2") in {(f["rule"], f["record"]) for f in found}  # 116 > 113


def test_a_blank_cell_without_a_reading_is_a_lint_error_and_stops_an_audit(tmp_path):
    root = variant(tmp_path, ("entitlement.toml", "customization = { strategic = \"Included\" }\n", ""))
    result = cli("lint", str(root / "pol"))
    assert result.exit_code == 1
    assert "policy.unknown_term $.items.customization.cells.strategic: a blank cell needs its reading" in result.output
    write_contract(root / "contracts" / "c.toml", make_contract(policy=V11))
    write_records(root / "records" / "r.jsonl", [])
    audit = cli("audit", str(root), "--as-of", AS_OF)
    assert audit.exit_code == 2 and "$.items.customization.cells.strategic" in audit.stderr


def test_an_overrun_level_for_a_table_without_items_is_a_lint_error(tmp_path):
    root = variant(tmp_path, ("entitlement.toml", '"Table 4" = "error" }', '"Table 4" = "error", "Table 11" = "error" }'))
    result = cli("lint", str(root / "pol"))
    assert result.exit_code == 1 and "frequency_overrun.level names 'Table 11'" in result.output


# ------------------------------------------------------------------ I-8


@pytest.mark.parametrize("policy", [V10, V11])
def test_i8_twice_yearly_is_two_per_contract_year_in_any_half(policy):
    # Fundamentals target_analysis_reports 'Twice Yearly': 2 in January (one half) are fine, a 3rd in the year is over
    findings = audit_records(make_contract(tier="fundamentals", policy=policy), [
        delivery("d1", "2026-01-10", "target_analysis_reports"), delivery("d2", "2026-01-20", "target_analysis_reports"),
        delivery("d3", "2026-11-10", "target_analysis_reports")], select=[FREQUENCY])
    assert [(f.record, f.period) for f in of(findings, FREQUENCY)] == [("d3", "2026")]


@pytest.mark.parametrize("policy", [V10, V11])
@pytest.mark.parametrize(("item", "word"), [("industry_kpi_analysis", "Semi-Annual"),
                                            ("on_site_operations_monitoring", "Semi-Annually")])
def test_i8_semi_annual_is_one_per_contract_half_year(policy, item, word):
    # Expert: one on 06-30 (H1) and one on 07-01 (H2) are fine; a second in H2 is over
    findings = audit_records(make_contract(tier="expert", policy=policy), [
        delivery("d1", "2026-06-30", item), delivery("d2", "2026-07-01", item), delivery("d3", "2026-12-31", item)],
        select=[FREQUENCY])
    f = only(findings, FREQUENCY)
    assert (f.record, f.period) == ("d3", "2026-H2") and f"'{word}' allows 1" in f.message


def test_i8_frequency_words_are_spelled_as_the_cells_of_the_terms():
    data = tomllib.loads((FOLDER_11 / "entitlement.toml").read_text(encoding="utf-8"))
    cells = set(TERMS.splitlines())
    for word in data["frequencies"]:
        assert word in cells, word  # each word is a whole cell (line) of the terms
    used = {w for item in data["items"].values() for w in item["cells"].values()} - {""}
    assert used - {"Included"} <= set(data["frequencies"])
    half = {w: m for w, m in data["frequencies"].items() if m.get("period") == "half"}
    assert half == {"Semi-Annual": {"max": 1, "period": "half"}, "Semi-Annually": {"max": 1, "period": "half"}}
    assert data["frequencies"]["Twice Yearly"] == {"max": 2, "period": "year"}


# ------------------------------------------------------------------ policies show


def test_show_lists_every_reading_with_a_parameter_the_module_data_holds():
    out = show(V11)
    readings = out.split("Readings of ambiguous terms\n", 1)[1]
    found = dict(re.findall(r"^  (I-\d+) \(([\w.]+)\): \S", readings, re.M))
    assert found == {
        "I-1": "entitlement.periods.anchor", "I-2": "entitlement.allowances.solutions_engineering.scope",
        "I-3": "sla.units.day_hours", "I-4": "sla.rca.due", "I-5": "sla.severity_change.mode",
        "I-6": "expansion.hours_per", "I-7": "entitlement.frequency_overrun.level", "I-8": "entitlement.frequencies",
        "I-9": "entitlement.blank_cells", "I-10": "expansion.purchase_only_at_renewal",
        "I-11": "entitlement.hours.count_additional_cost",
    }
    for folder in (FOLDER_10, FOLDER_11):
        manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
        for reading in manifest["readings"]:
            module, *keys = reading["parameter"].split(".")
            value = tomllib.loads((folder / f"{module}.toml").read_text(encoding="utf-8"))
            for key in keys:
                value = value[key]  # KeyError: a reading names a parameter the data does not hold


def test_show_gives_each_blank_cell_its_reading():
    out = show(V11)
    assert re.search(r"^  integrations\s+Table 4\s+– \| – \| \(blank: Included\) \| \(blank: Included\) \| "
                     r"\(blank: Included\)$", out, re.M)
    assert re.search(r"^  customization\s+Table 4\s+– \| – \| – \| – \| \(blank: Included\)$", out, re.M)
    blanks = block(out, "Blank cells of Table 4 and how each is read (blank_cells, I-9)")
    assert re.findall(r"^  (\w+)\s+([\w, ]+): read as 'Included'$", blanks, re.M) == [
        ("integrations", "premier, expert, strategic"), ("reporting_customization", "expert, strategic"),
        ("plugin_taglet_creation", "expert, strategic"), ("customization", "strategic")]
    assert "  why: A blank cell lies under its column’s “Up to N Hours*” cell" in blanks
    assert "Blank cells" not in show(V10) and "(blank" not in show(V10)


def test_show_keeps_the_conditions_of_the_cells():
    out = show(V11)
    assert re.search(r"^  tier2_direct\s+Table 6\s+– \| – \| – \| Included \| Included  \(when available\)$", out, re.M)
    assert re.search(r"^  business_critical_24x7\s+Table 6\s+(Included \| ){4}Included  \(English Only\)$", out, re.M)
    assert re.search(r"^  new_product_deployment\s+Deployment of new LivePerson products and services "
                     r"\(except those specifically listed as out of scope\)$", out, re.M)
    assert "[international travel: additional surcharge]" in out  # Table 3 on-site


def test_show_lists_the_overrun_levels_and_frequency_words():
    out = show(V11)
    assert block(out, "A delivery beyond its frequency (frequency_overrun.level, I-7)").splitlines() == [
        "  Table 2   warning", "  Table 3   error", "  Table 4   error"]
    words = block(out, "Frequency words (frequencies, I-8;")
    assert "  'Twice Yearly'         at most 2 per contract year" in words
    assert "  'Semi-Annual'          at most 1 per contract half-year" in words
    assert "  'Semi-Annually'        at most 1 per contract half-year" in words
    assert "(hours.count_additional_cost, I-11)" in out
    assert "every table: the level of the rule entitlement.frequency" in show(V10)


def test_show_lists_the_sla_targets_of_table_8():
    out = show(V11)
    sla = block(out, "Enhanced support service levels (Table 8)")
    assert "  foundations   none (no enhanced SLA)" in sla
    assert "  premier       P2: response 3 h, update every 12 h, non-bug resolution 3 d (72 h), RCA 5 business days" in sla
    assert "  strategic     P1: response 0.5 h, update every 1 h, non-bug resolution 6 h, RCA 2 business days" in sla
    assert "  expert        P3: response 1 d (24 h), update every 2 d (48 h), non-bug resolution 4 d (96 h), RCA N/A" in sla
    assert "(units.day_hours, I-3)" in sla and "(rca.due, I-4)" in sla and "(severity_change.mode, I-5)" in sla
    assert "  P2: LivePerson products/services are available but degraded" in block(out, "Severity levels (Table 7)")
    assert "Table 8" in show(V10) and "premier       P1: response 1 h" in show(V10)


def test_show_lists_table_9_packs_and_section_9_uses():
    out = show(V11)
    packs = block(out, "Expansion packs (Table 9, Section 9)")
    assert "per deployment (hours_per, I-6)" in packs and "(purchase_only_at_renewal, I-10)" in packs
    assert "  foundations   none  [–]" in packs
    assert "  fundamentals  1 basic deployment(s) of 36 h  [1 Basic Deployment (includes up to 36 hours*)]" in packs
    assert "  strategic     2 advanced deployment(s) of 120 h  [2x Advanced Deployments (includes up to 120 hours*)]" in packs
    disallowed = block(out, "Expansion Pack hours cannot be used for (Section 9)")
    assert "insights_deployment" in disallowed and "training" in disallowed


# ------------------------------------------------------------------ entitlements


def entitlements(tmp_path: Path, tier: str, policy: str) -> str:
    path = tmp_path / f"{tier}-{policy}.toml"
    path.write_text(contract_toml(make_contract(tier=tier, policy=policy)), encoding="utf-8")
    result = cli("entitlements", str(path), "--as-of", "2026-06-30T12:00:00-04:00")
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("policy", [V10, V11])
def test_foundations_entitlements_have_no_expansion_lapse_line(tmp_path, policy):
    out = entitlements(tmp_path, "foundations", policy)
    assert "  expansion packs (Section 9, Table 9): none\n" in out
    assert "lapse" not in out
    # a package with expansion hours still shows when they lapse: 2026-06-30 -> 12-31
    assert "unused expansion hours lapse at the term end 2026-12-31: 184 days left" in entitlements(tmp_path, "expert", policy)


def test_entitlements_mark_the_blank_cells_under_1_1(tmp_path):
    out = entitlements(tmp_path, "strategic", V11)
    assert re.search(r"^    customization\s+Included \(blank\)", out, re.M)
    assert "(blank)" not in entitlements(tmp_path, "strategic", V10)


# ------------------------------------------------------------------ the example workspace under 1.0


def test_northwind_under_1_0_keeps_its_documented_findings_with_d4_as_errors(tmp_path, monkeypatch):
    # the example's planted deviations are the same findings under 1.0; only D4's level differs (I-7)
    example = tmp_path / "northwind"
    shutil.copytree(REPO / "examples" / "northwind", example)
    for path in (example / "contracts").glob("*.toml"):
        path.write_text(path.read_text(encoding="utf-8").replace(V11, V10), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli("audit", "northwind", "--as-of", "2026-12-31T00:00:00Z", "--format", "json")
    assert result.exit_code == 1
    found = {(f["rule"], f["record"]): f["level"] for f in json.loads(result.stdout)["findings"]}
    expected = json.loads((example / "expected-findings.json").read_text(encoding="utf-8"))["findings"]
    want = {(f["rule"], f["record"]): f["level"] for f in expected}
    want[(FREQUENCY, "d-0066")] = want[(FREQUENCY, "d-0072")] = "error"
    assert found == want
