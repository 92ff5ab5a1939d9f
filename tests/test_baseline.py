"""`--baseline previous.json` (README "Reports, waivers and baselines"): only findings new since an
earlier json report, matched by a fingerprint of business keys (contract, rule, record id, period),
never by file line.

The standard workspace: contract C-1 (Premier package p1 for LOB "a", overage agreed at USD 240/h)
and OVER = w1 100 h (2026-01-05, line 1) + w2 20 h (2026-02-05, line 2) = 120 h in 2026-Q1 > 113 h
(Section 1): billing.overage_unbilled (error, 7 h x USD 240 = USD 1,680) and
entitlement.quarterly_hours (warning, 7 h), both at w2 = records.jsonl:2.
"""

from __future__ import annotations

import json

import pytest

from cso_policy.cli import main
from tests.conftest import assert_exit_2, delivery, make_contract, work, write_records

AS_OF = "2026-12-31T00:00:00Z"
OVER = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20)]
BASELINE_PAIRS = [("billing.overage_unbilled", "w2"), ("entitlement.quarterly_hours", "w2")]


@pytest.fixture
def ws(make_workspace):
    return make_workspace([make_contract()], OVER)


def audit(runner, root, *args):
    return runner.invoke(main, ["audit", str(root), "--as-of", AS_OF, "--format", "json", *map(str, args)])


def findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


@pytest.fixture
def baseline(runner, ws, tmp_path):
    """The json report of the standard workspace, as the baseline file."""
    path = tmp_path / "baseline.json"
    result = audit(runner, ws, "--output", path)
    assert result.exit_code == 1
    assert [(f["rule"], f["record"]) for f in findings_of(path)] == BASELINE_PAIRS
    return path


def findings_of(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["findings"]


def test_baseline_of_the_same_inputs_leaves_no_finding(runner, ws, baseline):
    result = audit(runner, ws, "--baseline", baseline)
    assert result.exit_code == 0, result.output  # the overage error is known, so it does not fail the run
    document = json.loads(result.stdout)
    assert document["findings"] == []
    assert document["summary"]["findings"] == 0
    assert document["summary"]["by_level"] == {"error": 0, "warning": 0, "info": 0}


def test_only_a_new_violation_is_reported(runner, ws, baseline):
    # monthly_business_review is Strategic only (Table 2): delivered to Premier it is entitlement.not_included
    write_records(ws / "records" / "records.jsonl", OVER + [delivery("d1", "2026-03-10", "monthly_business_review")])
    everything = findings(audit(runner, ws))
    assert sorted((f["rule"], f["record"]) for f in everything) == sorted(
        BASELINE_PAIRS + [("entitlement.not_included", "d1")])
    result = audit(runner, ws, "--baseline", baseline)
    assert result.exit_code == 1  # not_included is an error
    [new] = findings(result)
    assert (new["rule"], new["record"], new["source"].rpartition("/")[2]) == (
        "entitlement.not_included", "d1", "records.jsonl:3")
    assert json.loads(result.stdout)["summary"]["findings"] == 1


def test_a_record_moved_to_another_line_is_not_new(runner, ws, baseline):
    # Two deliveries inserted before w2 move it from line 2 to line 4. general_account_consulting
    # is "Included" for every tier (Table 2), so they add no finding and no hours.
    write_records(ws / "records" / "records.jsonl", [
        OVER[0],
        delivery("d1", "2026-01-10", "general_account_consulting"),
        delivery("d2", "2026-01-20", "general_account_consulting"),
        OVER[1],
    ])
    moved = findings(audit(runner, ws))
    old = findings_of(baseline)
    assert [(f["rule"], f["record"]) for f in moved] == BASELINE_PAIRS
    assert [f["source"].rpartition("/")[2] for f in old] == ["records.jsonl:2"] * 2
    assert [f["source"].rpartition("/")[2] for f in moved] == ["records.jsonl:4"] * 2  # the line did change
    assert [f["fingerprint"] for f in moved] == [f["fingerprint"] for f in old]  # the fingerprint did not
    result = audit(runner, ws, "--baseline", baseline)
    assert (result.exit_code, findings(result)) == (0, [])


def test_more_hours_in_the_same_quarter_are_not_a_new_finding(runner, ws, baseline):
    # w2 now 30 h: 130 h - 113 = 17 h over (was 7). Same contract, rule, record and period: not new.
    write_records(ws / "records" / "records.jsonl", [OVER[0], work("w2", "2026-02-05", 30)])
    assert [f["impact"]["hours"] for f in findings(audit(runner, ws))] == [17.0, 17.0]
    assert findings(audit(runner, ws, "--baseline", baseline)) == []


def test_the_same_record_in_another_period_is_new(runner, ws, baseline):
    # The fingerprint has the period: w2 moved to 2026-04-05 (Q2) and 120 h worked there -> a new
    # 2026-Q2 finding pair, while Q1 (100 h <= 113) has none.
    write_records(ws / "records" / "records.jsonl", [work("w1", "2026-04-01", 100), work("w2", "2026-05-05", 20)])
    result = audit(runner, ws, "--baseline", baseline)
    assert [(f["rule"], f["record"], f["period"]) for f in findings(result)] == [
        ("billing.overage_unbilled", "w2", "2026-Q2"), ("entitlement.quarterly_hours", "w2", "2026-Q2")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.sarif", None),  # the SARIF log of the same audit: JSON, but not a json report
        ("notes.txt", "findings: none\n"),  # not JSON
        ("list.json", "[1, 2, 3]\n"),
        ("strings.json", '{"findings": ["w2"]}\n'),
        ("no-rule.json", '{"findings": [{"record": "w2"}]}\n'),
    ],
)
def test_a_baseline_that_is_not_a_json_report_exits_2(runner, ws, tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        assert runner.invoke(main, ["audit", str(ws), "--as-of", AS_OF, "--format", "sarif",
                                    "--output", str(path)]).exit_code == 1
    else:
        path.write_text(content, encoding="utf-8")
    result = audit(runner, ws, "--baseline", path)
    assert_exit_2(result, f"{path}: not a cso-policy json report", one_line=True)
    assert result.stdout == ""


def test_a_missing_baseline_exits_2(runner, ws, tmp_path):
    result = audit(runner, ws, "--baseline", tmp_path / "nope.json")
    assert_exit_2(result, "nope.json: cannot read baseline", one_line=True)
