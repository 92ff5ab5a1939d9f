"""Billing rules: the draft invoice against overage (Section 1), additional-cost items and
surcharges (Table 3), included deliverables (Tables 2-5) and T&E approval (Section 1); and the
invoice lines checked as invoices: arithmetic (amount = quantity x rate), currency, the agreed
overage rate, and one line per expense, delivery or surcharge.

Unless a case says otherwise the contract is C-1: one Premier package p1 for LOB "a", term
2026-01-01..2026-12-31, time zone America/New_York, overage agreed in writing at USD 240/h (SOW-114).
"""

from __future__ import annotations

import pytest

from cso_policy.core.model import Overage
from tests.conftest import (
    audit_records,
    delivery,
    expense,
    invoice,
    make_contract,
    of,
    only,
    spread_work,
    work,
)

UNBILLED = "billing.overage_unbilled"
OVERBILLED = "billing.overage_overbilled"
NO_AGREEMENT = "billing.overage_without_agreement"
ADDITIONAL = "billing.additional_cost_unbilled"
INCLUDED_BILLED = "billing.included_item_billed"
EXPENSE = "billing.expense_unapproved"
SURCHARGE = "billing.surcharge_missing"
AMOUNT = "billing.amount_mismatch"
CURRENCY = "billing.currency_mismatch"
DUPLICATE = "billing.duplicate_charge"
RATE = "billing.rate_mismatch"
UNKNOWN_REF = "input.unknown_reference"


def billing_findings(contract, records):
    return audit_records(contract, records, select=["billing.*"])


# Premier: 113 h/quarter (Section 1); 120 h in 2026-Q1 -> 7 h overage due in Q1.
Q1_120 = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20)]


# ---------------------------------------------------------------- billing.overage_unbilled


def test_overage_not_on_the_invoice_is_unbilled():
    # 100 + 20 = 120 h > 113 -> 7 h due for 2026-Q1, 0 invoiced -> 7 h unbilled,
    # 7 x USD 240 = USD 1,680; w2 took the quarter over the cap.
    f = only(billing_findings(make_contract(), Q1_120), UNBILLED)
    assert (f.record, f.lob, f.period, str(f.level), f.clause) == ("w2", "a", "2026-Q1", "error", "Section 1")
    assert f.impact.as_dict() == {"hours": 7.0, "amount": 1680.0, "currency": "USD"}
    assert "7 overage hours due for 2026-Q1, 0 on the draft invoice: 7 h unbilled" in f.message


def test_overage_billed_in_full_is_clean():
    # 7 h due, invoice line 2026-Q1 overage_hours 7 x 240 -> nothing unbilled or overbilled.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7)]
    assert billing_findings(make_contract(), records) == []


def test_overage_partly_billed():
    # 7 h due, 5 h invoiced -> 2 h unbilled = USD 480.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=5)]
    f = only(billing_findings(make_contract(), records), UNBILLED)
    assert f.impact.as_dict() == {"hours": 2.0, "amount": 480.0, "currency": "USD"}


def test_overage_is_max_of_quarterly_excess_sum_and_annual_excess():
    # Section 1: overage = max(sum_q max(0, h_q - 113), total - 455).
    # 120, 113, 113, 113: sum of quarterly excess = 7; total 459 - 455 = 4 -> 7 h (not 7 + 4 = 11).
    records = spread_work("w", [120, 113, 113, 113])
    f = only(billing_findings(make_contract(), records), UNBILLED)
    assert (f.record, f.period, f.impact.hours) == ("w-q1", "2026-Q1", 7.0)
    assert billing_findings(make_contract(), records + [invoice("i1", "overage_hours", quantity=7)]) == []


def test_overage_113_113_113_117_is_4_hours_not_5():
    # Quarterly excess: Q4 117 - 113 = 4; annual 456 - 455 = 1 -> max(4, 1) = 4 h, due in 2026-Q4.
    records = spread_work("w", [113, 113, 113, 117])
    f = only(billing_findings(make_contract(), records), UNBILLED)
    assert (f.record, f.period, f.impact.hours) == ("w-q4", "2026-Q4", 4.0)
    billed = records + [invoice("i1", "overage_hours", period="2026-Q4", quantity=4)]
    assert billing_findings(make_contract(), billed) == []


def test_overage_billed_for_the_year_as_a_whole():
    # Q1 7 h + Q3 3 h (116 h) = 10 h due in contract year 2026; one invoice line for "2026", 10 h -> clean;
    # 8 h -> 2 h unbilled for 2026.
    records = spread_work("w", [120, 100, 116, 100])
    assert billing_findings(make_contract(), records + [invoice("i1", "overage_hours", period="2026", quantity=10)]) == []
    f = only(billing_findings(make_contract(), records + [invoice("i1", "overage_hours", period="2026", quantity=8)]), UNBILLED)
    assert (f.period, f.impact.hours, f.record) == ("2026", 2.0, "w-q1")


def test_shared_pool_overage_is_billed_once_for_the_package():
    # One Premier package for a and b: 60 + 60 = 120 h -> 7 h; billed on LOB a's line -> clean.
    contract = make_contract(lobs=("a", "b"))
    records = [work("wa", "2026-01-10", 60, lob="a"), work("wb", "2026-01-20", 60, lob="b"),
               invoice("i1", "overage_hours", quantity=7, lob="a")]
    assert billing_findings(contract, records) == []


# ---------------------------------------------------------------- billing.overage_overbilled


def test_more_overage_invoiced_than_due_is_overbilled():
    # 7 h due for 2026-Q1, 10 h invoiced -> 3 h overbilled = USD 720, names the invoice line.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=10)]
    findings = billing_findings(make_contract(), records)
    f = only(findings, OVERBILLED)
    assert (f.record, f.period, str(f.level)) == ("i1", "2026-Q1", "error")
    assert f.impact.as_dict() == {"hours": 3.0, "amount": 720.0, "currency": "USD"}
    assert "10 overage hours invoiced for 2026-Q1, only 7 due: 3 h overbilled" in f.message
    assert of(findings, UNBILLED) == []


def test_overage_billed_in_a_quarter_without_overage():
    # Q2: 50 h <= 113 -> nothing due; 5 h invoiced for 2026-Q2 -> 5 h overbilled.
    records = [work("w1", "2026-04-05", 50), invoice("i1", "overage_hours", period="2026-Q2", quantity=5)]
    f = only(billing_findings(make_contract(), records), OVERBILLED)
    assert (f.record, f.impact.hours) == ("i1", 5.0)


def test_overage_billed_in_the_wrong_quarter():
    # 7 h due in 2026-Q1 but invoiced for 2026-Q2: Q1 7 h unbilled and Q2 7 h overbilled.
    records = Q1_120 + [invoice("i1", "overage_hours", period="2026-Q2", quantity=7)]
    findings = billing_findings(make_contract(), records)
    assert (only(findings, UNBILLED).period, only(findings, UNBILLED).impact.hours) == ("2026-Q1", 7.0)
    assert (only(findings, OVERBILLED).period, only(findings, OVERBILLED).record) == ("2026-Q2", "i1")


# ---------------------------------------------------------------- billing.overage_without_agreement


def test_overage_without_a_written_rate():
    # Section 1: additional hours are charged "at LivePerson's then-current rate as mutually agreed
    # by the parties in writing". No overage in the contract: 7 h due in 2026-Q1 -> a finding on the
    # crossing work record, hours only (there is no rate to price them), and no overage_unbilled.
    findings = billing_findings(make_contract(overage=None), Q1_120)
    f = only(findings, NO_AGREEMENT)
    assert (f.record, f.period) == ("w2", "2026-Q1")
    assert f.impact.as_dict() == {"hours": 7.0}
    assert of(findings, UNBILLED) == []


def test_overage_billed_without_a_written_agreement_names_the_invoice_line():
    # A rate but no agreement reference is not "agreed in writing"; 7 h due, 7 h invoiced -> finding
    # on the invoice line.
    contract = make_contract(overage=Overage(rate=240.0, currency="USD", agreement=None))
    f = only(billing_findings(contract, Q1_120 + [invoice("i1", "overage_hours", quantity=7)]), NO_AGREEMENT)
    assert (f.record, f.impact.hours) == ("i1", 7.0)


def test_no_overage_no_agreement_needed():
    # 100 h <= 113: no overage, so a contract without an agreed rate is fine.
    assert billing_findings(make_contract(overage=None), [work("w1", "2026-01-05", 100)]) == []


def test_overage_at_another_rate_is_rate_mismatch_not_without_agreement():
    # Agreed USD 240/h in writing (SOW-114): a line at another rate is billing.rate_mismatch; the
    # agreement exists, so billing.overage_without_agreement says nothing.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, rate=250.0)]
    findings = billing_findings(make_contract(), records)
    assert [(f.rule, f.record) for f in findings] == [(RATE, "i1")]
    assert of(findings, NO_AGREEMENT) == []


def test_overage_in_another_currency_is_currency_mismatch_not_without_agreement():
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, currency="EUR")]
    findings = billing_findings(make_contract(), records)
    assert [(f.rule, f.record) for f in findings] == [(CURRENCY, "i1")]


# ---------------------------------------------------------------- billing.rate_mismatch


@pytest.mark.parametrize(("rate", "amount"), [(250.0, 70.0), (230.0, -70.0)])
def test_overage_billed_at_another_rate(rate, amount):
    # Section 1, agreed USD 240/h (SOW-114); 120 - 113 = 7 h due in 2026-Q1, 7 h billed:
    # at USD 250/h -> 7 x (250 - 240) = USD 70 too much; at USD 230/h -> 7 x (230 - 240) = USD -70.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, rate=rate)]
    f = only(billing_findings(make_contract(), records), RATE)
    assert (f.record, f.period, f.contract, str(f.level), f.clause) == ("i1", "2026-Q1", "C-1", "error", "Section 1")
    assert f.impact.as_dict() == {"amount": amount, "currency": "USD"}
    assert f"7 overage hours billed at USD {rate:,.2f}/h; the rate agreed in SOW-114 is USD 240.00/h" in f.message


def test_overage_rate_is_compared_to_the_cent():
    # USD 240.004/h is USD 240.00 to the cent: the agreed rate. (The line's amount is 7 x 240.004 =
    # 1,680.028, so billing.amount_mismatch has nothing to say either.)
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, rate=240.004)]
    assert of(billing_findings(make_contract(), records), RATE) == []


@pytest.mark.parametrize(
    "overage",
    [None, Overage(rate=240.0, currency="USD", agreement=None)],
    ids=["no-overage", "no-agreement-reference"],
)
def test_no_rate_mismatch_without_a_written_agreement(overage):
    # No rate agreed in writing: nothing to compare with; billing.overage_without_agreement reports it.
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, rate=250.0)]
    findings = billing_findings(make_contract(overage=overage), records)
    assert [(f.rule, f.record) for f in findings] == [(NO_AGREEMENT, "i1")]


def test_rate_mismatch_only_for_overage_lines():
    # An additional_service line for the Premier on-site visit (Table 3 'At Additional Costs') at
    # USD 3,000: the policy sets no price for it, so there is no agreed rate to compare.
    records = [delivery("d1", "2026-03-10", "on_site_operations_monitoring"),
               invoice("i1", "additional_service", ref="d1", quantity=1, rate=3000.0)]
    assert billing_findings(make_contract(), records) == []


# ---------------------------------------------------------------- billing.currency_mismatch


def test_overage_line_in_another_currency():
    # Agreed USD 240/h (SOW-114); 7 h billed at EUR 240 = EUR 1,680: the whole line is in question,
    # impact the line's amount in its currency; not a rate mismatch (rates in two currencies are not compared).
    records = Q1_120 + [invoice("i1", "overage_hours", quantity=7, rate=250.0, currency="EUR")]
    findings = billing_findings(make_contract(), records)
    f = only(findings, CURRENCY)
    assert (f.record, f.period, f.contract, str(f.level)) == ("i1", "2026-Q1", "C-1", "error")
    assert f.impact.as_dict() == {"amount": 1750.0, "currency": "EUR"}
    assert "overage_hours line billed in EUR (EUR 1,750.00), but the overage rate agreed in SOW-114 is USD 240.00/h" \
        in f.message
    assert of(findings, RATE) == []


def test_expense_line_in_another_currency_than_the_expense():
    # Expense e1 GBP 142.60 (incurred in GBP), billed as USD 142.60 -> impact USD 142.60.
    records = [expense("e1", "2026-04-14", 142.6, "2026-04-01T10:00:00Z", currency="GBP"),
               invoice("i1", "expense", period="2026-Q2", ref="e1", quantity=1, rate=142.6, currency="USD")]
    f = only(billing_findings(make_contract(), records), CURRENCY)
    assert (f.record, f.period) == ("i1", "2026-Q2")
    assert f.impact.as_dict() == {"amount": 142.6, "currency": "USD"}
    assert "expense line billed in USD (USD 142.60), but expense e1 was incurred in GBP" in f.message


def test_expense_line_in_the_expense_currency():
    records = [expense("e1", "2026-04-14", 142.6, "2026-04-01T10:00:00Z", currency="GBP"),
               invoice("i1", "expense", period="2026-Q2", ref="e1", quantity=1, rate=142.6, currency="GBP")]
    assert billing_findings(make_contract(), records) == []


def test_expense_read_after_its_invoice_line_is_still_compared():
    # Invoice lines are undated and come first; the expense file is read after them. The currency
    # is compared at the end of the run, when every expense is known.
    lines = [invoice("i1", "expense", ref="e1", quantity=1, rate=812.4, currency="EUR")]
    expenses = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z")]
    findings = audit_records(make_contract(), [lines, expenses], select=["billing.*"], files=True)
    assert [(f.rule, f.record) for f in findings] == [(CURRENCY, "i1")]


def test_expense_line_whose_ref_names_nothing_is_only_an_unknown_reference():
    # ref e9 names no expense: input.unknown_reference, not a currency mismatch or a duplicate.
    records = [invoice("i1", "expense", ref="e9", quantity=1, rate=50.0, currency="EUR"),
               invoice("i2", "expense", ref="e9", quantity=1, rate=50.0, currency="EUR")]
    findings = audit_records(make_contract(), records, select=["billing.*", "input.*"])
    assert [(f.rule, f.record) for f in findings] == [(UNKNOWN_REF, "i1"), (UNKNOWN_REF, "i2")]


# ---------------------------------------------------------------- billing.amount_mismatch


@pytest.mark.parametrize(
    ("amount", "flagged", "impact"),
    [(1320.01, True, 0.01), (1320.004, False, None), (1320.0, False, None), (1319.0, True, -1.0)],
)
def test_amount_is_quantity_times_rate_to_the_cent(amount, flagged, impact):
    # Premier 100 + 18.5 = 118.5 h in 2026-Q1 -> 5.5 h over 113 h, billed 5.5 h x USD 240 = USD 1,320.00:
    # USD 1,320.01 is USD 0.01 more; USD 1,320.004 is USD 1,320.00 to the cent; USD 1,319 is USD 1 less.
    records = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 18.5),
               invoice("i1", "overage_hours", quantity=5.5, amount=amount)]
    findings = billing_findings(make_contract(), records)
    if not flagged:
        assert findings == []
        return
    f = only(findings, AMOUNT)
    assert [x.rule for x in findings] == [AMOUNT]
    assert (f.record, f.period, f.contract, str(f.level), f.clause) == ("i1", "2026-Q1", "C-1", "error", "invoice format")
    assert f.impact.as_dict() == {"amount": impact, "currency": "USD"}
    assert f"amount USD {amount:,.2f} is not 5.5 x USD 240.00 = USD 1,320.00" in f.message


@pytest.mark.parametrize(("amount", "flagged"), [(360.49, False), (360.5, False), (360.51, True), (360.48, True)])
def test_amount_of_half_a_cent_may_be_rounded_either_way(amount, flagged):
    # 1.5 h x USD 240.33 = USD 360.495: USD 360.50 (half up) or 360.49 (half to even) are both the
    # product to the cent; 360.51 and 360.48 are not.
    records = [invoice("i1", "overage_hours", quantity=1.5, rate=240.33, amount=amount)]
    findings = audit_records(make_contract(), records, select=[AMOUNT])
    assert [f.record for f in findings] == (["i1"] if flagged else [])


def test_amount_float_dust_is_not_a_mismatch():
    # 3 x USD 0.35 is 1.0499999999999998 as a float: the line's USD 1.05 is right.
    records = [invoice("i1", "overage_hours", quantity=3, rate=0.35, amount=1.05)]
    assert audit_records(make_contract(), records, select=[AMOUNT]) == []


def test_amount_mismatch_on_an_expense_line():
    # Expense e1 USD 812.40 billed 1 x USD 812.40 but amount USD 821.40 -> USD 9.00 more.
    records = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z"),
               invoice("i1", "expense", ref="e1", quantity=1, rate=812.4, amount=821.4)]
    f = only(billing_findings(make_contract(), records), AMOUNT)
    assert f.impact.as_dict() == {"amount": 9.0, "currency": "USD"}
    assert "USD 9.00 more" in f.message


# ---------------------------------------------------------------- billing.duplicate_charge

ON_SITE = "on_site_operations_monitoring"


def test_expense_billed_twice():
    # Expense e1 USD 812.40 on i1 and on i2 (both 2026-Q1): i2 is the duplicate, impact USD 812.40.
    records = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z"),
               invoice("i1", "expense", ref="e1", quantity=1, rate=812.4),
               invoice("i2", "expense", ref="e1", quantity=1, rate=812.4)]
    findings = billing_findings(make_contract(), records)
    f = only(findings, DUPLICATE)
    assert [x.rule for x in findings] == [DUPLICATE]
    assert (f.record, f.period, f.contract, str(f.level)) == ("i2", "2026-Q1", "C-1", "error")
    assert f.impact.as_dict() == {"amount": 812.4, "currency": "USD"}
    assert "expense e1 is already billed on i1 (2026-Q1, USD 812.40); i2 (expense) bills it again" in f.message


def test_duplicates_are_the_lines_after_the_first_by_period_then_id():
    # e1 on i3 (2026-M12), i1 (2026-Q2) and i2 (2026-Q2): by period i1 and i2 (April-June) come before i3
    # (December), and i1 before i2 by id: i2 and i3 are duplicates. (As text, "2026-M12" < "2026-Q2".)
    records = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z"),
               invoice("i3", "expense", period="2026-M12", ref="e1", quantity=1, rate=812.4),
               invoice("i2", "expense", period="2026-Q2", ref="e1", quantity=1, rate=812.4),
               invoice("i1", "expense", period="2026-Q2", ref="e1", quantity=1, rate=812.4)]
    findings = of(billing_findings(make_contract(), records), DUPLICATE)
    assert sorted((f.record, f.period) for f in findings) == [("i2", "2026-Q2"), ("i3", "2026-M12")]


@pytest.mark.parametrize("second", ["additional_service", "deliverable"])
def test_delivery_billed_by_a_service_and_a_deliverable_line(second):
    # Premier on-site visit d1 (Table 3 'At Additional Costs', USD 3,000) billed on i1 and again on i2:
    # deliverable and additional_service lines both bill the delivery itself.
    records = [delivery("d1", "2026-03-10", ON_SITE),
               invoice("i1", "additional_service", ref="d1", quantity=1, rate=3000.0),
               invoice("i2", second, ref="d1", quantity=1, rate=3000.0)]
    f = only(billing_findings(make_contract(), records), DUPLICATE)
    assert (f.record, f.impact.amount) == ("i2", 3000.0)
    assert "delivery d1 is already billed on i1" in f.message


def test_one_visit_line_and_one_surcharge_line_are_not_duplicates():
    # Table 3: a Premier visit abroad: one line bills the visit (USD 3,000), one the surcharge (USD 1,500).
    records = [delivery("d1", "2026-05-12", ON_SITE, international=True),
               invoice("i1", "additional_service", period="2026-Q2", ref="d1", quantity=1, rate=3000.0),
               invoice("i2", "surcharge", period="2026-Q2", ref="d1", quantity=1, rate=1500.0)]
    assert billing_findings(make_contract(), records) == []


def test_a_second_surcharge_line_is_a_duplicate():
    # Expert visit abroad (included 'Semi-Annually'): two surcharge lines of USD 1,500 -> i2 is a duplicate.
    records = [delivery("d1", "2026-05-12", ON_SITE, international=True),
               invoice("i1", "surcharge", period="2026-Q2", ref="d1", quantity=1, rate=1500.0),
               invoice("i2", "surcharge", period="2026-Q2", ref="d1", quantity=1, rate=1500.0)]
    findings = billing_findings(make_contract(tier="expert"), records)
    assert [(f.rule, f.record) for f in findings] == [(DUPLICATE, "i2")]
    assert "the surcharge of delivery d1 is already billed on i1" in list(findings)[0].message


def test_overage_lines_of_one_period_are_not_duplicate_charges():
    # Two overage_hours lines for the pool's 2026-Q1: the overage rules compare their sum with the hours
    # due. 4 + 3 = 7 h = 120 - 113: clean; 7 + 7 = 14 h: 7 h overbilled (one finding, not a duplicate).
    split = Q1_120 + [invoice("i1", "overage_hours", quantity=4), invoice("i2", "overage_hours", quantity=3)]
    assert billing_findings(make_contract(), split) == []
    twice = Q1_120 + [invoice("i1", "overage_hours", quantity=7), invoice("i2", "overage_hours", quantity=7)]
    findings = billing_findings(make_contract(), twice)
    assert [(f.rule, f.record, f.impact.hours) for f in findings] == [(OVERBILLED, "i2", 7.0)]


def test_the_same_ref_in_two_contracts_is_not_a_duplicate():
    # e1 of C-1 and e1 of C-2 are two expenses, each billed once.
    records = [expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z"),
               expense("e1", "2026-03-02", 812.4, "2026-02-20T10:00:00Z", contract="C-2"),
               invoice("i1", "expense", ref="e1", quantity=1, rate=812.4),
               invoice("i1", "expense", ref="e1", quantity=1, rate=812.4, contract="C-2")]
    assert billing_findings([make_contract(), make_contract("C-2")], records) == []


# ---------------------------------------------------------------- billing.additional_cost_unbilled


def test_on_site_visit_at_additional_cost_not_invoiced():
    # Table 3: On-Site Operations Monitoring is 'At Additional Costs' for Premier: d1 needs a line.
    findings = billing_findings(make_contract(), [delivery("d1", "2026-03-10", "on_site_operations_monitoring")])
    f = only(findings, ADDITIONAL)
    assert (f.record, f.clause, f.lob, f.impact) == ("d1", "Table 3", "a", None)  # the policy has no price
    assert "at additional cost for the premier package, but no invoice line refers to d1" in f.message


@pytest.mark.parametrize("item", ["additional_service", "deliverable"])
def test_on_site_visit_at_additional_cost_invoiced(item):
    # Premier on-site visit d1 (Table 3 'At Additional Costs') with a line whose ref is d1: billed.
    records = [delivery("d1", "2026-03-10", "on_site_operations_monitoring"),
               invoice("i1", item, ref="d1", quantity=1, rate=3000.0)]
    assert billing_findings(make_contract(), records) == []


def test_on_site_visit_included_for_expert_needs_no_invoice():
    # Table 3: 'Semi-Annually' for Expert: included, nothing to bill.
    records = [delivery("d1", "2026-03-10", "on_site_operations_monitoring")]
    assert billing_findings(make_contract(tier="expert"), records) == []


# ---------------------------------------------------------------- billing.included_item_billed


def test_included_deliverable_billed():
    # Table 2: Customer Account Plan 'Twice Monthly' for Premier; d1 is the only one in 2026-M01, so it is
    # included: billing it (USD 500) is a finding on the invoice line.
    records = [delivery("d1", "2026-01-05", "customer_account_plan"),
               invoice("i1", "deliverable", ref="d1", quantity=1, rate=500.0)]
    f = only(billing_findings(make_contract(), records), INCLUDED_BILLED)
    assert (f.record, f.period, str(f.level)) == ("i1", "2026-Q1", "error")
    assert f.impact.as_dict() == {"amount": 500.0, "currency": "USD"}
    assert "bills delivery d1, which the package includes" in f.message


def test_unlimited_included_item_billed():
    # Table 2: General Account Consulting 'Included' for every tier.
    records = [delivery("d1", "2026-01-05", "general_account_consulting"),
               invoice("i1", "additional_service", ref="d1", quantity=2, rate=100.0)]
    f = only(billing_findings(make_contract(tier="foundations"), records), INCLUDED_BILLED)
    assert f.impact.amount == 200.0


def test_included_deliverable_billed_beyond_its_frequency_is_not_included_item_billed():
    # 'Twice Monthly': d1, d2, d3 in 2026-M01 -> d3 is beyond the frequency (entitlement.frequency),
    # so billing d3 is not billing an included item.
    records = [delivery(f"d{i}", f"2026-01-0{i}", "customer_account_plan") for i in (1, 2, 3)]
    records.append(invoice("i1", "additional_service", ref="d3", quantity=1, rate=500.0))
    findings = audit_records(make_contract(), records, select=["billing.*", "entitlement.frequency"])
    assert [(f.rule, f.record) for f in findings] == [("entitlement.frequency", "d3")]


def test_billing_an_additional_cost_item_is_not_included_item_billed():
    records = [delivery("d1", "2026-03-10", "on_site_operations_monitoring"),
               invoice("i1", "additional_service", ref="d1", quantity=1, rate=3000.0)]
    assert of(billing_findings(make_contract(), records), INCLUDED_BILLED) == []


# ---------------------------------------------------------------- billing.expense_unapproved


def test_expense_without_approval():
    # Section 1: T&E is "subject to the customer's advance approval"; approved_at null -> finding,
    # impact the expense amount USD 812.40.
    records = [expense("e1", "2026-03-02", 812.4, None)]
    f = only(billing_findings(make_contract(), records), EXPENSE)
    assert (f.record, str(f.level), f.clause) == ("e1", "error", "Section 1")
    assert f.impact.as_dict() == {"amount": 812.4, "currency": "USD"}
    assert "has no customer approval" in f.message


def test_expense_approved_after_it_was_incurred():
    # Incurred 2026-03-02, approved 2026-03-03 10:00 New York -> not in advance.
    records = [expense("e1", "2026-03-02", 812.4, "2026-03-03T10:00:00-05:00")]
    f = only(billing_findings(make_contract(), records), EXPENSE)
    assert "was approved on 2026-03-03, after it was incurred on 2026-03-02" in f.message


@pytest.mark.parametrize(
    "approved_at",
    [
        "2026-02-20T10:00:00Z",  # well before
        "2026-03-03T02:00:00Z",  # = 2026-03-02 21:00 in New York: the local date is the expense date
    ],
)
def test_expense_approved_in_advance(approved_at):
    records = [expense("e1", "2026-03-02", 812.4, approved_at)]
    assert billing_findings(make_contract(), records) == []


def test_expense_without_a_lob_is_audited():
    # SPEC §2: an expense may name no LOB; it still needs approval.
    record = expense("e1", "2026-03-02", 99.0, None)
    del record["lob"]
    f = only(billing_findings(make_contract(), [record]), EXPENSE)
    assert (f.record, f.lob) == ("e1", None)


# ---------------------------------------------------------------- billing.surcharge_missing


def test_international_on_site_visit_without_surcharge():
    # Table 3: "International Travel will incur an additional surcharge"; Expert (on-site included).
    records = [delivery("d1", "2026-05-12", "on_site_operations_monitoring", international=True)]
    f = only(billing_findings(make_contract(tier="expert"), records), SURCHARGE)
    assert (f.record, f.clause, f.impact) == ("d1", "Table 3", None)
    assert "international on-site visit d1 on 2026-05-12 has no surcharge invoice line" in f.message


def test_international_on_site_visit_with_surcharge():
    # Expert on-site visit (included, 'Semi-Annually') abroad + a surcharge line whose ref is d1.
    records = [delivery("d1", "2026-05-12", "on_site_operations_monitoring", international=True),
               invoice("i1", "surcharge", period="2026-Q2", ref="d1", quantity=1, rate=1500.0)]
    assert billing_findings(make_contract(tier="expert"), records) == []


def test_premier_international_visit_needs_service_and_surcharge_lines():
    # Premier: at additional cost AND international -> two lines; only the service line is there.
    records = [delivery("d1", "2026-05-12", "on_site_operations_monitoring", international=True),
               invoice("i1", "additional_service", period="2026-Q2", ref="d1", quantity=1, rate=3000.0)]
    findings = billing_findings(make_contract(), records)
    assert [(f.rule, f.record) for f in findings] == [(SURCHARGE, "d1")]
    # with neither line: both findings
    findings = billing_findings(make_contract(), records[:1])
    assert sorted(f.rule for f in findings) == [ADDITIONAL, SURCHARGE]


@pytest.mark.parametrize(
    ("item", "international"),
    [("on_site_operations_monitoring", False), ("customer_account_plan", True)],
)
def test_no_surcharge_for_domestic_visits_or_other_items(item, international):
    # Table 3's surcharge note is on On-Site Operations Monitoring only, and only for international travel.
    records = [delivery("d1", "2026-05-12", item, international=international)]
    assert of(billing_findings(make_contract(tier="expert"), records), SURCHARGE) == []
