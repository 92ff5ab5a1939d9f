"""Entitlement rules (SPEC §1 Entitlement, Lines of business, Hours and overage; seed Sections 1-4, 6, 10).

Every case states the seed numbers it relies on. Unless a case says otherwise the contract is
C-1: one Premier package p1 for LOB "a", term 2026-01-01..2026-12-31, overage agreed at USD 240/h.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import (
    audit_records,
    delivery,
    make_contract,
    of,
    only,
    rules_of,
    spread_work,
    ticket,
    work,
)

QUARTERLY = "entitlement.quarterly_hours"
ANNUAL = "entitlement.annual_hours"
NOT_INCLUDED = "entitlement.not_included"
FREQUENCY = "entitlement.frequency"
ALLOWANCE = "entitlement.allowance_hours"
CHANNEL = "entitlement.channel_not_included"
OUTSIDE = "entitlement.outside_term"


def entitlement_findings(contract, records, **kw):
    return audit_records(contract, records, select=["entitlement.*"], **kw)


# ---------------------------------------------------------------- entitlement.quarterly_hours


def test_quarterly_hours_over_cap_names_the_crossing_record():
    # Premier: 113 h/quarter (Section 1); 12 x 10 h = 120 h > 113 -> 7 h over.
    # Running total: w01..w11 = 110 h <= 113, w12 takes it to 120 h: w12 crosses.
    records = [work(f"w{i:02d}", date(2026, 1, i), 10) for i in range(1, 13)]
    f = only(entitlement_findings(make_contract(), records), QUARTERLY)
    assert (f.record, f.lob, f.period, f.contract) == ("w12", "a", "2026-Q1", "C-1")
    assert str(f.level) == "warning" and f.clause == "Section 1"
    assert f.policy == "liveperson-cso@1.0"
    # impact: 7 h, priced at the agreed overage rate 7 x 240 = USD 1,680
    assert f.impact.as_dict() == {"hours": 7.0, "amount": 1680.0, "currency": "USD"}
    assert "120 h worked in 2026-Q1, quarterly cap 113 h: 7 h over" in f.message


def test_quarterly_hours_exactly_at_cap_is_no_finding():
    # Premier: 113 h/quarter; 100 h + 13 h = 113 h: a cap met exactly is not exceeded.
    records = [work("w1", "2026-01-05", 100), work("w2", "2026-03-31", 13)]
    assert entitlement_findings(make_contract(), records) == []


def test_quarterly_hours_fractional_hours_do_not_leave_float_dust():
    # Foundations: 25 h/quarter; 250 x 0.1 h sums to 25 h (24.99999... or 25.0000...1 in floats):
    # not over the cap.
    records = [work(f"w{i}", "2026-02-02", 0.1) for i in range(250)]
    assert entitlement_findings(make_contract(tier="foundations"), records) == []


@pytest.mark.parametrize(
    ("tier", "cap"),
    [("foundations", 25), ("fundamentals", 65), ("premier", 113), ("expert", 246), ("strategic", 500)],
)
def test_quarterly_cap_of_every_tier(tier, cap):
    # Section 1: Foundations 25, Fundamental 65, Premier 113, Expert 246, Strategic 500 h/quarter.
    # cap h then 0.5 h more in the same quarter -> 0.5 h over, crossed by w2; cap h alone is fine.
    at_cap = entitlement_findings(make_contract(tier=tier), [work("w1", "2026-04-01", cap)])
    assert of(at_cap, QUARTERLY) == []
    over = entitlement_findings(
        make_contract(tier=tier), [work("w1", "2026-04-01", cap), work("w2", "2026-06-30", 0.5)]
    )
    f = only(over, QUARTERLY)
    assert (f.record, f.period, f.impact.hours) == ("w2", "2026-Q2", 0.5)


def test_quarters_are_anchored_to_the_term_start():
    # I-1: term starting 2026-02-15 -> contract Q1 = 2026-02-15..2026-05-14. 100 h on 2026-03-31 and
    # 20 h on 2026-04-01 are in two calendar quarters but one contract quarter: 120 > 113 -> 7 h over.
    contract = make_contract(start=date(2026, 2, 15))
    records = [work("w1", "2026-03-31", 100), work("w2", "2026-04-01", 20)]
    f = only(entitlement_findings(contract, records), QUARTERLY)
    assert (f.record, f.period, f.impact.hours) == ("w2", "2026-Q1", 7.0)
    # ... while 100 h on 2026-05-14 and 20 h on 2026-05-15 fall in contract Q1 and Q2: no finding.
    records = [work("w1", "2026-05-14", 100), work("w2", "2026-05-15", 20)]
    assert entitlement_findings(contract, records) == []


# ---------------------------------------------------------------- entitlement.annual_hours


def test_premier_four_full_quarters_stay_under_both_caps():
    # Premier: 113 h/quarter x 4 = 452 h <= 455 h/year (Section 1): no quarterly, no annual finding.
    records = spread_work("w", [113, 113, 113, 113])
    assert entitlement_findings(make_contract(), records) == []


def test_both_caps_apply_premier_113_113_113_117():
    # Premier: Q4 117 h > 113 -> 4 h over the quarterly cap (crossed by w-q4);
    # year 113+113+113+117 = 456 h > 455 -> 1 h over the annual cap (also crossed by w-q4).
    findings = entitlement_findings(make_contract(), spread_work("w", [113, 113, 113, 117]))
    q = only(findings, QUARTERLY)
    assert (q.record, q.period, q.impact.hours) == ("w-q4", "2026-Q4", 4.0)
    y = only(findings, ANNUAL)
    assert (y.record, y.period, y.contract) == ("w-q4", "2026", "C-1")
    assert y.impact.as_dict() == {"hours": 1.0, "amount": 240.0, "currency": "USD"}
    assert "456 h worked in 2026, annual cap 455 h: 1 h over" in y.message


def test_expert_annual_cap_985_is_not_four_quarters_of_246():
    # Expert: 246 h/quarter, 985 h/year; 246+246+246+247 = 985 h = the annual cap (not over),
    # but Q4 247 > 246 -> 1 h over the quarterly cap.
    findings = entitlement_findings(make_contract(tier="expert"), spread_work("w", [246, 246, 246, 247]))
    assert of(findings, ANNUAL) == []
    assert only(findings, QUARTERLY).impact.hours == 1.0


def test_annual_hours_over_for_strategic():
    # Strategic: 500 h/quarter, 2,000 h/year; 500+500+500+501 = 2,001 h -> annual 1 h over, crossed
    # by w-q4 (and Q4 501 > 500 -> quarterly 1 h over).
    findings = entitlement_findings(make_contract(tier="strategic"), spread_work("w", [500, 500, 500, 501]))
    assert (only(findings, ANNUAL).record, only(findings, ANNUAL).impact.hours) == ("w-q4", 1.0)
    assert only(findings, QUARTERLY).record == "w-q4"


def test_annual_cap_is_per_contract_year():
    # Premier, two-year term: year 2026 = 4 x 113 = 452 h <= 455; year 2027 Q1 = 113 h.
    # 452 + 113 = 565 h would be over 455 if years were not separate: no finding.
    contract = make_contract(start=date(2026, 1, 1), end=date(2027, 12, 31))
    records = spread_work("w", [113, 113, 113, 113, 113])
    assert entitlement_findings(contract, records) == []


# ---------------------------------------------------------------- lines of business: pools


def test_one_package_shared_by_several_lobs_is_one_pool():
    # Section 1: one Premier package for LOBs a and b shares 113 h/quarter:
    # 60 h (a) + 60 h (b) = 120 h > 113 -> 7 h over, crossed by b's record.
    contract = make_contract(lobs=("a", "b"))
    records = [work("wa", "2026-01-10", 60, lob="a"), work("wb", "2026-01-20", 60, lob="b")]
    f = only(entitlement_findings(contract, records), QUARTERLY)
    assert (f.record, f.lob, f.impact.hours) == ("wb", "b", 7.0)
    assert "package p1 (premier; a, b)" in f.message


def test_one_package_per_lob_gives_each_lob_full_hours():
    # Section 1: two Premier packages, one per LOB: each has 113 h/quarter; 60 h each: no finding.
    contract = make_contract(packages=[("pa", "premier", ["a"]), ("pb", "premier", ["b"])])
    records = [work("wa", "2026-01-10", 60, lob="a"), work("wb", "2026-01-20", 60, lob="b")]
    assert entitlement_findings(contract, records) == []


def test_shared_pool_shares_deliverable_frequencies():
    # Table 2: Customer Account Plan is 'Twice Monthly' for Premier. One package for a and b:
    # a twice + b once in contract month 2026-M01 = 3 > 2 -> the third (db) is over.
    records = [
        delivery("da1", "2026-01-05", "customer_account_plan", lob="a"),
        delivery("da2", "2026-01-12", "customer_account_plan", lob="a"),
        delivery("db1", "2026-01-19", "customer_account_plan", lob="b"),
    ]
    f = only(entitlement_findings(make_contract(lobs=("a", "b")), records), FREQUENCY)
    assert (f.record, f.lob) == ("db1", "b")
    # per-LOB packages: a has 2 of 2, b 1 of 2 -> no finding
    per_lob = make_contract(packages=[("pa", "premier", ["a"]), ("pb", "premier", ["b"])])
    assert entitlement_findings(per_lob, records) == []


def test_work_at_additional_cost_does_not_count_toward_caps():
    # Table 3: On-Site Operations Monitoring is 'At Additional Costs' for Premier, so its hours are
    # billed separately: 100 h general + 50 h on-site = 100 h counted <= 113: no finding.
    records = [
        work("w1", "2026-01-05", 100),
        work("w2", "2026-01-06", 50, service="on_site_operations_monitoring"),
    ]
    assert entitlement_findings(make_contract(), records) == []


def test_work_on_an_included_on_site_visit_counts_toward_caps():
    # Table 3: On-Site Operations Monitoring is 'Semi-Annually' (included) for Expert, so its hours
    # count: 200 h + 50 h = 250 h > 246 -> 4 h over, crossed by the on-site work w2.
    records = [
        work("w1", "2026-01-05", 200),
        work("w2", "2026-01-06", 50, service="on_site_operations_monitoring"),
    ]
    f = only(entitlement_findings(make_contract(tier="expert"), records), QUARTERLY)
    assert (f.record, f.impact.hours) == ("w2", 4.0)


def test_crossing_record_across_two_date_ordered_files_is_the_chronological_one():
    # Premier, one package for a and b; each file is in date order (as the README asks):
    # file 1 (LOB a): 2026-03-20 50 h; file 2 (LOB b): 2026-01-10 60 h, 2026-02-10 10 h.
    # In date order: 60 (Jan) -> 70 (Feb) -> 120 (Mar) > 113: the 2026-03-20 record "wa" crosses.
    contract = make_contract(lobs=("a", "b"))
    files = [
        [work("wa", "2026-03-20", 50, lob="a")],
        [work("wb1", "2026-01-10", 60, lob="b"), work("wb2", "2026-02-10", 10, lob="b")],
    ]
    f = only(audit_records(contract, files, select=[QUARTERLY], files=True), QUARTERLY)
    assert f.record == "wa"


# ---------------------------------------------------------------- entitlement.not_included


def test_work_on_a_service_the_tier_does_not_include():
    # Table 2: Industry KPI Analysis is '–' for Foundations. 3 h of it -> not included,
    # impact 3 h x USD 240 = USD 720.
    contract = make_contract(tier="foundations")
    f = only(entitlement_findings(contract, [work("w1", "2026-02-02", 3, service="industry_kpi_analysis")]), NOT_INCLUDED)
    assert (f.record, f.clause, str(f.level)) == ("w1", "Table 2", "error")
    assert f.impact.as_dict() == {"hours": 3.0, "amount": 720.0, "currency": "USD"}
    assert "Industry KPI Analysis is not included in the foundations package p1" in f.message


def test_delivery_of_a_strategic_only_deliverable_to_premier():
    # Table 2: Monthly Business Review is Strategic only ('–' for Premier): not included, no hours.
    records = [delivery("d1", "2026-02-02", "monthly_business_review")]
    f = only(entitlement_findings(make_contract(), records), NOT_INCLUDED)
    assert (f.record, f.clause, f.impact) == ("d1", "Table 2", None)
    # Strategic: 'Monthly' -> included, no finding
    assert entitlement_findings(make_contract(tier="strategic"), records) == []


@pytest.mark.parametrize(
    ("tier", "item", "clause", "included"),
    [
        ("premier", "reporting_customization", "Table 4", False),  # Expert+
        ("expert", "reporting_customization", "Table 4", True),
        ("expert", "customization", "Table 4", False),  # Strategic only
        ("fundamentals", "integrations", "Table 4", False),  # Premier+
        ("fundamentals", "segmentation_management", "Table 4", True),  # Fundamentals+
        ("premier", "primary_support_engineer", "Table 5", False),  # Expert+
        ("premier", "direct_web_case_creation", "Table 5", True),  # Premier+
        ("fundamentals", "discretionary_operational_consulting", "Table 3", False),  # '–', '–', 24, 36, 48
        ("foundations", "transcript_analysis", "Table 3", False),
        ("foundations", "self_service_training", "Table 10", True),  # all tiers
    ],
)
def test_not_included_by_table(tier, item, clause, included):
    findings = entitlement_findings(make_contract(tier=tier), [delivery("d1", "2026-02-02", item)])
    if included:
        assert of(findings, NOT_INCLUDED) == []
    else:
        f = only(findings, NOT_INCLUDED)
        assert (f.record, f.clause) == ("d1", clause)


# ---------------------------------------------------------------- entitlement.frequency

TWO_YEARS = dict(start=date(2026, 1, 1), end=date(2027, 12, 31))

# (word, tier, deliverable, dates over the limit (the last one is the extra), dates within it)
FREQUENCIES = [
    # week 0 of a 2026-01-01 term = 01-01..01-07; week 1 starts 01-08
    ("Weekly", "strategic", "customer_account_plan", ["2026-01-01", "2026-01-07"], ["2026-01-07", "2026-01-08"]),
    ("Monthly", "foundations", "customer_performance_review", ["2026-01-01", "2026-01-31"], ["2026-01-31", "2026-02-01"]),
    ("Twice Monthly", "premier", "customer_account_plan", ["2026-01-02", "2026-01-15", "2026-01-31"],
     ["2026-01-02", "2026-01-31", "2026-02-01"]),
    ("Quarterly", "premier", "target_analysis_reports", ["2026-01-01", "2026-03-31"], ["2026-03-31", "2026-04-01"]),
    ("2x/Quarter", "strategic", "transcript_analysis", ["2026-01-01", "2026-02-01", "2026-03-31"],
     ["2026-01-01", "2026-03-31", "2026-04-01"]),
    ("Semi-Annual", "expert", "industry_kpi_analysis", ["2026-01-01", "2026-06-30"], ["2026-06-30", "2026-07-01"]),
    ("Semi-Annually", "expert", "on_site_operations_monitoring", ["2026-02-01", "2026-06-01"],
     ["2026-06-30", "2026-07-01"]),
    ("Twice Yearly", "fundamentals", "target_analysis_reports", ["2026-01-01", "2026-06-01", "2026-12-31"],
     ["2026-01-01", "2026-12-31", "2027-01-01"]),
    ("Annual", "fundamentals", "industry_kpi_analysis", ["2026-01-01", "2026-12-31"], ["2026-12-31", "2027-01-01"]),
    ("Up to 4x Per Year", "premier", "quarterly_business_review",
     ["2026-01-10", "2026-03-10", "2026-05-10", "2026-08-10", "2026-12-10"],
     ["2026-01-10", "2026-03-10", "2026-05-10", "2026-12-10", "2027-01-01"]),
    # Strategic only: Monthly Business Review 'Monthly', Strategic Roadmap 'Quarterly',
    # Product Release / Roadmap Review 'Semi-Annual'
    ("Monthly", "strategic", "monthly_business_review", ["2026-03-01", "2026-03-31"], ["2026-03-31", "2026-04-01"]),
    ("Quarterly", "strategic", "strategic_roadmap", ["2026-04-01", "2026-06-30"], ["2026-06-30", "2026-07-01"]),
    ("Semi-Annual", "strategic", "product_roadmap_review", ["2026-07-01", "2026-12-31"], ["2026-12-31", "2027-01-01"]),
]


@pytest.mark.parametrize(("word", "tier", "item", "over", "within"), FREQUENCIES, ids=[f"{r[0]}-{r[2]}" for r in FREQUENCIES])
def test_frequency_words(word, tier, item, over, within):
    # SPEC §1: Weekly <=1/week, Monthly <=1/month, Twice Monthly <=2/month, Quarterly <=1/quarter,
    # 2x/Quarter <=2/quarter, Semi-Annual(ly) <=1/half-year, Twice Yearly <=2/year, Annual <=1/year,
    # Up to 4x Per Year <=4/year; periods from the term start (I-1). One delivery more than the word
    # allows in one period -> the last one is a finding; the same number spread over the period
    # boundary is none.
    contract = make_contract(tier=tier, **TWO_YEARS)
    records = [delivery(f"d{i}", day, item) for i, day in enumerate(over, 1)]
    f = only(entitlement_findings(contract, records), FREQUENCY)
    assert (f.record, f.impact) == (f"d{len(over)}", None)  # a count, not hours or money
    assert f"'{word}' allows {len(over) - 1}" in f.message
    assert f"delivered {len(over)} times" in f.message
    assert f.clause in ("Table 2", "Table 3") and str(f.level) == "error"
    records = [delivery(f"d{i}", day, item) for i, day in enumerate(within, 1)]
    assert entitlement_findings(contract, records) == []


def test_included_has_no_count_limit():
    # Table 2: General Account Consulting is 'Included' for every tier: 40 deliveries in one week.
    records = [delivery(f"d{i}", "2026-01-05", "general_account_consulting") for i in range(40)]
    assert entitlement_findings(make_contract(tier="foundations"), records) == []


def test_months_of_a_term_starting_on_the_31st():
    # I-1: term from 2026-01-31: month 0 = [01-31, 01-31 + 1 month = 02-28) = 01-31..02-27,
    # month 1 = [02-28, 03-31). Customer Account Plan is 'Monthly' for Foundations.
    contract = make_contract(tier="foundations", start=date(2026, 1, 31))
    # 01-31 and 02-27: two calendar months, one contract month -> the second is over
    same = [delivery("d1", "2026-01-31", "customer_account_plan"), delivery("d2", "2026-02-27", "customer_account_plan")]
    f = only(entitlement_findings(contract, same), FREQUENCY)
    assert f.record == "d2"
    assert "2026-M01 (2026-01-31..2026-02-27)" in f.message
    # 02-27 and 02-28: one calendar month, two contract months -> no finding
    apart = [delivery("d1", "2026-02-27", "customer_account_plan"), delivery("d2", "2026-02-28", "customer_account_plan")]
    assert entitlement_findings(contract, apart) == []
    # 03-30 is still month 1 (month 2 starts 01-31 + 2 months = 03-31)
    late = [delivery("d1", "2026-02-28", "customer_account_plan"), delivery("d2", "2026-03-30", "customer_account_plan")]
    assert only(entitlement_findings(contract, late), FREQUENCY).record == "d2"


def test_months_around_a_leap_day():
    # I-1: term from 2028-01-31 (2028 is a leap year): month 0 = 2028-01-31..2028-02-28,
    # month 1 starts 01-31 + 1 month = 2028-02-29. 'Monthly' (Foundations Customer Account Plan):
    # 02-28 and 02-29 are in different contract months -> no finding; 02-29 and 03-30 in the same one.
    contract = make_contract(tier="foundations", start=date(2028, 1, 31))
    apart = [delivery("d1", "2028-02-28", "customer_account_plan"), delivery("d2", "2028-02-29", "customer_account_plan")]
    assert entitlement_findings(contract, apart) == []
    same = [delivery("d1", "2028-02-29", "customer_account_plan"), delivery("d2", "2028-03-30", "customer_account_plan")]
    assert only(entitlement_findings(contract, same), FREQUENCY).record == "d2"


def test_years_of_a_term_starting_on_a_leap_day():
    # I-1: term from 2028-02-29: year 0 = [2028-02-29, 2029-02-28) (2028-02-29 + 12 months = 2029-02-28).
    # 'Annual' (Fundamentals Industry KPI Analysis): 2028-02-29 and 2029-02-27 are one contract year
    # -> the second is over; 2029-02-27 and 2029-02-28 are two -> no finding.
    contract = make_contract(tier="fundamentals", start=date(2028, 2, 29), end=date(2030, 2, 27))
    same = [delivery("d1", "2028-02-29", "industry_kpi_analysis"), delivery("d2", "2029-02-27", "industry_kpi_analysis")]
    f = only(entitlement_findings(contract, same), FREQUENCY)
    assert (f.record, f.period) == ("d2", "2028")
    apart = [delivery("d1", "2029-02-27", "industry_kpi_analysis"), delivery("d2", "2029-02-28", "industry_kpi_analysis")]
    assert entitlement_findings(contract, apart) == []


def test_weeks_across_a_leap_day():
    # I-1: weeks are 7 days from the term start 2028-02-23: week 0 = 02-23..02-29 (leap day), week 1
    # from 03-01. 'Weekly' (Strategic Customer Account Plan).
    contract = make_contract(tier="strategic", start=date(2028, 2, 23))
    same = [delivery("d1", "2028-02-23", "customer_account_plan"), delivery("d2", "2028-02-29", "customer_account_plan")]
    assert only(entitlement_findings(contract, same), FREQUENCY).record == "d2"
    apart = [delivery("d1", "2028-02-29", "customer_account_plan"), delivery("d2", "2028-03-01", "customer_account_plan")]
    assert entitlement_findings(contract, apart) == []


def test_every_delivery_beyond_the_frequency_is_a_finding():
    # Table 3: Transcript Analysis 'Quarterly' for Premier: 3 in Q1 -> the 2nd and 3rd are over.
    records = [delivery(f"d{i}", f"2026-0{i}-10", "transcript_analysis") for i in (1, 2, 3)]
    assert [f.record for f in of(entitlement_findings(make_contract(), records), FREQUENCY)] == ["d2", "d3"]


# ---------------------------------------------------------------- entitlement.allowance_hours


@pytest.mark.parametrize(("tier", "allowance"), [("premier", 24), ("expert", 36), ("strategic", 48)])
def test_operational_consulting_allowance(tier, allowance):
    # Table 3: Discretionary Operational Consulting Allowance = Premier 24, Expert 36, Strategic 48 h
    # per year. allowance h + 0.5 h -> 0.5 h over, crossed by w2 (USD 240 x 0.5 = USD 120).
    contract = make_contract(tier=tier)
    records = [
        work("w1", "2026-01-05", allowance, service="discretionary_operational_consulting"),
        work("w2", "2026-08-05", 0.5, service="discretionary_operational_consulting"),
    ]
    f = only(entitlement_findings(contract, records), ALLOWANCE)
    assert (f.record, f.clause, f.period) == ("w2", "Table 3", "2026")
    assert f.impact.as_dict() == {"hours": 0.5, "amount": 120.0, "currency": "USD"}
    assert f"allowance {allowance} h: 0.5 h over" in f.message
    # exactly the allowance: no finding
    assert of(entitlement_findings(contract, records[:1]), ALLOWANCE) == []


SE_SERVICES = {
    # Table 4, I-2: one 'Up to N Hours' cap for all Solutions Engineering services of the tier.
    "fundamentals": (24, ["segmentation_management"]),
    "premier": (40, ["segmentation_management", "integrations"]),
    "expert": (50, ["segmentation_management", "integrations", "reporting_customization", "plugin_taglet_creation"]),
    "strategic": (240, ["segmentation_management", "integrations", "reporting_customization",
                        "plugin_taglet_creation", "customization"]),
}


@pytest.mark.parametrize("tier", list(SE_SERVICES))
def test_solutions_engineering_hours_are_shared_across_services(tier):
    # Table 4 (I-2): Fundamentals 24, Premier 40, Expert 50, Strategic 240 h per year for all
    # services together. The cap split evenly over the tier's services (each well under the cap
    # alone), then 1 h more -> 1 h over, crossed by "extra".
    cap, services = SE_SERVICES[tier]
    share = cap / len(services)
    records = [work(f"w-{s}", "2026-02-02", share, service=s) for s in services]
    contract = make_contract(tier=tier)
    assert entitlement_findings(contract, records) == []  # exactly the cap
    records.append(work("extra", "2026-09-01", 1, service=services[-1]))
    f = only(entitlement_findings(contract, records), ALLOWANCE)
    assert (f.record, f.clause, f.impact.hours) == ("extra", "Table 4", 1.0)
    assert f"of Solutions Engineering hours in contract year 2026, allowance {cap} h: 1 h over" in f.message


def test_allowances_are_per_contract_year_and_inside_section_1_hours():
    # Table 3: Premier 24 h/year of operational consulting; 24 h in 2026 and 24 h in 2027 are two
    # contract years -> no allowance finding. Section 4: SE hours are inside the Section 1 hours:
    # 40 h SE + 80 h general in 2026 Q1 = 120 h > 113 -> quarterly 7 h over.
    contract = make_contract(start=date(2026, 1, 1), end=date(2027, 12, 31))
    records = [
        work("w1", "2026-01-05", 24, service="discretionary_operational_consulting"),
        work("w2", "2027-01-05", 24, service="discretionary_operational_consulting"),
        work("w3", "2026-02-05", 40, service="segmentation_management"),
        work("w4", "2026-02-06", 56),
    ]
    findings = entitlement_findings(contract, records)
    assert of(findings, ALLOWANCE) == []
    assert (only(findings, QUARTERLY).record, only(findings, QUARTERLY).impact.hours) == ("w4", 7.0)


# ---------------------------------------------------------------- entitlement.channel_not_included


@pytest.mark.parametrize(
    ("tier", "channel", "tier2", "clause"),
    [
        ("foundations", "phone", False, "Table 6"),  # phone: Fundamentals+
        ("fundamentals", "phone", False, None),
        ("foundations", "web", False, None),  # web and chat: all tiers
        ("foundations", "chat", False, None),
        ("premier", "messaging", False, "Table 5"),  # messaging (primary engineer): Expert+
        ("expert", "messaging", False, None),
        ("strategic", "email", False, "Table 6"),  # email is no support channel of Tables 5-6
        ("premier", "web", True, "Table 6"),  # direct tier-2 access: Expert+
        ("expert", "web", True, None),
    ],
)
def test_support_channels(tier, channel, tier2, clause):
    records = [ticket("t1", "2026-03-02T10:00:00-05:00", channel=channel, tier2_direct=tier2)]
    findings = of(entitlement_findings(make_contract(tier=tier), records), CHANNEL)
    if clause is None:
        assert findings == []
    else:
        [f] = findings
        assert (f.record, f.clause, str(f.level), f.impact) == ("t1", clause, "warning", None)
        assert f"'{'tier2_direct' if tier2 else channel}' is not included in the {tier} package" in f.message


# ---------------------------------------------------------------- entitlement.outside_term


def test_work_outside_the_term_is_a_finding_and_not_counted():
    # Term 2026-01-01..2026-12-31. w2 on 2027-01-01 (50 h) is outside: impact 50 h x 240 = USD 12,000,
    # and it does not count toward Q4: 113 h in Q4 = the Premier cap, no quarterly finding.
    records = [work("w1", "2026-12-31", 113), work("w2", "2027-01-01", 50), work("w0", "2025-12-31", 1)]
    findings = entitlement_findings(make_contract(), records)
    assert rules_of(findings) == {OUTSIDE}
    assert [f.record for f in findings] == ["w2", "w0"]  # in file order
    f = of(findings, OUTSIDE)[0]
    assert f.impact.as_dict() == {"hours": 50.0, "amount": 12000.0, "currency": "USD"}
    assert "work dated 2027-01-01 is outside the contract term 2026-01-01..2026-12-31" in f.message


def test_ticket_term_uses_the_local_opening_date():
    # 2027-01-01T03:00Z is 2026-12-31 22:00 in America/New_York: inside the term;
    # 2027-01-01T05:00Z is 2027-01-01 00:00 there: outside.
    records = [
        ticket("t-in", "2027-01-01T03:00:00Z"),
        ticket("t-out", "2027-01-01T05:00:00Z"),
    ]
    f = only(entitlement_findings(make_contract(), records), OUTSIDE)
    assert (f.record, f.impact) == ("t-out", None)


def test_ticket_term_bounds_hold_in_every_utc_offset():
    # The term is 2026-01-01 00:00 to 2027-01-01 00:00 in New York (UTC-5 in winter); the same
    # instants written with other offsets fall on the same side of each bound.
    records = [
        ticket("t-before-est", "2025-12-31T23:59:59-05:00"),
        ticket("t-first-est", "2026-01-01T00:00:00-05:00"),
        ticket("t-before-ist", "2026-01-01T10:29:59+05:30"),
        ticket("t-first-ist", "2026-01-01T10:30:00+05:30"),
        ticket("t-last-est", "2026-12-31T23:59:59-05:00"),
        ticket("t-after-est", "2027-01-01T00:00:00-05:00"),
        ticket("t-last-utc", "2027-01-01T04:59:59Z"),
        ticket("t-after-ist", "2027-01-01T10:30:00+05:30"),
    ]
    outside = sorted(f.record for f in of(entitlement_findings(make_contract(), records), OUTSIDE))
    assert outside == ["t-after-est", "t-after-ist", "t-before-est", "t-before-ist"]


def test_deliveries_outside_the_term_are_not_counted_for_frequency():
    # Premier Transcript Analysis 'Quarterly': one on 2025-12-20 (before the term) and one on 2026-01-10:
    # the first is outside the term, the second is the only one of 2026-Q1 -> no frequency finding.
    records = [delivery("d0", "2025-12-20", "transcript_analysis"), delivery("d1", "2026-01-10", "transcript_analysis")]
    findings = entitlement_findings(make_contract(), records)
    assert [(f.rule, f.record) for f in findings] == [(OUTSIDE, "d0")]
