"""The command line (SPEC §3 reports and exit codes, §5 CLI), through click's CliRunner.

The standard workspace: contract C-1 (one Premier package p1 for LOB "a", 2026, overage agreed at
USD 240/h) and two work records, 100 h (w1) + 20 h (w2) in 2026-Q1 = 120 h > 113 h/quarter
(Section 1): entitlement.quarterly_hours (warning, 7 h, crossed by w2) and, with no overage line on
the draft invoice, billing.overage_unbilled (error, 7 h x USD 240 = USD 1,680).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cso_policy.cli import main
from tests.conftest import (
    POLICY_ROOT,
    assert_exit_2,
    delivery,
    invoice,
    make_contract,
    work,
    write_contract,
    write_records,
)

AS_OF = "2026-12-31T00:00:00Z"
OVER = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20)]
# the same, with the 7 h overage on the draft invoice: only the quarterly-hours warning is left
OVER_BILLED = OVER + [invoice("i1", "overage_hours", quantity=7)]
CORE_RULES = [
    "billing.additional_cost_unbilled", "billing.expense_unapproved", "billing.included_item_billed",
    "billing.overage_overbilled", "billing.overage_unbilled", "billing.overage_without_agreement",
    "billing.surcharge_missing", "entitlement.allowance_hours", "entitlement.annual_hours",
    "entitlement.channel_not_included", "entitlement.frequency", "entitlement.not_included",
    "entitlement.outside_term", "entitlement.quarterly_hours", "input.invalid_record", "input.unknown_reference",
]


@pytest.fixture
def ws(make_workspace):
    return make_workspace([make_contract()], OVER)


def audit(runner, *args):
    return runner.invoke(main, ["audit", *map(str, args), "--as-of", AS_OF])


def json_findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


# ---------------------------------------------------------------- audit: reports


def test_audit_text_report(runner, ws):
    result = audit(runner, ws)
    assert result.exit_code == 1  # an error-level finding, --fail-on error by default
    out = result.stdout
    assert out.startswith("C-1\n")  # no blank line first
    assert ("records.jsonl:2: error: billing.overage_unbilled [Section 1] w2: package p1 (premier; a): "
            "7 overage hours due for 2026-Q1, 0 on the draft invoice: 7 h unbilled [7.00 h, USD 1,680.00]") in out
    assert ("records.jsonl:2: warning: entitlement.quarterly_hours [Section 1] w2: package p1 (premier; a): "
            "120 h worked in 2026-Q1, quarterly cap 113 h: 7 h over; record w2 crossed the cap") in out
    assert "2 finding(s) (1 error, 1 warning, 0 info) in 2 record(s) over 1 contract(s)" in out
    assert "  billing.overage_unbilled: 1, 7.00 h, USD 1,680.00" in out


def test_audit_json_report_shape(runner, ws):
    result = audit(runner, ws, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert {"findings", "summary"} <= set(document)
    findings = document["findings"]
    assert [(f["rule"], f["record"]) for f in findings] == [
        ("billing.overage_unbilled", "w2"), ("entitlement.quarterly_hours", "w2")]
    required = {"rule", "level", "contract", "lob", "record", "source", "message", "clause", "policy", "impact"}
    for f in findings:
        assert required <= set(f)
    f = findings[1]
    assert {k: f[k] for k in ("rule", "level", "contract", "lob", "record", "clause", "policy")} == {
        "rule": "entitlement.quarterly_hours", "level": "warning", "contract": "C-1", "lob": "a",
        "record": "w2", "clause": "Section 1", "policy": "liveperson-cso@1.0"}
    assert f["source"].endswith("records/records.jsonl:2")
    assert f["impact"] == {"hours": 7.0, "amount": 1680.0, "currency": "USD"}
    summary = document["summary"]
    assert summary["records"] == 2 and summary["findings"] == 2 and summary["contracts"] == 1
    assert summary["by_level"] == {"error": 1, "warning": 1, "info": 0}
    assert summary["by_rule"]["billing.overage_unbilled"] == {"count": 1, "hours": 7.0, "amounts": {"USD": 1680.0}}
    assert summary["by_contract"] == {"C-1": 2}


def test_json_report_is_byte_identical_across_runs(runner, ws):
    first = audit(runner, ws, "--format", "json")
    second = audit(runner, ws, "--format", "json")
    assert first.exit_code == second.exit_code == 1
    assert first.stdout_bytes == second.stdout_bytes


def test_output_writes_the_report_to_a_file(runner, ws, tmp_path):
    target = tmp_path / "report.json"
    result = audit(runner, ws, "--format", "json", "--output", target)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == audit(runner, ws, "--format", "json").stdout


def test_output_that_cannot_be_written_exits_2(runner, ws, tmp_path):
    assert_exit_2(audit(runner, ws, "--output", tmp_path), "cannot write", one_line=True)


def test_unknown_format_exits_2(runner, ws):
    result = audit(runner, ws, "--format", "xml")
    assert_exit_2(result, "unknown --format 'xml'")
    assert "json" in result.stderr and "text" in result.stderr  # the known formats are named


# ---------------------------------------------------------------- audit: --fail-on


@pytest.mark.parametrize(
    ("records", "fail_on", "code"),
    [
        (OVER_BILLED, "error", 0),  # only the quarterly-hours warning
        (OVER_BILLED, "warning", 1),
        (OVER_BILLED, "info", 1),
        (OVER_BILLED, "never", 0),
        (OVER, "error", 1),  # billing.overage_unbilled is an error
        (OVER, "never", 0),
        ([work("w1", "2026-01-05", 100)], "info", 0),  # 100 <= 113: nothing at all
    ],
)
def test_fail_on(runner, make_workspace, records, fail_on, code):
    root = make_workspace([make_contract()], records)
    result = audit(runner, root, "--fail-on", fail_on)
    assert result.exit_code == code, result.output
    assert "finding(s)" in result.stdout


def test_fail_on_rejects_other_levels(runner, ws):
    result = audit(runner, ws, "--fail-on", "fatal")
    assert result.exit_code == 2
    assert "Invalid value for '--fail-on'" in result.stderr


# ---------------------------------------------------------------- audit: --select / --ignore


@pytest.mark.parametrize(
    ("options", "rules"),
    [
        (["--select", "entitlement.*"], ["entitlement.quarterly_hours"]),
        (["--select", "billing.overage_*"], ["billing.overage_unbilled"]),
        (["--select", "billing.*", "--select", "entitlement.quarterly_hours"],
         ["billing.overage_unbilled", "entitlement.quarterly_hours"]),
        (["--ignore", "billing.*"], ["entitlement.quarterly_hours"]),
        (["--ignore", "*.quarterly_hours"], ["billing.overage_unbilled"]),
        (["--select", "entitlement.*", "--ignore", "entitlement.quarterly_*"], []),
    ],
)
def test_select_and_ignore_globs(runner, ws, options, rules):
    result = audit(runner, ws, "--format", "json", *options)
    assert [f["rule"] for f in json_findings(result)] == rules
    assert result.exit_code == (1 if "billing.overage_unbilled" in rules else 0)


def test_select_glob_matching_no_rule_exits_2(runner, ws):
    assert_exit_2(audit(runner, ws, "--select", "sla.nope*"), "--select 'sla.nope*' matches no rule", one_line=True)


# ---------------------------------------------------------------- audit: inputs


def test_missing_workspace_exits_2(runner, tmp_path):
    assert_exit_2(audit(runner, tmp_path / "nowhere"), "workspace is not a directory", one_line=True)


def test_folder_without_config_exits_2(runner, tmp_path):
    assert_exit_2(audit(runner, tmp_path), "no cso-policy.toml", one_line=True)


def test_no_workspace_and_no_inputs_exits_2(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["audit"])
    assert_exit_2(result, "give a WORKSPACE folder with a cso-policy.toml, or --contracts and --records")


def test_contracts_and_records_options_without_workspace(runner, tmp_path, monkeypatch):
    write_contract(tmp_path / "c1.toml", make_contract())
    write_records(tmp_path / "r.jsonl", OVER)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["audit", "--contracts", "c1.toml", "--records", "r.jsonl", "--as-of", AS_OF,
                                  "--format", "json"])
    assert result.exit_code == 1
    assert [(f["rule"], f["source"]) for f in json_findings(result)] == [
        ("billing.overage_unbilled", "r.jsonl:2"), ("entitlement.quarterly_hours", "r.jsonl:2")]


def test_records_option_replaces_the_workspace_records(runner, ws, tmp_path):
    # the workspace's records are over the cap; the replacement (100 h <= 113) is not
    other = write_records(tmp_path / "other.jsonl", [work("w1", "2026-01-05", 100)])
    result = audit(runner, ws, "--records", other, "--format", "json")
    assert (result.exit_code, json_findings(result)) == (0, [])


def test_workspace_paths_are_relative_to_the_workspace(runner, ws, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = audit(runner, "../ws", "--format", "json", "--select", "entitlement.*")
    assert [f["record"] for f in json_findings(result)] == ["w2"]


def test_records_table_with_a_file_source_but_no_path_exits_2(runner, ws):
    (ws / "cso-policy.toml").write_text('contracts = ["contracts"]\n[[records]]\nsource = "jsonl"\n')
    result = audit(runner, ws)
    assert_exit_2(result, "jsonl", one_line=True)


@pytest.mark.parametrize("as_of", ["2026-06-01T10:00:00", "June 1st"])
def test_as_of_needs_an_iso_timestamp_with_offset(runner, ws, as_of):
    result = runner.invoke(main, ["audit", str(ws), "--as-of", as_of])
    assert result.exit_code == 2
    assert "--as-of" in result.stderr


def test_as_of_date_alone_is_midnight_utc(runner, ws):
    result = runner.invoke(main, ["audit", str(ws), "--as-of", "2026-06-01", "--format", "json"])
    assert json.loads(result.stdout)["as_of"] == "2026-06-01T00:00:00+00:00"


# ---------------------------------------------------------------- rules


def test_rules_lists_the_catalogue_with_levels_and_clauses(runner):
    result = runner.invoke(main, ["rules"])
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(CORE_RULES) <= set(rows)
    assert rows["entitlement.frequency"].split()[1:3] == ["error", "Tables"]
    assert "Section 1" in rows["entitlement.quarterly_hours"] and "warning" in rows["entitlement.quarterly_hours"]
    assert "Tables 3-4" in rows["entitlement.allowance_hours"]


def test_rules_json(runner):
    result = runner.invoke(main, ["rules", "--format", "json"])
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert set(CORE_RULES) <= set(rows)
    assert rows["billing.surcharge_missing"]["clause"] == "Table 3"
    assert rows["billing.surcharge_missing"]["level"] == "error"
    assert rows["input.invalid_record"]["description"]


# ---------------------------------------------------------------- entitlements


def test_entitlements_text(runner, tmp_path):
    # Premier C-1 as of 2026-02-01 (2026-01-31 in New York): only w1 (100 h, 2026-01-05) is used so
    # far, w2 (2026-02-05) is later: Q1 100 of 113 h, 13 left; year 100 of 455, 355 left;
    # one Customer Account Plan of 'Twice Monthly' in 2026-M01.
    contract = write_contract(tmp_path / "c1.toml", make_contract())
    records = write_records(tmp_path / "r.jsonl", OVER + [delivery("d1", "2026-01-09", "customer_account_plan")])
    result = runner.invoke(main, ["entitlements", str(contract), "--records", str(records),
                                  "--as-of", "2026-02-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "C-1 Customer C-1 (liveperson-cso@1.0), term 2026-01-01..2026-12-31, as of 2026-01-31" in out
    assert "package p1: premier; lines of business: a" in out
    assert "hours quarter  2026-Q1  used     100 of 113, left 13" in out
    assert "hours year     2026     used     100 of 455, left 355" in out
    assert "2026-M01: used 1 of 2, left 1" in out
    assert "not included: " in out and "monthly_business_review" in out
    assert "support channels: web, chat, phone; not included: messaging, email, tier2_direct" in out


def test_entitlements_json(runner, tmp_path):
    # Expert: 36 h operational consulting allowance (Table 3), 10 h used -> 26 left;
    # 50 h Solutions Engineering (Table 4), 12 h used -> 38 left.
    contract = write_contract(tmp_path / "c1.toml", make_contract(tier="expert"))
    records = write_records(tmp_path / "r.jsonl", [
        work("w1", "2026-03-01", 10, service="discretionary_operational_consulting"),
        work("w2", "2026-03-02", 12, service="integrations"),
    ])
    result = runner.invoke(main, ["entitlements", str(contract), "--records", str(records),
                                  "--as-of", "2026-03-15T12:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output
    [package] = json.loads(result.stdout)["packages"]
    assert package["hours"]["quarter"] == {"period": "2026-Q1", "cap": 246.0, "used": 22.0, "left": 224.0}
    allowances = {a["id"]: (a["hours"], a["used"], a["left"]) for a in package["allowances"]}
    assert allowances == {"operational_consulting": (36.0, 10.0, 26.0), "solutions_engineering": (50.0, 12.0, 38.0)}
    assert package["channels"]["messaging"] is True and package["channels"]["email"] is False


def test_entitlements_of_a_missing_contract_exits_2(runner, tmp_path):
    assert_exit_2(runner.invoke(main, ["entitlements", str(tmp_path / "nope.toml")]), "no such file or folder", one_line=True)


# ---------------------------------------------------------------- policies


def test_policies_list(runner):
    result = runner.invoke(main, ["policies", "list"])
    assert result.exit_code == 0
    assert result.stdout.startswith("liveperson-cso@1.0  ")


def test_policies_show(runner):
    result = runner.invoke(main, ["policies", "show", "liveperson-cso@1.0"])
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("liveperson-cso@1.0: LivePerson Customer Success Offerings (CSO) Terms and Conditions")
    # Section 1 hours per quarter / per year
    for tier, quarter, year in [("foundations", 25, 100), ("fundamentals", 65, 260), ("premier", 113, 455),
                                ("expert", 246, 985), ("strategic", 500, 2000)]:
        assert f"{quarter} h/quarter" in out.split(tier, 1)[1].splitlines()[0]
        assert f"{year} h/year" in out.split(tier, 1)[1].splitlines()[0]
    # every reading I-n, with the policy parameter that holds it
    assert "I-1 (entitlement.periods.anchor)" in out
    assert "I-2 (entitlement.allowances.solutions_engineering.scope)" in out
    for reading in ("I-3", "I-4", "I-5", "I-6"):
        assert f"{reading} (" in out


def test_policies_show_needs_a_ref(runner):
    assert_exit_2(runner.invoke(main, ["policies", "show"]), "ID@VERSION")


def test_policies_show_unknown_version(runner):
    assert_exit_2(runner.invoke(main, ["policies", "show", "liveperson-cso@0.9"]),
                       "unknown policy 'liveperson-cso@0.9'", one_line=True)


def test_policies_list_includes_extra_policy_folders(runner, tmp_path):
    shutil.copytree(Path(POLICY_ROOT) / "liveperson-cso" / "1.0", tmp_path / "acme-cso" / "2.0")
    result = runner.invoke(main, ["policies", "list", "--policies", str(tmp_path)])
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["acme-cso@2.0", "liveperson-cso@1.0",
                                                                       "liveperson-cso@1.1"]


# ---------------------------------------------------------------- audit: --waivers (SPEC §5)


def waiver_file(tmp_path, record="w2", expires="2026-12-31") -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(
        "[[waiver]]\n"
        'rule = "entitlement.quarterly_*"\n'
        'contract = "C-1"\n'
        f'record = "{record}"\n'
        'reason = "Q1 launch support agreed in the steering meeting"\n'
        'approved_by = "finance@example.com"\n'
        f"expires = {expires}\n"
    )
    return path


def test_waived_finding_is_reported_but_never_fails(runner, make_workspace, tmp_path):
    # OVER_BILLED leaves only the quarterly-hours warning (w2, 7 h); waived, --fail-on warning passes.
    root = make_workspace([make_contract()], OVER_BILLED)
    result = audit(runner, root, "--waivers", waiver_file(tmp_path), "--fail-on", "warning", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [f] = document["findings"]
    assert (f["rule"], f["record"]) == ("entitlement.quarterly_hours", "w2")
    assert f["waiver"]["reason"] == "Q1 launch support agreed in the steering meeting"
    assert document["summary"]["waived"] == 1


@pytest.mark.parametrize(
    ("as_of", "expired"),
    [
        ("2026-12-31T04:59:59Z", False),  # 2026-12-30 23:59:59 in New York: still the expires day
        ("2026-12-31T05:00:00Z", True),  # 2026-12-31 00:00 in New York: the day after
    ],
)
def test_waiver_expires_after_its_day_in_the_contract_time_zone(runner, make_workspace, tmp_path, as_of, expired):
    root = make_workspace([make_contract()], OVER_BILLED)
    result = runner.invoke(main, ["audit", str(root), "--waivers", str(waiver_file(tmp_path, expires="2026-12-30")),
                                  "--as-of", as_of, "--format", "json", "--fail-on", "warning"])
    rules = sorted(f["rule"] for f in json_findings(result))
    if expired:
        assert rules == ["entitlement.quarterly_hours", "waiver.expired"]
        assert result.exit_code == 1
    else:
        assert rules == ["entitlement.quarterly_hours"]
        assert result.exit_code == 0


def test_waiver_matching_nothing_is_unused(runner, make_workspace, tmp_path):
    root = make_workspace([make_contract()], OVER_BILLED)
    result = audit(runner, root, "--waivers", waiver_file(tmp_path, record="w9"), "--format", "json")
    findings = {f["rule"]: f for f in json_findings(result)}
    assert set(findings) == {"entitlement.quarterly_hours", "waiver.unused"}
    assert findings["entitlement.quarterly_hours"]["waiver"] is None
    assert findings["waiver.unused"]["level"] == "warning"
    assert "matches no finding" in findings["waiver.unused"]["message"]
