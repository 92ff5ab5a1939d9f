"""SLA rules: Table 8 targets per tier and severity (Section 8), Table 7 severities (Section 7).

All SLA rules read one measurement per ticket (:func:`ticket_sla`), kept in
``audit.state`` until the next ticket; the same measurement feeds the attainment
summary, so each ticket is counted once. The clock rules share the gate
:func:`clocks_to_report`: it measures the ticket and lets them run only when a clock
is breached (or a calendar warning is due), so a ticket with every clock met costs
one call, not four.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from attrs import define, evolve, field

from ...core.context import Audit, ContractView, Pool
from ...core.model import Impact, Level, Violation, duration_text
from ...core.rule import fails, passes, rule
from ...errors import ConfigError
from .attainment import Attainment
from .business_days import BusinessCalendar, business_calendar
from .clocks import BREACHED, MET, Breach, TicketSla, final_severity, measure, timeline_problems
from .records import Ticket
from .terms import CLOCK_NAMES, MODULE, SlaTerms, sla_terms

STATE = MODULE


@define
class ContractSla:
    terms: SlaTerms
    calendar: BusinessCalendar | None
    calendar_error: str | None = None
    calendar_reported: bool = False


@define
class SlaRun:
    ticket: Ticket | None = None  # the ticket `last` belongs to
    last: TicketSla | None = None
    timeline: tuple | None = None  # (ticket, its timeline problems)
    attainment: dict[tuple[str, str, str], Attainment] = field(factory=dict)


def contract_sla(view: ContractView) -> ContractSla | None:
    """The contract's SLA terms and business calendar, built once per contract and audit."""
    if STATE not in view.state:
        terms = sla_terms(view.policy)
        view.state[STATE] = None if terms is None else _with_calendar(view, terms)
    return view.state[STATE]


def _with_calendar(view: ContractView, terms: SlaTerms) -> ContractSla:
    c = view.contract
    try:
        calendar = business_calendar(view.zone, terms, c.holidays, c.holidays_subdiv, c.term.start.year)
    except ConfigError as exc:
        where = "$.holidays_subdiv" if c.holidays_subdiv else "$.holidays"
        return ContractSla(terms, None, f"{c.path or c.id} {where}: {exc}")
    return ContractSla(terms, calendar)


def ticket_sla(record: Ticket, view: ContractView, pool: Pool | None, audit: Audit) -> TicketSla | None:
    """Every clock of the ticket, or None when its tier has no enhanced SLA."""
    run = audit.state.get(STATE) or _run(audit)
    if run.ticket is record:  # the gate measured it; the rules read the same result
        return run.last
    run.ticket, run.last = record, None
    contract = contract_sla(view)
    targets = contract.terms.targets(pool.tier) if contract is not None and pool is not None else None
    if targets is None:
        return None
    sla = measure(record, targets, contract.terms, contract.calendar, audit.as_of, _timeline(record, run))
    run.last = sla
    key = (view.id, pool.tier, final_severity(record))
    tally = run.attainment.get(key)
    if tally is None:
        tally = run.attainment[key] = Attainment()
    tally.add(sla)
    return sla


def clocks_to_report(record: Ticket, view: ContractView, pool: Pool | None, audit: Audit) -> bool:
    """Gate of the clock rules: measure the ticket; true when a clock is breached or the
    contract's RCA calendar warning is still to be given."""
    sla = ticket_sla(record, view, pool, audit)
    if sla is None:
        return False
    if BREACHED in sla.statuses:
        return True
    contract = contract_sla(view)
    return contract.calendar_error is not None and not contract.calendar_reported


# ------------------------------------------------------------ messages


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _breach_violation(record: Ticket, view: ContractView, pool: Pool, breach: Breach, terms: SlaTerms) -> Violation:
    span, target = breach.span, breach.target
    if breach.restarted_by is not None:
        start = f"the severity change to {breach.restarted_by.severity} at {_at(breach.origin)} (I-5 restart)"
    else:
        start = f"{span.start_path} {_at(span.start)}"
    if breach.cut_by is not None:
        stop = f"the severity change to {breach.cut_by.severity} at {_at(breach.stop)}, already past the target"
    elif span.stop_path is None:
        stop = f"--as-of {_at(breach.stop)} (still open)"
    else:
        stop = f"{span.stop_path} {_at(breach.stop)}"
    if target.delta is not None:
        measured = f"target {target.text}, actual {duration_text(breach.actual_seconds)} from {start} to {stop}"
    else:
        local = view.local_date(breach.origin).isoformat()
        due = breach.due.astimezone(view.zone)  # the local midnight ending the last business day
        measured = (
            f"target {target.text} after the local date {local} of {start}, due by the end of "
            f"{due.date() - timedelta(days=1)} ({_at(due)}); "
            f"actual {stop}"
        )
    message = (
        f"{pool.tier} {breach.severity} {CLOCK_NAMES[span.clock]}: {measured}: "
        f"{duration_text(breach.over_seconds)} over target ({terms.clause})"
    )
    impact = Impact(duration_seconds=breach.over_seconds)
    return Violation(record=record, message=message, clause=terms.clause, impact=impact)


def _breaches(record, view, pool, audit, clock: str):
    sla = ticket_sla(record, view, pool, audit)
    if sla is None:
        return None
    outcome = getattr(sla, clock)
    if outcome is None or outcome is MET:  # the common case: nothing to build
        return None
    outcomes = outcome if isinstance(outcome, list) else (outcome,)
    terms = contract_sla(view).terms
    return [_breach_violation(record, view, pool, o, terms) for o in outcomes if isinstance(o, Breach)]


# ------------------------------------------------------------ examples

# Example tickets open on Monday 2026-03-02 09:00 EST for the example contract (Premier,
# America/New_York, US holidays). Table 8 Premier: P1 response 1 h, periodic update 2 h,
# resolution 12 h, RCA 3 business days; P2 3 h, 12 h, 3 d (72 h, I-3), 5 business days;
# P3 2 d, 3 d, 5 d, RCA N/A.
_OPENED = "2026-03-02T09:00:00-05:00"


def _ticket(severity: str, *, id: str = "t1", opened_at: str = _OPENED, **fields) -> dict:
    return {"kind": "ticket", "id": id, "lob": "retail", "severity": severity, "opened_at": opened_at,
            "channel": "web", **fields}


def _est(hhmm: str, day: int = 2) -> str:
    """A time on 2026-03-<day> in New York (EST, before the DST change of 2026-03-08)."""
    return f"2026-03-{day:02d}T{hhmm}:00-05:00"


# ------------------------------------------------------------ rules

# The four Table 8 clock rules: ticket checks behind the one gate that measures the ticket.
clock_rule = functools.partial(rule, clause="Table 8", level=Level.ERROR, kinds=("ticket",), gate=clocks_to_report)


@clock_rule(
    "sla.response",
    "First response later than the Table 8 target",
    examples=[
        passes(_ticket("P1", first_response_at=_est("10:00"), resolved_at=_est("11:00"), is_bug=True),
               note="Premier P1 response 1 h (Table 8): 09:00 -> 10:00 is 60 min, met exactly at the target"),
        fails(_ticket("P1", first_response_at=_est("10:01"), resolved_at=_est("11:00"), is_bug=True), flags=["t1"],
              note="Premier P1 response 1 h (Table 8): 09:00 -> 10:01 is 61 min, 1 min over"),
        fails(_ticket("P1", updates=[_est("10:20")], resolved_at=_est("11:00"), is_bug=True), flags=["t1"],
              note="Premier P1 response 1 h (Table 8): no first_response_at, so the first update is the response: "
                   "09:00 -> 10:20 is 80 min, 20 min over"),
        fails(_ticket("P2"), flags=["t1"], as_of="2026-03-02T12:01:00-05:00",
              note="Premier P2 response 3 h (Table 8): open and unanswered, measured to --as-of: "
                   "09:00 -> 12:01 is 3 h 1 min, 1 min over"),
        passes(_ticket("P3", severity_changes=[{"at": _est("12:00"), "severity": "P1"}],
                       first_response_at=_est("12:45"), resolved_at=_est("13:00"), is_bug=True),
               note="opened P3 (response 2 d), raised to P1 at 12:00: I-5 restart, the clock restarts with the "
                    "Premier P1 target 1 h (Table 8): 12:00 -> 12:45 is 45 min, met"),
        passes(_ticket("P1", first_response_at=_est("14:00"), resolved_at=_est("15:00"), is_bug=True),
               contract={"tier": "foundations"},
               note="Foundations has no enhanced SLA (Table 8: '–'): a P1 answered after 5 h is not measured"),
    ],
)
def response(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """opened_at -> first_response_at (without one: the first update or the resolution, any of
    which is a response) against the response target of the tier and severity. Open tickets
    run to --as-of; severity changes per I-5. Tiers without enhanced SLAs have no target."""
    return _breaches(record, view, pool, audit, "response")


@clock_rule(
    "sla.periodic_update",
    "A gap between updates longer than the Table 8 periodic-update interval",
    examples=[
        passes(_ticket("P1", first_response_at=_est("09:30"), updates=[_est("11:30")], resolved_at=_est("13:30"),
                       is_bug=True),
               note="Premier P1 periodic update 2 h (Table 8): gaps 09:30 -> 11:30 -> 13:30 are 2 h each, met"),
        fails(_ticket("P1", first_response_at=_est("09:30"), updates=[_est("11:45"), _est("12:30")],
                      resolved_at=_est("15:00"), is_bug=True), flags=["t1", "t1"],
              note="Premier P1 periodic update 2 h (Table 8): gaps 09:30 -> 11:45 (2 h 15 min, 15 min over), "
                   "11:45 -> 12:30 (45 min), 12:30 -> 15:00 (2 h 30 min, 30 min over): one finding per gap"),
        passes(_ticket("P2", first_response_at=_est("09:30")), as_of="2026-03-02T21:30:00-05:00",
               note="Premier P2 periodic update 12 h (Table 8): open, last event 09:30 -> --as-of 21:30 is 12 h, met"),
        fails(_ticket("P2", first_response_at=_est("09:30")), flags=["t1"], as_of="2026-03-02T21:31:00-05:00",
              note="Premier P2 periodic update 12 h (Table 8): open, last event 09:30 -> --as-of 21:31 is "
                   "12 h 1 min, 1 min over"),
    ],
)
def periodic_update(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """Every gap between consecutive events of [first response, updates..., resolution] (for an
    open ticket, the last event to --as-of) against the periodic-update interval; one finding
    per gap too long."""
    return _breaches(record, view, pool, audit, "periodic_update")


@clock_rule(
    "sla.resolution",
    "A non-bug issue resolved later than the Table 8 target",
    examples=[
        passes(_ticket("P2", resolved_at=_est("09:00", day=5)),
               note="Premier P2 resolution 3 days = 72 h (Table 8, I-3: a day is 24 h elapsed): "
                    "Mon 03-02 09:00 -> Thu 03-05 09:00 is 72 h, met"),
        fails(_ticket("P2", resolved_at=_est("09:01", day=5)), flags=["t1"],
              note="Premier P2 resolution 3 days = 72 h (Table 8, I-3): Mon 03-02 09:00 -> Thu 03-05 09:01 is "
                   "72 h 1 min, 1 min over"),
        passes(_ticket("P2", resolved_at=_est("09:01", day=5), is_bug=True),
               note="Table 8 'Resolution for Non-Bug Issue': the same 72 h 1 min on a bug (is_bug) has no target"),
        fails(_ticket("P1", resolved_at=_est("21:30")), flags=["t1"],
              note="Premier P1 resolution 12 h (Table 8): 09:00 -> 21:30 is 12 h 30 min, 30 min over"),
    ],
)
def resolution(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """opened_at -> resolved_at for tickets with is_bug false; 'd' is 24 h of elapsed time (I-3)."""
    return _breaches(record, view, pool, audit, "resolution")


@clock_rule(
    "sla.rca",
    "An RCA delivered after its Table 8 due date",
    examples=[
        passes(_ticket("P1", resolved_at=_est("10:00"), is_bug=True, rca_delivered_at="2026-03-06T00:00:00-05:00"),
               note="Premier P1 RCA 3 business days (Table 8, I-4): resolved Mon 03-02; Tue 3, Wed 4, Thu 5 -> due "
                    "by the end of Thu 03-05 (2026-03-06T00:00-05:00); delivered exactly then, met"),
        fails(_ticket("P1", resolved_at=_est("10:00"), is_bug=True, rca_delivered_at="2026-03-06T00:01:00-05:00"),
              flags=["t1"],
              note="Premier P1 RCA 3 business days (Table 8, I-4): due end of Thu 03-05; delivered "
                   "2026-03-06T00:01-05:00, 1 min over"),
        passes(_ticket("P1", opened_at="2026-07-01T09:00:00-04:00", resolved_at="2026-07-01T12:00:00-04:00",
                       is_bug=True, rca_delivered_at="2026-07-07T17:00:00-04:00"),
               note="Premier P1 RCA 3 business days, US holidays (I-4): resolved Wed 07-01; Thu 2 (1), Fri 3 "
                    "observed Independence Day, weekend, Mon 6 (2), Tue 7 (3) -> delivered Tue 07-07 17:00, met"),
        fails(_ticket("P2", resolved_at=_est("10:00"), is_bug=True), flags=["t1"],
              as_of="2026-03-10T12:00:00-04:00",
              note="Premier P2 RCA 5 business days (Table 8, I-4): resolved Mon 03-02; Tue 3 .. Fri 6, Mon 9 -> due "
                   "end of Mon 03-09 (2026-03-10T00:00-04:00, after the DST change); none by --as-of "
                   "2026-03-10T12:00-04:00, 12 h over"),
        passes(_ticket("P3", resolved_at=_est("10:00"), is_bug=True),
               note="Premier P3 RCA is N/A (Table 8): no RCA by --as-of 2027-01-01 is no finding"),
    ],
)
def rca(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """Due by the end of the Nth business day after the local date of resolution, in the
    contract's time zone; weekends off, public holidays of the contract's country and
    subdivision (I-4). P3 has no RCA target (N/A)."""
    found = _breaches(record, view, pool, audit, "rca")
    contract = contract_sla(view)
    if contract is None or contract.calendar_error is None or contract.calendar_reported:
        return found
    if ticket_sla(record, view, pool, audit) is None:  # no enhanced SLA: no RCA to measure
        return found
    contract.calendar_reported = True
    return (found or []) + [
        Violation(
            record=record,
            level=Level.WARNING,
            message=f"RCA due dates of contract {view.id} not measured: {contract.calendar_error}",
        )
    ]


@rule(
    "sla.severity_misclassified",
    "A security incident classified below P1",
    "Table 7",
    Level.WARNING,
    kinds=("ticket",),
    examples=[
        fails(_ticket("P2", security_incident=True, resolved_at=_est("12:00")), flags=["t1"],
              note="Table 7: security incidents (DoS/DDoS, data compromise) are P1; this one was classified P2"),
        fails(_ticket("P3", security_incident=True, severity_changes=[{"at": _est("10:00"), "severity": "P1"}],
                      resolved_at=_est("12:00")), flags=["t1"],
              note="Table 7: a security incident held P3 from 09:00 until it was raised to P1 at 10:00"),
        passes(_ticket("P1", security_incident=True, resolved_at=_est("12:00")),
               note="Table 7: a security incident classified P1 from the start"),
        passes(_ticket("P2", resolved_at=_est("12:00")),
               note="Table 7: a P2 that is not flagged security_incident"),
    ],
)
def severity_misclassified(record: Ticket, view: ContractView, pool: Pool, audit: Audit):
    """Security incidents (DoS/DDoS, suspected or actual data compromise) are P1 (Table 7): a
    ticket flagged security_incident that held another severity is a finding."""
    if not record.security_incident or ticket_sla(record, view, pool, audit) is None:
        return None
    terms = contract_sla(view).terms
    wanted = terms.security_severity
    held = [("$.opened_at", record.opened_at, record.severity)] + [
        (f"$.severity_changes[{i}]", c.at, c.severity) for i, c in enumerate(record.severity_changes)
    ]
    wrong = [f"{sev} from {_at(at)} ({path})" for path, at, sev in held if sev != wanted]
    if not wrong:
        return None
    return (
        Violation(
            record=record,
            clause=terms.severity_clause,
            message=(
                f"ticket flagged as a security incident was classified {'; '.join(wrong)}; "
                f"security incidents ({terms.security_definition}) are {wanted} ({terms.severity_clause})"
            ),
        ),
    )


def _run(audit: Audit) -> SlaRun:
    run = audit.state.get(STATE)
    if run is None:
        run = audit.state[STATE] = SlaRun()
    return run


def _timeline(record: Ticket, run: SlaRun):
    """timeline_problems of the ticket, computed once for the input check and the clocks."""
    if run.timeline is None or run.timeline[0] is not record:
        run.timeline = (record, timeline_problems(record))
    return run.timeline[1]


def invalid_timeline(record: Ticket, view: ContractView, pool: Pool | None, audit: Audit):
    """Check for input.invalid_record (kinds=("ticket",)): a timestamp before opened_at or out of
    order, by field path. The SLA clocks that read it are not measured."""
    problems = _timeline(record, _run(audit))
    if not problems:
        return None
    return [
        Violation(
            record=record,
            message=f"{record.source} {p.path}: ticket {record.id}: {p.message}; "
            "the SLA clocks that read it are not measured",
        )
        for p in problems
    ]


def publish_attainment(audit: Audit):
    """summary["sla_attainment"]: per contract, tier and final severity, the tickets measured,
    met (every clock met) and breached (any clock breached)."""
    run = audit.state.get(STATE)
    rows = []
    for (contract, tier, severity), tally in sorted((run.attainment if run else {}).items(), key=_order(audit)):
        rows.append({"contract": contract, "tier": tier, "severity": severity, **tally.as_dict()})
    audit.summary["sla_attainment"] = rows
    return ()


def _order(audit: Audit):
    def key(item):
        contract, tier, severity = item[0]
        tiers = audit.contracts[contract].policy.tiers
        return contract, tiers.index(tier) if tier in tiers else len(tiers), tier, severity

    return key


# Every SLA rule publishes the attainment, so any selection of them (--select sla.rca) has it.
RULES = tuple(
    evolve(r, finish=publish_attainment) for r in (response, periodic_update, resolution, rca, severity_misclassified)
)
