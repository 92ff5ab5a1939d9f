"""Contract periods anchored to the term start (reading I-1): month k = [start + k months,
start + k+1 months); quarters, half-years and years are 3, 6 and 12 such months; week k is 7 days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cso_policy.core.calendar import PERIOD_KINDS, ContractCalendar
from cso_policy.errors import ConfigError


def cal(start: date, end: date | None = None) -> ContractCalendar:
    return ContractCalendar(start, end or start + timedelta(days=364))


def test_the_start_day_is_period_zero_of_every_kind():
    periods = cal(date(2026, 1, 31)).periods(date(2026, 1, 31))
    assert [periods.index(kind) for kind in PERIOD_KINDS] == [0, 0, 0, 0, 0]


def test_days_before_the_start_have_negative_indexes():
    periods = cal(date(2026, 1, 31)).periods(date(2026, 1, 30))
    assert (periods.week, periods.month, periods.quarter, periods.year) == (-1, -1, -1, -1)


@pytest.mark.parametrize(
    ("kind", "index", "first", "last"),
    [
        # 2026-01-31 + 1 month = 2026-02-28 (clipped), + 2 months = 2026-03-31, + 3 = 2026-04-30
        ("month", 0, date(2026, 1, 31), date(2026, 2, 27)),
        ("month", 1, date(2026, 2, 28), date(2026, 3, 30)),
        ("month", 2, date(2026, 3, 31), date(2026, 4, 29)),
        ("quarter", 0, date(2026, 1, 31), date(2026, 4, 29)),
        ("quarter", 1, date(2026, 4, 30), date(2026, 7, 30)),
        ("half", 0, date(2026, 1, 31), date(2026, 7, 30)),
        ("year", 0, date(2026, 1, 31), date(2027, 1, 30)),
        ("week", 0, date(2026, 1, 31), date(2026, 2, 6)),
        ("week", 1, date(2026, 2, 7), date(2026, 2, 13)),
    ],
)
def test_bounds_of_a_term_starting_on_the_31st(kind, index, first, last):
    assert cal(date(2026, 1, 31)).bounds(kind, index) == (first, last)


def test_leap_day_start():
    # 2028-02-29 + 1 month = 2028-03-29; + 12 months = 2029-02-28 (no 29th): year 0 ends 2029-02-27.
    c = cal(date(2028, 2, 29), date(2030, 2, 27))
    assert c.bounds("month", 0) == (date(2028, 2, 29), date(2028, 3, 28))
    assert c.bounds("year", 0) == (date(2028, 2, 29), date(2029, 2, 27))
    assert c.periods(date(2029, 2, 27)).year == 0
    assert c.periods(date(2029, 2, 28)).year == 1


@pytest.mark.parametrize("start", [date(2026, 1, 1), date(2026, 1, 31), date(2026, 8, 31), date(2028, 2, 29),
                                   date(2027, 12, 15)])
def test_every_day_lies_within_the_bounds_of_its_periods(start):
    # For two years of days from the start: each day's period of each kind contains it, and the
    # periods of one kind tile the days (consecutive, no gaps or overlaps).
    c = cal(start, start + timedelta(days=730))
    previous = {}
    for offset in range(731):
        day = start + timedelta(days=offset)
        periods = c.periods(day)
        for kind in PERIOD_KINDS:
            index = periods.index(kind)
            first, last = c.bounds(kind, index)
            assert first <= day <= last, (kind, index, day)
            if kind in previous:
                assert index in (previous[kind], previous[kind] + 1)
                if index == previous[kind] + 1:
                    assert first == day
            previous[kind] = index


@pytest.mark.parametrize(
    ("start", "kind", "index", "label"),
    [
        (date(2026, 1, 1), "quarter", 0, "2026-Q1"),
        (date(2026, 1, 1), "quarter", 5, "2027-Q2"),
        (date(2026, 1, 1), "half", 1, "2026-H2"),
        (date(2026, 1, 1), "month", 0, "2026-M01"),
        (date(2026, 1, 1), "month", 13, "2027-M02"),
        (date(2026, 1, 1), "year", 1, "2027"),
        (date(2026, 1, 1), "week", 0, "2026-W01"),
        # contract year k is named after the calendar year it starts in
        (date(2025, 12, 1), "quarter", 0, "2025-Q1"),
        (date(2025, 12, 1), "quarter", 4, "2026-Q1"),
    ],
)
def test_labels(start, kind, index, label):
    c = cal(start, start + timedelta(days=800))
    assert c.label(kind, index) == label


@pytest.mark.parametrize(
    ("label", "parsed"),
    [
        ("2026-Q1", ("quarter", 0)),
        ("2027-Q2", ("quarter", 5)),
        ("2026", ("year", 0)),
        ("2026-H2", ("half", 1)),
        ("2026-M12", ("month", 11)),
        ("2026-Q5", None),
        ("2026-Q0", None),
        ("2026-M13", None),
        ("2025-Q1", None),  # before the first contract year
        ("26-Q1", None),
        ("2026-X1", None),
        ("2026-Q", None),
        ("Q1-2026", None),
    ],
)
def test_parse_label(label, parsed):
    assert cal(date(2026, 1, 1)).parse_label(label) == parsed


@pytest.mark.parametrize("kind", ["quarter", "half", "month", "year"])
def test_labels_round_trip(kind):
    c = cal(date(2026, 3, 15), date(2029, 3, 14))
    for index in range(30 if kind == "month" else 8):
        assert c.parse_label(c.label(kind, index)) == (kind, index)


def test_in_term_includes_both_ends():
    c = ContractCalendar(date(2026, 1, 1), date(2026, 12, 31))
    assert c.in_term(date(2026, 1, 1)) and c.in_term(date(2026, 12, 31))
    assert not c.in_term(date(2025, 12, 31)) and not c.in_term(date(2027, 1, 1))


def test_only_the_term_start_anchor_is_supported():
    with pytest.raises(ConfigError, match="period anchor 'calendar' is not supported"):
        ContractCalendar(date(2026, 1, 1), date(2026, 12, 31), anchor="calendar")


def test_week_labels_restart_at_w01_in_the_next_contract_year():
    # Term 2026-01-01: week 52 = 2026-12-31..2027-01-06 starts in contract year 2026 ("2026-W53");
    # week 53 = 2027-01-07..01-13 is the first week starting in contract year 2027: "2027-W01".
    c = ContractCalendar(date(2026, 1, 1), date(2027, 12, 31))
    assert [c.label("week", i) for i in (51, 52, 53, 54)] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
