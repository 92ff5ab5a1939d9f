"""Issue 16, items 4 and 8: `entitlements CONTRACT-ID [WORKSPACE]`, `explain` of an unknown target
or of a rule without findings, and lint's did-you-mean for time zones and holiday regions and its
one line for a clean run; through click's CliRunner, exit code and output.

The workspace: contract C-1 (one Premier package p1 for LOB "a", 2026, 113 h per contract quarter,
455 h per contract year, Section 1; overage agreed at USD 240/h in SOW-114) and two work records,
w1 100 h on 2026-01-05 and w2 20 h on 2026-02-05.
"""

from __future__ import annotations

import json

import pytest

from cso_policy.cli import main
from tests.conftest import assert_exit_2, contract_toml, make_contract, work, write_contract, write_records

AS_OF = "2026-12-31T00:00:00Z"
RECORDS = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20)]
NO_RECORDS = "no records given: used 0 shows nothing was read"


@pytest.fixture
def ws(make_workspace):
    return make_workspace([make_contract(), make_contract("C-2", tier="expert")], RECORDS)


# ---------------------------------------------------------------- entitlements


def test_entitlements_of_a_contract_id_uses_the_workspace_records(runner, ws):
    # as of 2026-02-01 (2026-01-31 in New York) only w1 is used: Q1 100 of 113 h, 13 left
    result = runner.invoke(main, ["entitlements", "C-1", str(ws), "--as-of", "2026-02-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("C-1 Customer C-1 (liveperson-cso@1.0), term 2026-01-01..2026-12-31, as of 2026-01-31\n")
    assert "hours quarter  2026-Q1  used     100 of 113, left 13" in result.stdout
    assert NO_RECORDS not in result.stdout


def test_entitlements_workspace_defaults_to_the_current_folder(runner, ws, monkeypatch):
    # w1 + w2 = 120 h in Q1 > 113 h: none left
    monkeypatch.chdir(ws)
    result = runner.invoke(main, ["entitlements", "C-1", "--as-of", "2026-03-01T00:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert table["contract"] == "C-1" and "note" not in table
    assert table["packages"][0]["hours"]["quarter"]["used"] == 120.0


def test_entitlements_records_option_replaces_the_workspace_records(runner, ws, tmp_path):
    # only w3 (30 h) is read, not the workspace's w1 and w2
    other = write_records(tmp_path / "other.jsonl", [work("w3", "2026-01-07", 30)])
    result = runner.invoke(main, ["entitlements", "C-1", str(ws), "--records", str(other), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "hours year     2026     used      30 of 455, left 425" in result.stdout


def test_entitlements_of_a_contract_file_with_the_workspace_records(runner, ws, tmp_path):
    # the file is read as given; the records are the workspace's (w1 + w2 = 120 h of 455 h)
    contract = write_contract(tmp_path / "elsewhere" / "c1.toml", make_contract())
    result = runner.invoke(main, ["entitlements", str(contract), str(ws), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "hours year     2026     used     120 of 455, left 335" in result.stdout


def test_entitlements_of_an_unknown_id_is_one_line_with_did_you_mean(runner, ws):
    result = runner.invoke(main, ["entitlements", "C-11", str(ws)])
    assert_exit_2(result, "no contract 'C-11' in ", "cso-policy.toml; did you mean 'C-1'?", one_line=True)
    assert result.stdout == ""


def test_entitlements_of_an_unknown_id_lists_the_contracts_when_none_is_close(runner, ws):
    result = runner.invoke(main, ["entitlements", "ZZZZZZ", str(ws)])
    assert_exit_2(result, "no contract 'ZZZZZZ'", "(its contracts: C-1, C-2)", one_line=True)


def test_entitlements_of_an_id_without_a_workspace_says_to_give_one(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no cso-policy.toml here
    result = runner.invoke(main, ["entitlements", "AC-2026"])
    assert_exit_2(result, "'AC-2026' is not a contract file", "give a WORKSPACE folder with a cso-policy.toml",
                  one_line=True)


def test_entitlements_without_records_says_so(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    contract = write_contract(tmp_path / "c1.toml", make_contract())
    result = runner.invoke(main, ["entitlements", str(contract), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == NO_RECORDS  # right under the contract line
    assert "hours year     2026     used       0 of 455, left 455" in result.stdout
    as_json = runner.invoke(main, ["entitlements", str(contract), "--as-of", AS_OF, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["note"] == NO_RECORDS


def test_entitlements_help_names_contract_and_workspace(runner):
    result = runner.invoke(main, ["entitlements", "--help"])
    assert result.exit_code == 0
    assert "entitlements [OPTIONS] CONTRACT [WORKSPACE]" in result.stdout
    assert "contract id of WORKSPACE" in " ".join(result.stdout.split())


# ---------------------------------------------------------------- explain


def test_explain_unknown_rule_exits_2_with_did_you_mean(runner, ws):
    result = runner.invoke(main, ["explain", "entitlement.quartrly_hours", str(ws), "--as-of", AS_OF])
    assert_exit_2(result, "'entitlement.quartrly_hours' matches no rule id (or glob) and no record id of this run",
                  "did you mean 'entitlement.quarterly_hours'?", one_line=True)
    assert result.stdout == ""


def test_explain_nonsense_exits_2_without_a_guess(runner, ws):
    result = runner.invoke(main, ["explain", "nonsense.rule", str(ws), "--as-of", AS_OF])
    assert_exit_2(result, "'nonsense.rule' matches no rule id (or glob) and no record id", one_line=True)
    assert "did you mean" not in result.stderr


def test_explain_unknown_record_suggests_a_record_of_the_run(runner, ws):
    result = runner.invoke(main, ["explain", "w2x", str(ws), "--as-of", AS_OF])
    assert_exit_2(result, "did you mean 'w2'?", one_line=True)


def test_explain_a_record_of_the_run_without_findings_exits_0(runner, ws):
    # w1 (100 h <= 113 h) crosses no cap: it is a record of the run, with no finding
    result = runner.invoke(main, ["explain", "w1", str(ws), "--as-of", AS_OF])
    assert (result.exit_code, result.stdout) == (0, "no finding matches 'w1'\n")


def test_explain_a_rule_without_findings_from_its_clause_and_terms(runner, ws):
    # no tickets at all: sla.response gives no finding, and is explained from Table 8 and the terms
    rows = json.loads(runner.invoke(main, ["rules", "--format", "json"]).stdout)
    rule = next(r for r in rows if r["id"] == "sla.response")
    result = runner.invoke(main, ["explain", "sla.response", str(ws), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = text.splitlines()
    assert lines[0] == f"sla.response (error): {rule['title']}"
    assert lines[1].startswith("  what it checks: ")
    assert lines[2] == "  clause: Table 8 of liveperson-cso@1.0"
    assert lines[3].startswith('    Table 8: "')
    assert "  terms that apply:\n" in text
    assert ("    contract C-1 (Customer C-1), liveperson-cso@1.0, term 2026-01-01..2026-12-31, "
            "time zone America/New_York\n") in text
    assert "    overage rate USD 240.00/h agreed in SOW-114\n" in text
    assert "    package p1: premier, shared by a; 113 h per contract quarter, 455 h per contract year (Section 1)\n" in text
    assert "    contract C-2 (Customer C-2)" in text
    assert "    package p1: expert, shared by a; 246 h per contract quarter, 985 h per contract year (Section 1)\n" in text
    assert text.endswith("  no finding of this rule in this run\n\n")  # a blank line after each, as for findings
    assert "  finding:" not in text


def test_explain_glob_of_rules_without_findings(runner, ws):
    result = runner.invoke(main, ["explain", "sla.*", str(ws), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    heads = [block.split(" ", 1)[0] for block in result.stdout.strip("\n").split("\n\n")]
    assert "sla.response" in heads and "sla.resolution" in heads
    assert all(h.startswith("sla.") for h in heads)
    assert result.stdout.count("  no finding of this rule in this run\n") == len(heads)


def test_explain_help_and_usage_name_the_argument_alike(runner):
    result = runner.invoke(main, ["explain", "--help"])
    assert result.exit_code == 0
    assert "explain [OPTIONS] RULE-OR-RECORD [WORKSPACE]" in result.stdout
    assert "RULE-OR-RECORD is a rule id" in result.stdout
    assert "TARGET" not in result.stdout
    missing = runner.invoke(main, ["explain"])
    assert missing.exit_code == 2
    assert "Missing argument 'RULE-OR-RECORD'" in missing.stderr
    audit_help = runner.invoke(main, ["audit", "--help"])
    assert "--explain RULE-OR-RECORD" in audit_help.stdout


# ---------------------------------------------------------------- lint


GOOD = contract_toml(make_contract(holidays="US"))


def lint_text(runner, tmp_path, text: str, *args: str):
    path = write_contract(tmp_path / "c.toml", text)
    return path, runner.invoke(main, ["lint", str(path), *args])


@pytest.mark.parametrize(("given", "meant"), [
    ("Berlin", "Europe/Berlin"),  # a city: the zone whose last part it is
    ("New York", "America/New_York"),  # spaces for underscores
    ("europe/berlin", "Europe/Berlin"),  # the case
    ("America/New_Yrok", "America/New_York"),  # a typo in the full name
    ("Tokio", "Asia/Tokyo"),  # a typo in the city
])
def test_lint_time_zone_did_you_mean(runner, tmp_path, given, meant):
    path, result = lint_text(runner, tmp_path, GOOD.replace('"America/New_York"', f'"{given}"'))
    assert result.exit_code == 1, result.output
    assert (f"{path}:5:1: contract.timezone {given!r} is not an IANA time zone name; did you mean {meant!r}?\n"
            in result.stdout)


def test_lint_time_zone_without_a_close_zone_gives_an_example(runner, tmp_path):
    path, result = lint_text(runner, tmp_path, GOOD.replace('"America/New_York"', '"Mars/Olympus"'))
    assert result.exit_code == 1
    assert (f"{path}:5:1: contract.timezone 'Mars/Olympus' is not an IANA time zone name "
            "(e.g. America/New_York)\n") in result.stdout


@pytest.mark.parametrize(("given", "meant"), [("Germany", "DE"), ("us", "US"), ("Grmany", "DE")])
def test_lint_holiday_country_did_you_mean(runner, tmp_path, given, meant):
    path, result = lint_text(runner, tmp_path, GOOD.replace('holidays = "US"', f'holidays = "{given}"'))
    assert result.exit_code == 1, result.output
    assert (f"{path}:6:1: contract.holidays holiday country {given!r} is unknown to the holidays package; "
            f"did you mean {meant!r}?\n") in result.stdout


@pytest.mark.parametrize(("country", "given", "meant"), [
    ("US", "New York", "NY"), ("US", "ny", "NY"), ("US", "Nwe York", "NY"), ("DE", "Bayern", "BY")])
def test_lint_holiday_subdivision_did_you_mean(runner, tmp_path, country, given, meant):
    text = GOOD.replace('holidays = "US"', f'holidays = "{country}"\nholidays_subdiv = "{given}"')
    path, result = lint_text(runner, tmp_path, text)
    assert result.exit_code == 1, result.output
    assert f"{path}:7:1: contract.holidays subdivision {given!r} is not one of {country}'s: " in result.stdout
    assert f"; did you mean {meant!r}?\n" in result.stdout


def test_lint_clean_run_prints_one_line(runner, tmp_path):
    folder = tmp_path / "contracts"
    for contract_id in ("C-1", "C-2", "C-3"):
        write_contract(folder / f"{contract_id}.toml", make_contract(contract_id))
    result = runner.invoke(main, ["lint", str(folder)])
    assert (result.exit_code, result.output) == (0, "3 files checked, no problems\n")
    one = runner.invoke(main, ["lint", str(folder / "C-1.toml")])
    assert (one.exit_code, one.output) == (0, "1 file checked, no problems\n")


def test_lint_clean_run_in_json_and_sarif_is_unchanged(runner, tmp_path):
    path = write_contract(tmp_path / "c.toml", GOOD)
    as_json = runner.invoke(main, ["lint", str(path), "--format", "json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == {"findings": [], "summary": {"errors": 0, "warnings": 0}}
    sarif = runner.invoke(main, ["lint", str(path), "--format", "sarif"])
    assert sarif.exit_code == 0
    assert json.loads(sarif.stdout)["runs"][0]["results"] == []
    assert "checked" not in sarif.stdout


def test_lint_with_problems_keeps_its_summary_line(runner, tmp_path):
    path, result = lint_text(runner, tmp_path, GOOD.replace('"America/New_York"', '"Berlin"'))
    assert result.exit_code == 1
    assert result.stdout.endswith("1 error(s), 0 warning(s)\n")
    assert "no problems" not in result.stdout
