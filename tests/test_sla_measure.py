"""The clocks of one ticket: the all-met fast path agrees with the clock-by-clock measurement,
and the timestamps it compares carry fixed UTC offsets; term bounds compare instants."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cso_policy.core.context import build_view
from cso_policy.core.convert import FIXED_OFFSETS
from cso_policy.testing import structure_record
from cso_policy.policy.registry import PolicyRegistry
from cso_policy.domains.sla.business_days import business_calendar
from cso_policy.domains.sla.clocks import BREACHED, measure, measure_clocks, timeline_problems
from cso_policy.domains.sla.terms import sla_terms
from tests.conftest import POLICY, POLICY_ROOT, make_contract, ticket

NEW_YORK = ZoneInfo("America/New_York")
AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def terms():
    return sla_terms(PolicyRegistry([POLICY_ROOT]).get(POLICY))


def _near(rnd: random.Random, target: timedelta | None) -> timedelta:
    """An elapsed time a few seconds either side of *target* (or anything up to 3 days)."""
    if target is None or rnd.random() < 0.05:
        return timedelta(seconds=rnd.randrange(0, 3 * 86400))
    over = rnd.random() < 0.1
    return target + timedelta(seconds=rnd.choice((1, 5) if over else (-3600, -5, -1, 0)))


def _random_ticket(rnd: random.Random, cell, n: int) -> dict:
    """A ticket whose clocks land on, just under or just over the cell's targets; timestamps in
    New York winter or summer time or UTC, fields left out at random."""
    opened = datetime(2026, rnd.choice((1, 3, 7, 11)), rnd.randrange(1, 28), rnd.randrange(24), rnd.randrange(60),
                      tzinfo=timezone.utc).astimezone(rnd.choice((timezone.utc, NEW_YORK)))
    extra: dict = {"is_bug": rnd.random() < 0.3}
    first = opened + _near(rnd, cell.response and cell.response.delta)
    if rnd.random() < 0.85:
        extra["first_response_at"] = first.isoformat()
    last, updates = first, []
    gap = cell.periodic_update and cell.periodic_update.delta
    for _ in range(rnd.randrange(0, 4)):
        last = last + _near(rnd, gap)
        updates.append(last.isoformat())
    extra["updates"] = updates
    if rnd.random() < 0.9:
        resolved = max(last + _near(rnd, gap), opened + _near(rnd, cell.resolution and cell.resolution.delta))
        extra["resolved_at"] = resolved.isoformat()
        if rnd.random() < 0.8:
            extra["rca_delivered_at"] = (resolved + timedelta(hours=rnd.randrange(0, 24 * 3))).isoformat()
    return ticket(f"t{n}", opened.isoformat(), **extra)


@pytest.mark.parametrize("tier", ["premier", "expert", "strategic"])
def test_fast_path_agrees_with_the_clock_by_clock_measurement(terms, tier):
    # measure() decides the common all-met ticket with plain comparisons and one shared result;
    # on every ticket it must give what measuring clock by clock gives, met or breached.
    rnd = random.Random(tier)
    calendar = business_calendar(NEW_YORK, terms, "US", None, 2026)
    targets = terms.targets(tier)
    outcomes = {"met": 0, "breached": 0}
    for n in range(1500):
        severity = rnd.choice(("P1", "P2", "P3"))
        t = structure_record(_random_ticket(rnd, targets[severity], n) | {"severity": severity})
        problems = timeline_problems(t)
        as_of = rnd.choice((None, AS_OF))
        fast = measure(t, targets, terms, calendar, as_of, problems)
        assert fast == measure_clocks(t, targets, terms, calendar, as_of, problems), t
        outcomes["breached" if BREACHED in fast.statuses else "met"] += 1
    assert min(outcomes.values()) > 100, outcomes  # both sides of the targets were exercised


def test_timestamps_with_the_same_offset_share_one_tzinfo():
    # The clocks compare a ticket's timestamps a dozen times; datetimes sharing a tzinfo object
    # compare without utcoffset() calls, so parsing must not make a tzinfo per string.
    a = structure_record(ticket("t1", "2026-03-02T09:00:00-05:00", resolved_at="2026-03-03T10:00:00-05:00"))
    b = structure_record(ticket("t2", "2026-07-02T09:00:00.5-05:00"))
    assert a.opened_at.tzinfo is a.resolved_at.tzinfo is b.opened_at.tzinfo
    assert a.opened_at.utcoffset() == timedelta(hours=-5)


def test_a_zoneinfo_timestamp_from_an_adapter_keeps_its_instant_with_a_fixed_offset():
    # An adapter may hand over datetimes instead of strings. Sat 2026-03-07 12:00 in New York is
    # 17:00Z; kept as 12:00-05:00, 24 h later is Sun 13:00 EDT (the clocks went forward at 02:00).
    moment = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    t = structure_record(ticket("t1", moment))
    assert type(t.opened_at.tzinfo) in FIXED_OFFSETS
    assert t.opened_at == moment and t.opened_at.isoformat() == "2026-03-07T12:00:00-05:00"
    assert (t.opened_at + timedelta(hours=24)).astimezone(NEW_YORK) == datetime(2026, 3, 8, 13, 0, tzinfo=NEW_YORK)


def test_a_timestamp_in_a_str_subclass_loads():
    # adapters may hand over strings from their own libraries (str subclasses)
    class Text(str):
        pass

    t = structure_record(ticket("t1", Text("2026-03-02T10:00:00Z")))
    assert t.opened_at == datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def test_term_bounds_compare_instants_for_a_zoneinfo_moment():
    # A Regina contract (UTC-6 all year) whose term opens 2026-11-01 00:00 local = 06:00Z.
    # 05:30Z is 01:30 EDT in New York, the first of the two 01:30s that night: before the term,
    # though its wall-clock time is later than the opening's 01:00 EST.
    view = build_view(make_contract(start=date(2026, 11, 1), timezone="America/Regina"),
                      PolicyRegistry([POLICY_ROOT]).get(POLICY))
    before = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc).astimezone(NEW_YORK)
    assert not view.in_term(before)
    assert view.in_term(datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc).astimezone(NEW_YORK))
    assert not view.in_term(datetime(2026, 11, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5))))  # 05:30Z
