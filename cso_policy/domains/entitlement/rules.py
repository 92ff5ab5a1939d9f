"""Entitlement rules: Section 1 hours, Tables 2-4 deliverables and allowances, Tables 5-6 channels."""

from __future__ import annotations

from ...core.context import Audit, ContractView, Pool, Tally
from ...core.model import Level, Violation
from ...core.rule import rule
from ..sla.records import Ticket
from .explain import explain_hours
from .ledger import billing, cell, pool_ledger
from .records import Delivery, Work
from .terms import NOT_INCLUDED, entitlement_terms


def _h(hours: float) -> str:
    return f"{hours:,.2f}".rstrip("0").rstrip(".")


def _pool_name(pool: Pool) -> str:
    return f"package {pool.id} ({pool.tier}; {', '.join(pool.lobs)})"


def _cap_violations(audit: Audit, table: str, period: str, what: str):
    """One violation per pool and period whose tally went over its cap."""
    for view in audit.contracts.values():
        for pool in view.pools.values():
            tallies: dict[int, Tally] = getattr(pool_ledger(pool), table)
            for index, tally in sorted(tallies.items()):
                if tally.crossing is None:
                    continue
                label = view.calendar.label(period, index)
                yield _over(view, tally, label, (
                    f"{_pool_name(pool)}: {_h(tally.total)} h worked in {label}, {what} cap "
                    f"{_h(tally.cap)} h: {_h(tally.over)} h over; record {tally.crossing.id} crossed the cap"
                ))


def _over(view: ContractView, tally: Tally, label: str, message: str, clause: str | None = None) -> Violation:
    """A cap crossed: named by the record that crossed it, priced at the agreed rate."""
    return Violation(record=tally.crossing, message=message, clause=clause, impact=view.money(tally.over),
                     period=label, lob=tally.crossing.lob, contract=view.id)


@rule(
    "entitlement.quarterly_hours",
    "Hours worked in a contract quarter exceed the package's quarterly hours",
    "Section 1",
    Level.WARNING,
    finish=True,
    explain=explain_hours,
)
def quarterly_hours(audit: Audit):
    """Sum of work hours per package pool and contract quarter (anchored to the term start)
    against the tier's quarterly hours; names the record that crossed the cap."""
    return _cap_violations(audit, "quarters", "quarter", "quarterly")


@rule(
    "entitlement.annual_hours",
    "Hours worked in a contract year exceed the package's annual hours",
    "Section 1",
    Level.WARNING,
    finish=True,
    explain=explain_hours,
)
def annual_hours(audit: Audit):
    """Sum of work hours per package pool and contract year against the tier's annual hours.
    Both caps apply (Premier 113 x 4 = 452 per quarter-sum vs 455 per year)."""
    return _cap_violations(audit, "years", "year", "annual")


@rule(
    "entitlement.not_included",
    "Work or a deliverable the package does not include",
    "Tables 2-5, 10",
    Level.ERROR,
    kinds=("work", "delivery"),
)
def not_included(record: Work | Delivery, view: ContractView, pool: Pool, audit: Audit):
    """A work record's service or a delivery's deliverable whose cell for the tier is '–'."""
    item = record.service if record.kind == "work" else record.deliverable
    found = cell(pool, item)
    if found is None or found.status != NOT_INCLUDED:
        return None
    terms = entitlement_terms(view.policy).items[item]
    hours = getattr(record, "hours", None)
    return (
        Violation(
            record=record,
            message=f"{terms.name} is not included in the {pool.tier} package {pool.id} ({terms.clause}: '–')",
            clause=terms.clause,
            impact=view.money(hours) if hours is not None else None,
        ),
    )


@rule(
    "entitlement.frequency",
    "A deliverable delivered more often than the package allows",
    "Tables 2-3",
    Level.ERROR,
    kinds=("delivery",),
)
def frequency(record: Delivery, view: ContractView, pool: Pool, audit: Audit):
    """Deliveries per pool, deliverable and period (week, month, quarter, half-year, year from
    the term start, I-1) against the tier's frequency word; each delivery beyond it is a finding."""
    if record.id not in billing(view).over_frequency:
        return None
    found = cell(pool, record.deliverable)
    index = view.calendar.periods(record.date).index(found.period)
    first, last = view.calendar.bounds(found.period, index)
    label = view.calendar.label(found.period, index)
    count = pool_ledger(pool).deliveries[(record.deliverable, found.period, index)]
    terms = entitlement_terms(view.policy).items[record.deliverable]
    return (
        Violation(
            record=record,
            message=(
                f"{terms.name} delivered {count} times in contract {found.period} {label} ({first}..{last}) "
                f"to {_pool_name(pool)}; '{found.word}' allows {found.max}"
            ),
            clause=terms.clause,
            period=label,
        ),
    )


@rule(
    "entitlement.allowance_hours",
    "Hours on an allowance (operational consulting, Solutions Engineering) exceed it",
    "Tables 3-4",
    Level.WARNING,
    finish=True,
    explain=explain_hours,
)
def allowance_hours(audit: Audit):
    """Discretionary Operational Consulting hours (Table 3) and Solutions Engineering hours
    (Table 4, one shared cap for all its services per I-2) per pool and contract year."""
    for view in audit.contracts.values():
        allowances = entitlement_terms(view.policy).allowances
        for pool in view.pools.values():
            for (key, year), tally in sorted(pool_ledger(pool).allowances.items()):
                if tally.crossing is None:
                    continue
                allowance_id, _, service = key.partition(":")
                terms = allowances[allowance_id]
                label = view.calendar.label("year", year)
                name = terms.name + (f" ({service})" if service else "")
                yield _over(view, tally, label, (
                    f"{_pool_name(pool)}: {_h(tally.total)} h of {name} in contract year {label}, "
                    f"allowance {_h(tally.cap)} h: {_h(tally.over)} h over"
                ), terms.clause)


@rule(
    "entitlement.channel_not_included",
    "A support ticket through a channel the package does not include",
    "Tables 5-6",
    Level.WARNING,
    kinds=("ticket",),
)
def channel_not_included(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """The ticket's channel (phone Fundamentals+, messaging Expert+, web and chat all tiers)
    and direct tier-2 access (Expert+) against Tables 5-6."""
    policy = entitlement_terms(view.policy)
    if policy.channel_included(pool.tier, record.channel) and not record.tier2_direct:
        return None  # the common case
    found = []
    for channel, used in ((record.channel, True), ("tier2_direct", record.tier2_direct)):
        if used and not policy.channel_included(pool.tier, channel):
            terms = policy.channels.get(channel)
            found.append(
                Violation(
                    record=record,
                    message=f"support channel '{channel}' is not included in the {pool.tier} package {pool.id}",
                    clause=terms.clause if terms else None,
                )
            )
    return found


@rule(
    "entitlement.outside_term",
    "A record dated outside the contract term",
    "Section 1",
    Level.ERROR,
    kinds=("work", "delivery", "ticket", "expense"),
)
def outside_term(record, view: ContractView, pool: Pool | None, audit: Audit):
    """Work, deliveries, tickets (local opening date) and expenses must fall within the term;
    they are not counted against any period's caps."""
    if record.kind == "ticket":
        if view.in_term(record.opened_at):
            return None
        day = view.local_date(record.opened_at)
    else:
        day = record.date
        if view.calendar.in_term(day):
            return None
    term = view.contract.term
    if day > term.end and getattr(record, "expansion", None) is not None:
        return None  # expansion.after_term reports it: one deviation, one finding
    hours = getattr(record, "hours", None)
    return (
        Violation(
            record=record,
            message=f"{record.kind} dated {day} is outside the contract term {term.start}..{term.end}",
            impact=view.money(hours) if hours is not None else None,
        ),
    )


RULES = (quarterly_hours, annual_hours, not_included, frequency, allowance_hours, channel_not_included, outside_term)
