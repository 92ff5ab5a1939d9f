"""`cso-policy explain RULE-OR-RECORD` and `audit --explain` (README "Command line"): the rule, the clause
text, the contract terms that applied, the contributing records with the running total, and the
computed amount.

The worked overage case: contract C-1, one Premier package p1 for LOB "a" (113 h per contract quarter,
455 h per contract year, Section 1), term 2026-01-01..2026-12-31 so contract Q1 = Jan-Mar 2026, overage
agreed in writing at USD 240/h (SOW-114). Twelve work records of 10 h, w01..w12, one a week from
Monday 2026-01-05 to 2026-03-23 (all in Q1), records.jsonl lines 1..12. Running total:
  w01 10, w02 20, ..., w11 110 (<= 113), w12 120 (> 113): w12 crosses the cap.
  120 h - 113 h = 7 h over; 7 h x USD 240.00/h = USD 1,680.00.
Findings, both at w12: entitlement.quarterly_hours (warning) and billing.overage_unbilled (error,
nothing on the draft invoice).
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, timedelta

import pytest

from cso_policy.cli import main
from tests.conftest import POLICY_ROOT, expense, invoice, make_contract, work

AS_OF = "2026-12-31T00:00:00Z"
IDS = [f"w{n:02d}" for n in range(1, 13)]
RECORDS = [work(record_id, date(2026, 1, 5) + timedelta(weeks=i), 10) for i, record_id in enumerate(IDS)]
SECTION_1 = " ".join(tomllib.loads((POLICY_ROOT / "liveperson-cso" / "1.0" / "clauses.toml").read_text(
    encoding="utf-8"))["Section 1"].split())
ROW = re.compile(r"^    (\d{4}-\d\d-\d\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) h\s+running\s+(\S+) h(.*)$")


@pytest.fixture
def ws(make_workspace):
    assert [r["date"] for r in (RECORDS[0], RECORDS[-1])] == ["2026-01-05", "2026-03-23"]
    return make_workspace([make_contract()], RECORDS)


def sections(output: str) -> dict[str, str]:
    """One explanation per finding, separated by a blank line, keyed by the rule id that starts it."""
    out = {}
    for block in output.strip("\n").split("\n\n"):
        out[block.split(" ", 1)[0]] = block
    return out


def rule_title(runner, rule_id: str) -> str:
    rows = json.loads(runner.invoke(main, ["rules", "--format", "json"]).stdout)
    return next(r["title"] for r in rows if r["id"] == rule_id)


def assert_worked_overage(text: str, title: str) -> None:
    lines = text.splitlines()
    # the rule
    assert lines[0] == f"entitlement.quarterly_hours (warning): {title}"
    assert "  what it checks: " in text
    # the clause and its text, quoted from policies/liveperson-cso/1.0/clauses.toml
    assert "  clause: Section 1 of liveperson-cso@1.0\n" in text
    assert f'    Section 1: "{SECTION_1}"\n' in text
    # the terms that applied
    assert ("    contract C-1 (Customer C-1), liveperson-cso@1.0, term 2026-01-01..2026-12-31, "
            "time zone America/New_York\n") in text
    assert "    package p1: premier, shared by a; 113 h per contract quarter, 455 h per contract year (Section 1)\n" in text
    assert "    overage rate USD 240.00/h agreed in SOW-114\n" in text
    assert "  finding: w12 at " in text and "records.jsonl:12: " in text
    # the 12 contributing records with the running total 10, 20, ..., 120
    assert "  contributing work records (p1, 2026-Q1), in date order:\n" in text
    rows = [m.groups() for m in map(ROW.match, lines) if m]
    assert [r[1] for r in rows] == IDS
    assert [r[0] for r in rows] == [r["date"] for r in RECORDS]
    assert [float(r[4]) for r in rows] == [10.0] * 12
    assert [float(r[5]) for r in rows] == [10.0 * n for n in range(1, 13)]
    # only the 12th is marked: 110 h -> 120 h > 113 h
    assert [r[6].strip() for r in rows] == [""] * 11 + ["<- crossed 113 h"]
    # the computed amount
    assert "  computed: 120 h - 113 h = 7 h over; x USD 240.00/h = USD 1,680.00\n" in text + "\n"
    assert "  impact: 7 h, USD 1,680.00" in text


def test_explain_rule_works_the_overage_out(runner, ws):
    result = runner.invoke(main, ["explain", "entitlement.quarterly_hours", str(ws), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    found = sections(result.stdout)
    assert list(found) == ["entitlement.quarterly_hours"]  # only the rule asked for
    assert_worked_overage(found["entitlement.quarterly_hours"], rule_title(runner, "entitlement.quarterly_hours"))


def test_audit_explain_record_explains_every_finding_of_it(runner, ws):
    result = runner.invoke(main, ["audit", str(ws), "--as-of", AS_OF, "--explain", "w12"])
    assert result.exit_code == 1  # billing.overage_unbilled is an error: the exit code is the audit's
    found = sections(result.stdout)
    assert list(found) == ["billing.overage_unbilled", "entitlement.quarterly_hours"]
    assert_worked_overage(found["entitlement.quarterly_hours"], rule_title(runner, "entitlement.quarterly_hours"))
    # the billing finding has the same worked numbers: 7 h due, none invoiced
    billing = found["billing.overage_unbilled"]
    assert "7 overage hours due for 2026-Q1, 0 on the draft invoice: 7 h unbilled" in billing
    assert "  computed: 120 h - 113 h = 7 h over; x USD 240.00/h = USD 1,680.00" in billing


def test_explain_glob_and_no_match(runner, ws):
    both = runner.invoke(main, ["explain", "*.overage_*", str(ws), "--as-of", AS_OF])
    assert list(sections(both.stdout)) == ["billing.overage_unbilled"]
    # w11 (running total 110 <= 113) caused no finding
    none = runner.invoke(main, ["explain", "w11", str(ws), "--as-of", AS_OF])
    assert (none.exit_code, none.stdout) == (0, "no finding matches 'w11'\n")


def test_explain_without_an_agreed_rate_says_so(runner, make_workspace):
    # Same hours, no overage agreement: 7 h over, and no amount can be computed
    root = make_workspace([make_contract(overage=None)], RECORDS)
    result = runner.invoke(main, ["explain", "entitlement.quarterly_hours", str(root), "--as-of", AS_OF])
    text = sections(result.stdout)["entitlement.quarterly_hours"]
    assert "    no overage rate agreed in writing\n" in text
    assert "  computed: 120 h - 113 h = 7 h over\n" in text + "\n"
    assert "USD" not in text


def test_explain_allowance_lists_the_shared_solutions_engineering_work(runner, make_workspace):
    # Table 4 (I-2: one cap for all Solutions Engineering services): Premier 40 h a contract year.
    # s1 25 h integrations + s2 10 h segmentation_management = 35 h; general consulting g1 5 h
    # counts toward no allowance; s3 6 h integrations -> 41 h > 40 h: s3 crosses, 1 h over.
    records = [work("s1", "2026-02-02", 25, service="integrations"), work("g1", "2026-02-03", 5),
               work("s2", "2026-03-02", 10, service="segmentation_management"),
               work("s3", "2026-04-06", 6, service="integrations")]
    root = make_workspace([make_contract()], records)
    result = runner.invoke(main, ["explain", "entitlement.allowance_hours", str(root), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    text = sections(result.stdout)["entitlement.allowance_hours"]
    rows = [m.groups() for m in map(ROW.match, text.splitlines()) if m]
    assert [(r[1], float(r[5])) for r in rows] == [("s1", 25.0), ("s2", 35.0), ("s3", 41.0)]
    assert rows[-1][6].strip() == "<- crossed 40 h"
    assert "  computed: 41 h - 40 h = 1 h over; x USD 240.00/h = USD 240.00" in text


# ---------------------------------------------------------------- invoice lines checked as invoices
# Premier C-1: 100 h (w1) + 18.5 h (w2) in 2026-Q1 = 118.5 h -> 5.5 h over 113 h, billed on i1 as
# 5.5 h x USD 240.00 = USD 1,320.00 but with the amount USD 1,320.01: USD 0.01 more than quantity x rate.
INVOICED = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 18.5),
            invoice("i1", "overage_hours", quantity=5.5, amount=1320.01)]


def test_explain_amount_mismatch_works_out_quantity_times_rate(runner, make_workspace):
    root = make_workspace([make_contract()], INVOICED)
    result = runner.invoke(main, ["explain", "billing.amount_mismatch", str(root), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    found = sections(result.stdout)
    assert list(found) == ["billing.amount_mismatch"]
    text = found["billing.amount_mismatch"]
    lines = text.splitlines()
    assert lines[0] == f"billing.amount_mismatch (error): {rule_title(runner, 'billing.amount_mismatch')}"
    assert "  clause: invoice format of liveperson-cso@1.0\n" in text
    assert "    overage rate USD 240.00/h agreed in SOW-114\n" in text
    assert "  finding: i1 at " in text and "records.jsonl:3: amount USD 1,320.01 is not 5.5 x USD 240.00" in text
    # the line itself: period, id, LOB, item, quantity x rate, amount
    row = next(line for line in lines if line.startswith("    2026-Q1 "))
    assert row.split() == ["2026-Q1", "i1", "a", "overage_hours", "5.5", "x", "USD", "240.00", "amount", "USD",
                           "1,320.01"]
    assert ("  computed: 5.5 x USD 240.00 = USD 1,320.00; the line says USD 1,320.01: USD 0.01 more "
            "(compared to the cent)\n") in text
    assert lines[-1] == "  impact: USD 0.01"


def test_explain_rate_mismatch_shows_the_agreed_rate(runner, make_workspace):
    # 7 h due (120 - 113), billed at USD 250/h: 7 x (250 - 240) = USD 70.00 above the agreed USD 240/h.
    records = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20),
               invoice("i1", "overage_hours", quantity=7, rate=250.0)]
    root = make_workspace([make_contract()], records)
    result = runner.invoke(main, ["explain", "i1", str(root), "--as-of", AS_OF])
    found = sections(result.stdout)
    assert list(found) == ["billing.rate_mismatch"]  # not billing.overage_without_agreement any more
    text = found["billing.rate_mismatch"]
    assert "  agreed in writing: USD 240.00/h (SOW-114, Section 1)\n" in text
    assert "  computed: 7 h x (250.00 - 240.00) = USD 70.00: USD 70.00 above the agreed rate\n" in text
    assert "  impact: USD 70.00" in text


def test_explain_duplicate_charge_lists_the_lines_billing_it(runner, make_workspace):
    # Expense e1 USD 812.40 billed on i1 (2026-Q1) and again on i2 (2026-Q2).
    records = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z"),
               invoice("i2", "expense", period="2026-Q2", ref="e1", quantity=1, rate=812.4),
               invoice("i1", "expense", ref="e1", quantity=1, rate=812.4)]
    root = make_workspace([make_contract()], records)
    result = runner.invoke(main, ["explain", "billing.duplicate_charge", str(root), "--as-of", AS_OF])
    text = sections(result.stdout)["billing.duplicate_charge"]
    lines = text.splitlines()
    assert "  lines billing expense e1, by period then id:" in lines
    rows = [line.split() for line in lines if line.startswith("    2026-")]
    assert [r[:2] for r in rows] == [["2026-Q1", "i1"], ["2026-Q2", "i2"]]
    assert text.count("<- first: bills it") == 1 and "<- again (this finding)" in rows_text(lines, "i2")
    assert "  the expense it bills: e1 on 2026-03-02, USD 812.40, approved 2026-02-20" in lines
    assert "  computed: 2 lines bill it; i1 is the first, so i2's USD 812.40 bills it again" in lines
    assert lines[-1] == "  impact: USD 812.40"


def rows_text(lines: list[str], record_id: str) -> str:
    return next(line for line in lines if line.startswith("    2026-") and line.split()[1] == record_id)


def test_explain_counts_what_the_audit_counted_a_repeated_record_once(runner, make_workspace):
    # w05 exported twice: the audit counts it once (input.duplicate_record), and so does the
    # explanation: still 12 rows, 120 h, w12 crossing 113 h
    root = make_workspace([make_contract()], RECORDS + [RECORDS[4]])
    result = runner.invoke(main, ["explain", "entitlement.quarterly_hours", str(root), "--as-of", AS_OF])
    text = sections(result.stdout)["entitlement.quarterly_hours"]
    rows = [m.groups() for m in map(ROW.match, text.splitlines()) if m]
    assert [r[1] for r in rows] == IDS
    assert "  computed: 120 h - 113 h = 7 h over" in text
