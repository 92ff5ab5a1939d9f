"""`cso-policy test`: rule examples and case folders, pass/fail per case, JUnit, exit 0/1/2.

The worked case: contract C-1, one Premier package for LOB "a" (113 h per contract quarter,
Section 1), term 2026. Work w1 60 h on 2026-01-05 and w2 60 h on 2026-02-02 are both in
contract Q1: 60 + 60 = 120 h > 113 h, so w2 crosses the quarterly cap (7 h over), and with no
invoice line the 7 h are unbilled overage.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from cso_policy.cli import main
from tests.conftest import assert_exit_2, make_contract, work, write_contract, write_records

RECORDS = [work("w1", "2026-01-05", 60), work("w2", "2026-02-02", 60)]
PASSING = """\
as_of = 2026-12-31T00:00:00Z

[[must]]
rule = "entitlement.quarterly_hours"
record = "w2"
period = "2026-Q1"
count = 1

[[must]]
rule = "billing.overage_*"

[[must_not]]
rule = "billing.included_item_billed"
"""


def make_case(folder, expect: str, name: str = "expect.toml", records=RECORDS):
    write_contract(folder / "contracts" / "C-1.toml", make_contract())
    write_records(folder / "records" / "records.jsonl", records)
    (folder / name).write_text(expect, encoding="utf-8")
    return folder


def test_case_folder_that_gives_what_it_expects_passes(runner, tmp_path):
    make_case(tmp_path / "cases" / "q1-overage", PASSING)
    result = runner.invoke(main, ["test", str(tmp_path / "cases")])
    assert result.exit_code == 0, result.output
    assert f"PASS  {tmp_path / 'cases' / 'q1-overage'}" in result.output
    assert result.output.endswith("1 passed, 0 failed\n")


def test_case_folder_that_misses_a_finding_fails_and_says_what_was_found(runner, tmp_path):
    make_case(tmp_path / "good", PASSING)
    make_case(tmp_path / "bad", '[[must]]\nrule = "entitlement.quarterly_hours"\nrecord = "w1"\n'
                                '[[must_not]]\nrule = "billing.overage_unbilled"\n')
    result = runner.invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"FAIL  {tmp_path / 'bad'}" in result.output
    assert "must give entitlement.quarterly_hours record w1: found 0" in result.output
    assert "entitlement.quarterly_hours w2" in result.output  # what was found instead
    assert "must not give billing.overage_unbilled: found w2:" in result.output
    assert result.output.endswith("1 passed, 1 failed\n")


def test_expect_json_and_a_count_that_differs(runner, tmp_path):
    expect = {"as_of": "2026-12-31T00:00:00Z", "must": [{"rule": "entitlement.quarterly_hours", "count": 2}]}
    make_case(tmp_path / "c", json.dumps(expect), name="expect.json")
    result = runner.invoke(main, ["test", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "must give entitlement.quarterly_hours x2: found 1" in result.output


def test_junit_output_has_one_case_per_folder(runner, tmp_path):
    make_case(tmp_path / "a", PASSING)
    make_case(tmp_path / "b", '[[must]]\nrule = "sla.response"\n')
    out = tmp_path / "results.xml"
    result = runner.invoke(main, ["test", str(tmp_path), "--format", "junit", "--output", str(out)])
    assert result.exit_code == 1 and result.output == ""
    suites = ET.parse(out).getroot()
    assert (suites.get("tests"), suites.get("failures")) == ("2", "1")
    cases = suites.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert cases[0].find("failure") is None
    assert "must give sla.response: found 0" in cases[1].find("failure").get("message")


@pytest.mark.parametrize(("expect", "message"), [
    ("[[must]]\nrul = 'x'\n", "expect.toml $.must[0]"),
    ("nonsense", "invalid TOML"),
    ("as_of = 2026-12-31T00:00:00Z\n", "a case names findings it must or must not give"),
])
def test_a_broken_expect_file_is_exit_2_with_one_line(runner, tmp_path, expect, message):
    make_case(tmp_path / "c", expect)
    assert_exit_2(runner.invoke(main, ["test", str(tmp_path / "c")]), message, one_line=True)


def test_no_case_folder_is_exit_2(runner, tmp_path):
    assert_exit_2(runner.invoke(main, ["test", str(tmp_path)]), "no case folders", one_line=True)


PLUGIN = '''
from cso_policy import Level, Violation, fails, hookimpl, passes, rule

def _work(id, hours):
    return {"kind": "work", "id": id, "date": "2026-02-03", "lob": "retail", "hours": hours,
            "service": "general_account_consulting"}

@rule("acme.long_work", "Work entries over 10 h", "Addendum 2", Level.WARNING, kinds=("work",), examples=[
    fails(_work("w1", 10.5), flags=["w1"], note="10.5 h > 10 h"),
    passes(_work("w1", 10), note="10 h is allowed"),
    fails(_work("w2", 9), flags=["w2"], note="a wrong example: 9 h is allowed"),
])
def long_work(record, contract, pool, audit):
    if record.hours > 10:
        yield Violation(record=record, message=f"{record.hours:g} h in one entry")

@hookimpl
def cso_policy_rules():
    return [long_work]
'''


def test_rule_examples_of_a_plugin_run_and_a_wrong_one_fails(runner, tmp_path):
    plugin = tmp_path / "acme_rules.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    result = runner.invoke(main, ["--plugin", str(plugin), "test", "--select", "acme.*"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["PASS  acme.long_work example 1 (fails)", "PASS  acme.long_work example 2 (passes)"]
    assert lines[2] == "FAIL  acme.long_work example 3 (fails)"
    assert "should flag ['w2'], got nothing" in lines[3]
    assert lines[-1] == "2 passed, 1 failed"


def test_built_in_rule_examples_pass(runner):
    result = runner.invoke(main, ["test", "--select", "entitlement.quarterly_hours", "--select", "sla.response"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output.splitlines()[-1]
