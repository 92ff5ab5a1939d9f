"""Issue 17: input is validated at the edge, never in a rule; reports are strict JSON and valid SARIF.

- Dates and timestamps of records, contracts and policy data lie in 1900-01-01..2199-12-31
  (``cso_policy.core.convert.SUPPORTED``); anything else is ``input.invalid_record`` naming
  the field (a record) or a one-line error (a contract), and never crashes a rule.
- Numbers are finite and of magnitude below 1,000,000,000 (``convert.MAX_NUMBER``), so no sum
  can reach inf; nan/inf in a contract or policy TOML is a one-line error naming file and key.
- A policy whose tables leave out a tier the core module names is a one-line error.
- SARIF ``artifactLocation.uri`` is percent-encoded (RFC 3986) and the log validates against
  the SARIF 2.1.0 schema.

Workspaces: ``EX-2026`` (the example contract, Premier for ``retail``, 113 h/quarter) holds
the bad records; ``OTHER`` (the same terms) holds 500 h of good work and must report the
same findings whether or not the bad records are in the run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.core import convert
from cso_policy.core.model import Contract
from cso_policy.policy.registry import builtin_policy_root
from cso_policy.testing import Workspace, contract_data
from tests.conftest import assert_exit_2

AS_OF = "2027-01-01T00:00:00Z"
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
RANGE = "expected a date between 1900-01-01 and 2199-12-31"
SERVICE = "general_account_consulting"

GOOD = [{"kind": "work", "id": "o1", "contract": "OTHER", "date": "2026-01-05", "lob": "retail", "hours": 500,
         "service": SERVICE}]
CRASHES = {
    # a ticket opened on 0001-01-01 crashed entitlement.outside_term
    "ticket_year_1": {"kind": "ticket", "id": "t0", "lob": "retail", "severity": "P3", "channel": "web",
                      "opened_at": "0001-01-01T00:00:00Z"},
    # an expense approved in year 0001 crashed billing.expense_unapproved
    "expense_year_1": {"kind": "expense", "id": "e0", "date": "2026-02-01", "lob": "retail", "amount": 10.0,
                       "currency": "USD", "approved_at": "0001-06-01T00:00:00Z"},
    # a ticket update in 9999 crashed the four SLA clock rules
    "update_year_9999": {"kind": "ticket", "id": "t9", "lob": "retail", "severity": "P1", "channel": "web",
                         "opened_at": "2026-01-05T09:00:00Z", "first_response_at": "2026-01-05T09:10:00Z",
                         "updates": ["2026-01-05T10:00:00Z", "9999-12-31T00:00:00Z"],
                         "resolved_at": "2026-01-06T09:00:00Z"},
}
FIELDS = {"ticket_year_1": "$.opened_at", "expense_year_1": "$.approved_at", "update_year_9999": "$.updates[1]"}


def strict_json(text: str):
    """The report parsed as strict JSON: NaN, Infinity and -Infinity fail the test."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


def workspace(root: Path, records: list[dict], name: str = "records.jsonl", **contract) -> Workspace:
    ws = Workspace(root)
    ws.contract(**contract)
    ws.contract(id="OTHER")
    ws.records(records, name=name)
    return ws


def run(ws: Workspace, *args: str):
    return CliRunner().invoke(main, ["audit", "--contracts", str(ws.root / "contracts"),
                                     "--records", str(ws.record_files[0]), "--as-of", AS_OF, *args])


def findings_of(report: dict, contract: str) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "source"} for f in report["findings"] if f["contract"] == contract]


@pytest.fixture
def other_findings(tmp_path) -> list[dict]:
    """The OTHER contract's findings when the run holds nothing bad."""
    result = run(workspace(tmp_path / "clean", GOOD), "--format", "json")
    assert result.exit_code == 1, result.output
    found = findings_of(strict_json(result.stdout), "OTHER")
    assert {f["rule"] for f in found} >= {"entitlement.quarterly_hours"}
    return found


# ------------------------------------------------------------------ dates and timestamps


@pytest.mark.parametrize("case", sorted(CRASHES))
def test_out_of_range_timestamp_is_an_invalid_record_not_a_crash(tmp_path, other_findings, case):
    result = run(workspace(tmp_path / "ws", GOOD + [CRASHES[case]]), "--format", "json")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    report = strict_json(result.stdout)
    bad = [f for f in report["findings"] if f["contract"] == "EX-2026"]
    assert [f["rule"] for f in bad] == ["input.invalid_record"], bad
    assert f"{FIELDS[case]}: {RANGE}" in bad[0]["message"]
    assert findings_of(report, "OTHER") == other_findings


def test_all_three_crash_cases_in_one_run_as_text(tmp_path, other_findings):
    result = run(workspace(tmp_path / "ws", GOOD + list(CRASHES.values())))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout.count(RANGE) == 3
    for field in FIELDS.values():  # the text report names a field without its "$."
        assert f"field {field[2:]}: {RANGE}" in result.stdout


@pytest.mark.parametrize("value, ok", [
    ("1900-01-01", True), ("2199-12-31", True), ("1899-12-31", False), ("2200-01-01", False), ("0001-01-01", False),
    ("9999-12-31", False),
])
def test_supported_date_range_bounds(value, ok):
    assert convert.SUPPORTED == (convert.date(1900, 1, 1), convert.date(2199, 12, 31))
    if ok:
        assert convert._date(value, convert.date).isoformat() == value
        assert convert._datetime(f"{value}T12:00:00+00:00", convert.datetime).date().isoformat() == value
    else:
        for fn, text in ((convert._date, value), (convert._datetime, f"{value}T12:00:00+00:00")):
            with pytest.raises(convert.FieldError, match=RANGE):
                fn(text, None)


def test_contract_term_out_of_range_is_a_one_line_error(tmp_path):
    ws = workspace(tmp_path / "ws", GOOD, term={"start": "0001-01-01", "end": "2026-12-31"})
    # toml_text writes the string; the contract loader reads it as a date string
    result = run(ws)
    assert_exit_2(result, "EX-2026.toml", "$.term.start", RANGE, one_line=True)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("record, field", [
    ({"kind": "work", "id": "w1", "date": "2026-01-05", "lob": "retail", "hours": 1e308, "service": SERVICE}, "$.hours"),
    ({"kind": "work", "id": "w2", "date": "2026-01-05", "lob": "retail", "hours": 1e9, "service": SERVICE}, "$.hours"),
    ({"kind": "invoice_line", "id": "i1", "lob": "retail", "period": "2026-Q1", "item": "overage_hours", "quantity": 1e308,
      "rate": 240.0, "amount": 240.0, "currency": "USD"}, "$.quantity"),
])
def test_huge_numbers_are_invalid_records_and_the_report_is_strict_json(tmp_path, other_findings, record, field):
    # two records of 1e308 would sum to inf: each is rejected on its own
    twice = [record, {**record, "id": record["id"] + "b"}]
    result = run(workspace(tmp_path / "ws", GOOD + twice), "--format", "json")
    assert result.exit_code == 1, result.output
    report = strict_json(result.stdout)
    bad = [f for f in report["findings"] if f["contract"] == "EX-2026"]
    assert [f["rule"] for f in bad] == ["input.invalid_record"] * 2
    assert all(f"{field}: expected a number below 1,000,000,000" in f["message"] for f in bad)
    assert findings_of(report, "OTHER") == other_findings
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout


@pytest.mark.parametrize("value, ok", [
    (999_999_999, True), (-999_999_999.5, True), (1e9, False), (-1e9, False), (10**400, False),
    (float("nan"), False), (float("inf"), False), (float("-inf"), False),
])
def test_number_bounds(value, ok):
    if ok:
        assert convert._float(value, float) == float(value)
    else:
        with pytest.raises(convert.FieldError, match="expected a (finite number|number below 1,000,000,000)"):
            convert._float(value, float)


@pytest.mark.parametrize("rate", ["nan", "inf", "-inf", "1e308"])
def test_contract_rate_not_finite_is_a_one_line_error(tmp_path, rate):
    ws = workspace(tmp_path / "ws", GOOD)
    path = ws.contract_files[0]
    text = path.read_text(encoding="utf-8").replace("rate = 240.0", f"rate = {rate}")
    assert f"rate = {rate}" in text
    path.write_text(text, encoding="utf-8")
    result = run(ws, "--format", "json")
    assert_exit_2(result, "EX-2026.toml", "$.overage.rate", one_line=True)
    assert result.stdout == ""


def test_contract_rate_structures_finite():
    data = contract_data()
    for bad in (float("nan"), float("inf"), 1e308):
        data["overage"]["rate"] = bad
        with pytest.raises(convert.StructureError, match=r"\$\.overage\.rate"):
            convert.structure(data, Contract)


# ------------------------------------------------------------------ policy data


def policy_copy(tmp_path: Path, edit: dict[str, tuple[str, str]]) -> Path:
    """A copy of liveperson-cso 1.1 as liveperson-cso@9.9, each file's (old, new) replaced once."""
    root = tmp_path / "policies"
    folder = root / "liveperson-cso" / "9.9"
    shutil.copytree(builtin_policy_root() / "liveperson-cso" / "1.1", folder)
    for name, (old, new) in edit.items():
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def run_policy(tmp_path: Path, root: Path):
    ws = workspace(tmp_path / "ws", GOOD, policy="liveperson-cso@9.9", tier="strategic")
    return run(ws, "--policies", str(root))


@pytest.mark.parametrize("file, old, new, key", [
    ("entitlement.toml", "strategic = 500 }", "strategic = nan }", "$.hours.per_quarter['strategic']"),
    ("entitlement.toml", "strategic = 2000 }", "strategic = inf }", "$.hours.per_year['strategic']"),
    ("expansion.toml", "advanced = { hours = 120 }", "advanced = { hours = -inf }", "$.packs"),
    ("sla.toml", "day_hours = 24", "day_hours = nan", "$.units.day_hours"),
])
def test_policy_nan_inf_is_a_one_line_error_naming_file_and_key(tmp_path, file, old, new, key):
    result = run_policy(tmp_path, policy_copy(tmp_path, {file: (old, new)}))
    assert_exit_2(result, f"liveperson-cso/9.9/{file}", key, one_line=True)
    assert "finite" in result.stderr


@pytest.mark.parametrize("old, new, key", [
    ("strategic = 500 }", "}", "$.hours.per_quarter"),
    ("strategic = 2000 }", "}", "$.hours.per_year"),
])
def test_policy_missing_a_tier_is_a_one_line_error(tmp_path, old, new, key):
    root = policy_copy(tmp_path, {"entitlement.toml": (", " + old, " " + new)})
    result = run_policy(tmp_path, root)
    assert_exit_2(result, "liveperson-cso/9.9/entitlement.toml", key, "strategic", one_line=True)


def test_expansion_pack_of_a_tier_must_be_defined(tmp_path):
    root = policy_copy(tmp_path, {"expansion.toml": ("advanced = { hours = 120 }\n", "")})
    result = run_policy(tmp_path, root)
    assert_exit_2(result, "liveperson-cso/9.9/expansion.toml", "$.tiers.strategic.pack", "advanced", one_line=True)


def test_expansion_unknown_tier_is_a_one_line_error(tmp_path):
    root = policy_copy(tmp_path, {"expansion.toml": ("\nstrategic = {", "\nstrategik = {")})
    result = run_policy(tmp_path, root)
    assert_exit_2(result, "liveperson-cso/9.9/expansion.toml", "$.tiers", "strategik", one_line=True)


def test_policy_copy_unchanged_still_audits(tmp_path):
    result = run_policy(tmp_path, policy_copy(tmp_path, {}))
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ SARIF


@pytest.mark.parametrize("name", [
    "with space.jsonl", "a<b>.jsonl", "pipe|d.jsonl", "100%.jsonl", "hash#1.jsonl", "données é.jsonl",
    "all of <them> |%# ü.jsonl",
])
def test_sarif_uri_is_percent_encoded_and_valid(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    ws = workspace(Path("ws dir"), GOOD, name=name)
    result = run(ws, "--format", "sarif")
    assert result.exit_code == 1, result.output
    log = strict_json(result.stdout)
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(log)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"] for loc in r.get("locations", [])}
    expected = quote(f"ws dir/records/{name}", safe="/")
    assert uris == {expected}
    assert not any(c in expected for c in ' <>|#"') and expected.isascii()
    assert expected.count("%") >= 2


def test_sarif_uri_outside_the_working_directory_is_a_file_uri(tmp_path, monkeypatch):
    from cso_policy.reports.sarif import _uri

    monkeypatch.chdir(tmp_path)
    assert _uri("rel dir/a|b.jsonl") == "rel%20dir/a%7Cb.jsonl"
    assert _uri(str(tmp_path / "x y.jsonl")) == "x%20y.jsonl"
    assert _uri("/elsewhere/x y#.jsonl") == "file:///elsewhere/x%20y%23.jsonl"
    assert _uri("c:x.jsonl") == "c%3Ax.jsonl"  # not a scheme


@pytest.mark.parametrize("old, new, message", [
    ("response = { hours = 1 }", "response = { hours = 999999 }", "expected at most 87,840 hours (10 years)"),
    ("day_hours = 24", "day_hours = 99999999", "expected at most 87,840 hours (10 years)"),
])
def test_sla_target_beyond_ten_years_is_a_one_line_error(tmp_path, old, new, message):
    """A target added to a timestamp of 2199 must not overflow a clock rule."""
    result = run_policy(tmp_path, policy_copy(tmp_path, {"sla.toml": (old, new)}))
    assert_exit_2(result, "liveperson-cso/9.9/sla.toml", "$.targets.", message, one_line=True)


def test_sla_business_days_beyond_ten_years_is_a_one_line_error(tmp_path):
    result = run_policy(tmp_path, policy_copy(tmp_path, {"sla.toml": ("rca = { business_days = 3 }",
                                                                      "rca = { business_days = 99999 }")}))
    assert_exit_2(result, "liveperson-cso/9.9/sla.toml", ".rca.business_days", "expected at most 3,660 business days",
                  one_line=True)


def test_timestamps_at_the_edge_of_the_range_are_computed_on(tmp_path, other_findings):
    """The last supported day, with a local offset that puts the instant in 2200 UTC: every rule
    computes on it (the ticket is outside the contract term, and no rule fails)."""
    edge = {"kind": "ticket", "id": "t-edge", "lob": "retail", "severity": "P1", "channel": "web",
            "opened_at": "2199-12-31T20:00:00-05:00", "updates": ["2199-12-31T21:00:00-05:00"],
            "first_response_at": "2199-12-31T20:30:00-05:00", "resolved_at": "2199-12-31T23:59:59-05:00"}
    early = {**edge, "id": "t-early", "opened_at": "1900-01-01T00:00:00+14:00", "updates": [],
             "first_response_at": None, "resolved_at": None}
    result = run(workspace(tmp_path / "ws", GOOD + [edge, early]), "--format", "json")
    assert result.exit_code == 1, result.output
    report = strict_json(result.stdout)
    rules = {f["rule"] for f in report["findings"] if f["contract"] == "EX-2026"}
    assert "entitlement.outside_term" in rules, rules
    assert not any(r.startswith(("input.", "plugin.", "rule.")) for r in rules), "\n".join(f["rule"] + ": " + f["message"] for f in report["findings"] if f["rule"].startswith("input."))
    assert findings_of(report, "OTHER") == other_findings


@pytest.mark.parametrize("period", ["2026-Q²", "²⁰²⁶-Q1", "２０２６-Q1", "2026-Q١", "9999-Q1", "2026-M1²"])
def test_a_period_with_digits_that_are_not_ascii_is_an_invalid_record(tmp_path, other_findings, period):
    """``"²".isdigit()`` is true but ``int("²")`` raises: such a period once ended the whole run."""
    line = {"kind": "invoice_line", "id": "i-odd", "lob": "retail", "period": period, "item": "overage_hours",
            "quantity": 1, "rate": 240.0, "amount": 240.0, "currency": "USD"}
    result = run(workspace(tmp_path / "ws", GOOD + [line]), "--format", "json")
    assert result.exit_code == 1, result.output
    report = strict_json(result.stdout)
    (bad,) = [f for f in report["findings"] if f["contract"] == "EX-2026"]
    assert bad["rule"] == "input.invalid_record" and f"$.period: expected a contract period like 2026-Q1" in bad["message"]
    assert findings_of(report, "OTHER") == other_findings
