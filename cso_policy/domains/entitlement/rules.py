"""Entitlement rules: Section 1 hours, Tables 2-4 deliverables and allowances, Tables 5-6 channels."""

from __future__ import annotations

from ...core.context import Audit, ContractView, Pool, Tally
from ...core.model import Level, Violation
from ...core.rule import fails, passes, rule
from ..sla.records import Ticket
from .explain import explain_hours
from .ledger import billing, cell, pool_ledger
from .records import Delivery, Work
from .terms import NOT_INCLUDED, entitlement_terms


# ---- example records, for the example contract (cso_policy.testing.EXAMPLE_CONTRACT): one Premier
# package p1 for LOB "retail", term 2026-01-01..2026-12-31 in America/New_York, overage USD 240/h (SOW-1).


def _work(id: str, day: str, hours: float, service: str = "general_account_consulting", **extra) -> dict:
    return {"kind": "work", "id": id, "date": day, "lob": "retail", "hours": hours, "service": service, **extra}


def _delivery(id: str, day: str, deliverable: str, **extra) -> dict:
    return {"kind": "delivery", "id": id, "date": day, "lob": "retail", "deliverable": deliverable, **extra}


def _ticket(id: str, opened_at: str, channel: str = "web", **extra) -> dict:
    return {"kind": "ticket", "id": id, "lob": "retail", "severity": "P3", "opened_at": opened_at,
            "channel": channel, **extra}


def _quarters(prefix: str, *hours: float) -> tuple[dict, ...]:
    """One work record per contract quarter of 2026 (on the 6th of its first month), ids prefix-q1..q4."""
    return tuple(_work(f"{prefix}-q{i}", f"2026-{3 * i - 2:02d}-06", h) for i, h in enumerate(hours, 1))


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
    examples=[
        passes(_work("w1", "2026-01-05", 60), _work("w2", "2026-03-31", 53),
               note="Premier 113 h/quarter (Section 1): 60 + 53 = 113 h in 2026-Q1 is at the cap, not over it"),
        fails(_work("w1", "2026-01-05", 60), _work("w2", "2026-03-31", 53.5), flags=["w2"],
              note="Premier 113 h/quarter (Section 1): 60 + 53.5 = 113.5 h in 2026-Q1, 0.5 h over; w2 crosses the cap"),
        passes(_work("w1", "2026-03-31", 113), _work("w2", "2026-04-01", 0.5),
               note="Quarters run from the term start (I-1): 113 h in Q1 (to 03-31) and 0.5 h in Q2 (from 04-01)"),
        fails(_work("w1", "2026-01-10", 60), _work("w2", "2026-01-20", 60, lob="outlet"), flags=["w2"],
              contract={"lobs": ["retail", "outlet"]},
              note="One Premier package for two LOBs shares 113 h/quarter (Section 1): 60 + 60 = 120 h, 7 h over"),
    ],
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
    examples=[
        passes(*_quarters("w", 113, 113, 113, 116),
               note="Premier 455 h/year (Section 1): 113 + 113 + 113 + 116 = 455 h is at the annual cap "
                    "(Q4's 3 h over 113 is entitlement.quarterly_hours)"),
        fails(*_quarters("w", 113, 113, 113, 116.5), flags=["w-q4"],
              note="Premier 455 h/year (Section 1): 113 + 113 + 113 + 116.5 = 455.5 h, 0.5 h over; w-q4 crosses"),
    ],
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
    examples=[
        fails(_delivery("d1", "2026-02-02", "monthly_business_review"), flags=["d1"],
              note="Table 2: Monthly Business Review is '–' for Premier (Strategic only)"),
        passes(_delivery("d1", "2026-02-02", "monthly_business_review"), contract={"tier": "strategic"},
               note="Table 2: Monthly Business Review is 'Monthly' for Strategic"),
        fails(_work("w1", "2026-02-02", 3, "reporting_customization"), flags=["w1"],
              note="Table 4: Reporting Customization is '–' for Premier (Expert and Strategic)"),
        passes(_work("w1", "2026-02-02", 3, "integrations"),
               note="Table 4: Integrations is 'Included' for Premier (Premier and up)"),
        passes(_delivery("d1", "2026-02-02", "on_site_operations_monitoring"),
               note="Table 3: On-Site Operations Monitoring is 'At Additional Costs' for Premier: available, "
                    "billed separately (billing.additional_cost_unbilled), not '–'"),
    ],
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
    examples=[
        fails(*(_delivery(f"d{i}", day, "customer_account_plan") for i, day in
                enumerate(["2026-01-02", "2026-01-15", "2026-01-31"], 1)), flags=["d3"],
              note="Table 2: Customer Account Plan 'Twice Monthly' for Premier: 3 in contract month "
                   "2026-01-01..01-31 > 2; the third is over"),
        passes(*(_delivery(f"d{i}", day, "customer_account_plan") for i, day in
                 enumerate(["2026-01-02", "2026-01-31", "2026-02-01"], 1)),
               note="'Twice Monthly' (Table 2): 2 in month 2026-01-01..01-31, the third on 02-01 opens the next month"),
        fails(*(_delivery(f"d{i}", f"2026-0{i}-10", "transcript_analysis") for i in (1, 2, 3)), flags=["d2", "d3"],
              note="Table 3: Transcript Analysis 'Quarterly' for Premier: 3 in 2026-Q1 > 1; the 2nd and 3rd are over"),
        passes(_delivery("d1", "2026-03-31", "transcript_analysis"), _delivery("d2", "2026-04-01", "transcript_analysis"),
               note="'Quarterly' (Table 3), quarters from the term start (I-1): one in Q1 (03-31), one in Q2 (04-01)"),
        fails(*(_delivery(f"d{i}", day, "customer_account_plan") for i, day in
                enumerate(["2026-01-02", "2026-01-15", "2026-01-31"], 1)), flags=["d3"],
              contract={"policy": "liveperson-cso@1.1"},
              note="liveperson-cso@1.1, I-7: the third 'Twice Monthly' account plan in a month is still a finding, "
                   "at level warning: Table 2 is planned 'in accordance with Customer’s needs and mutual planning'"),
        fails(_delivery("d1", "2026-01-10", "target_analysis_reports"), _delivery("d2", "2026-02-10", "target_analysis_reports"),
              _delivery("d3", "2026-03-10", "target_analysis_reports"), flags=["d3"],
              contract={"tier": "fundamentals", "policy": "liveperson-cso@1.1"},
              note="I-8: 'Twice Yearly' (Table 2, Fundamentals) allows 2 per contract year, in any half: d3 is the 3rd"),
        passes(_delivery("d1", "2026-06-30", "on_site_operations_monitoring"),
               _delivery("d2", "2026-07-01", "on_site_operations_monitoring"),
               contract={"tier": "expert", "policy": "liveperson-cso@1.1"},
               note="I-8: 'Semi-Annually' (Table 3, Expert) allows 1 per contract half-year: one in H1 (06-30), one in H2 (07-01)"),
    ],
)
def frequency(record: Delivery, view: ContractView, pool: Pool, audit: Audit):
    """Deliveries per pool, deliverable and period (week, month, quarter, half-year, year from
    the term start, I-1) against the tier's frequency word (I-8); each delivery beyond it is a
    finding, at the level the policy's [frequency_overrun] gives the item's table (I-7: Table 2
    a warning, Table 3 an error; the rule's level when the policy gives none)."""
    if record.id not in billing(view).over_frequency:
        return None
    found = cell(pool, record.deliverable)
    index = view.calendar.periods(record.date).index(found.period)
    first, last = view.calendar.bounds(found.period, index)
    label = view.calendar.label(found.period, index)
    count = pool_ledger(pool).deliveries[(record.deliverable, found.period, index)]
    policy = entitlement_terms(view.policy)
    terms = policy.items[record.deliverable]
    return (
        Violation(
            record=record,
            message=(
                f"{terms.name} delivered {count} times in contract {found.period} {label} ({first}..{last}) "
                f"to {_pool_name(pool)}; '{found.word}' allows {found.max}"
            ),
            clause=terms.clause,
            period=label,
            level=policy.overrun_level(terms.clause),
        ),
    )


@rule(
    "entitlement.allowance_hours",
    "Hours on an allowance (operational consulting, Solutions Engineering) exceed it",
    "Tables 3-4",
    Level.WARNING,
    finish=True,
    explain=explain_hours,
    examples=[
        passes(_work("w1", "2026-01-05", 24, "discretionary_operational_consulting"),
               note="Table 3: Premier Discretionary Operational Consulting Allowance 24 h/year: 24 h is at it"),
        fails(_work("w1", "2026-01-05", 24, "discretionary_operational_consulting"),
              _work("w2", "2026-08-05", 0.5, "discretionary_operational_consulting"), flags=["w2"],
              note="Table 3: Premier 24 h/year: 24 + 0.5 = 24.5 h in contract year 2026, 0.5 h over; w2 crosses"),
        passes(_work("w1", "2026-02-02", 20, "segmentation_management"), _work("w2", "2026-02-03", 20, "integrations"),
               note="Table 4: Premier 'Up to 40 Hours' of Solutions Engineering, one cap for all its services "
                    "(I-2): 20 + 20 = 40 h is at it"),
        fails(_work("w1", "2026-02-02", 20, "segmentation_management"), _work("w2", "2026-02-03", 20, "integrations"),
              _work("w3", "2026-09-01", 1, "integrations"), flags=["w3"],
              note="Table 4 (I-2): Premier 40 h shared: 20 + 20 + 1 = 41 h, 1 h over; w3 crosses"),
    ],
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
    examples=[
        fails(_ticket("t1", "2026-03-02T10:00:00-05:00", "messaging"), flags=["t1"],
              note="Table 5: the messaging channel to the primary engineer is Expert and up, '–' for Premier"),
        passes(_ticket("t1", "2026-03-02T10:00:00-05:00", "messaging"), contract={"tier": "expert"},
               note="Table 5: messaging is included for Expert"),
        fails(_ticket("t1", "2026-03-02T10:00:00-05:00", "phone"), flags=["t1"], contract={"tier": "foundations"},
              note="Table 6: phone support is Fundamentals and up, '–' for Foundations"),
        passes(_ticket("t1", "2026-03-02T10:00:00-05:00", "phone"), contract={"tier": "fundamentals"},
               note="Table 6: phone support is included for Fundamentals"),
        fails(_ticket("t1", "2026-03-02T10:00:00-05:00", "messaging", tier2_direct=True), flags=["t1", "t1"],
              note="Tables 5-6: messaging and direct tier-2 access are both Expert and up: two findings for Premier"),
        passes(_ticket("t1", "2026-03-02T10:00:00-05:00", "web"), _ticket("t2", "2026-03-02T11:00:00-05:00", "chat"),
               note="Table 6: web and chat support are included for every tier"),
    ],
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
    examples=[
        fails(_work("w1", "2026-12-31", 8), _work("w2", "2027-01-01", 8), flags=["w2"], as_of="2027-02-01T00:00:00Z",
              note="Term 2026-01-01..2026-12-31: w1 on the last day is in it, w2 on 2027-01-01 is after it"),
        fails(_delivery("d0", "2025-12-31", "customer_account_plan"), _delivery("d1", "2026-01-01", "customer_account_plan"),
              flags=["d0"], note="Term 2026-01-01..2026-12-31: d0 the day before the start is outside, d1 is in it"),
        passes(_ticket("t1", "2027-01-01T04:59:59Z"), as_of="2027-02-01T00:00:00Z",
               note="Opened 2026-12-31 23:59:59 in New York (UTC-5): the local opening date is in the term"),
        fails(_ticket("t1", "2027-01-01T05:00:00Z"), flags=["t1"], as_of="2027-02-01T00:00:00Z",
              note="Opened 2027-01-01 00:00 in New York (UTC-5): the local opening date is after the term"),
        fails({"kind": "expense", "id": "e1", "date": "2027-01-02", "amount": 120.0, "currency": "USD",
               "approved_at": "2026-12-20T10:00:00-05:00"}, flags=["e1"], as_of="2027-02-01T00:00:00Z",
              note="An expense incurred 2027-01-02 is after the term 2026-01-01..2026-12-31"),
    ],
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
