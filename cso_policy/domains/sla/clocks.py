"""The clocks of one ticket (Section 8, Table 8).

A clock runs from a start event to a stop event (or to ``--as-of`` while open) and is
due at ``target.due(origin)``: origin + the elapsed target, or the end of the Nth
business day after the origin's local date for the RCA (I-4). A severity change at t
(I-5) either restarts a clock not yet met at t with the new target ("restart") or keeps
its origin with the new target ("retroactive"); a clock already past its target at t is
breached either way. A clock is met when it stops at or before its due time.
"""

from __future__ import annotations

from datetime import datetime

from attrs import evolve, field, frozen

from .business_days import BusinessCalendar
from .records import SeverityChange, Ticket
from .terms import _NO_TARGETS, CLOCKS, RESTART, SeverityTargets, SlaTerms, Target, TierTargets

# ------------------------------------------------------------ ticket timeline


@frozen
class Problem:
    """A ticket timestamp out of order: the field path, what is wrong, the clocks it stops."""

    path: str
    message: str
    group: str  # first_response_at | updates | resolved_at | rca_delivered_at | severity_changes


def timeline_problems(t: Ticket) -> list[Problem]:
    """Timestamps before opened_at or out of order. Reported, never silently sorted: the
    chain [first_response_at, updates..., resolved_at] must not go backwards, the RCA comes
    after the resolution, severity changes are in time order."""
    if _in_order(t):
        return []
    found: list[Problem] = []
    resolved = t.resolved_at
    if resolved is not None and resolved < t.opened_at:
        found.append(Problem("$.resolved_at", "is before $.opened_at", "resolved_at"))
        resolved = None
    chain = [("$.first_response_at", t.first_response_at, "first_response_at")] if t.first_response_at else []
    chain += [(f"$.updates[{i}]", at, "updates") for i, at in enumerate(t.updates)]
    previous = ("$.opened_at", t.opened_at)
    for path, at, group in chain:
        if at < previous[1]:
            found.append(Problem(path, f"is before {previous[0]}", group))
        elif resolved is not None and at > resolved:
            found.append(Problem(path, "is after $.resolved_at", group))
        else:
            previous = (path, at)
    if t.rca_delivered_at is not None:
        before = ("$.resolved_at", resolved) if resolved is not None else ("$.opened_at", t.opened_at)
        if t.rca_delivered_at < before[1]:
            found.append(Problem("$.rca_delivered_at", f"is before {before[0]}", "rca_delivered_at"))
    previous = ("$.opened_at", t.opened_at)
    for i, change in enumerate(t.severity_changes):
        if change.at < previous[1]:
            found.append(Problem(f"$.severity_changes[{i}].at", f"is before {previous[0]}", "severity_changes"))
        else:
            previous = (f"$.severity_changes[{i}].at", change.at)
    return found


def _in_order(t: Ticket) -> bool:
    """The common case, checked without building anything."""
    previous = t.opened_at
    if t.first_response_at is not None:
        if t.first_response_at < previous:
            return False
        previous = t.first_response_at
    for at in t.updates:
        if at < previous:
            return False
        previous = at
    if t.resolved_at is not None and t.resolved_at < previous:
        return False
    if t.rca_delivered_at is not None and t.rca_delivered_at < (t.resolved_at or t.opened_at):
        return False
    previous = t.opened_at
    for change in t.severity_changes:
        if change.at < previous:
            return False
        previous = change.at
    return True


# What each clock reads; a problem in one of these groups leaves the clock unmeasured.
DEPENDS = {
    "response": frozenset({"first_response_at", "severity_changes"}),
    "periodic_update": frozenset({"first_response_at", "updates", "resolved_at", "severity_changes"}),
    "resolution": frozenset({"resolved_at", "severity_changes"}),
    "rca": frozenset({"resolved_at", "rca_delivered_at", "severity_changes"}),
}
# Without a first response the response clock stops at the first update or the resolution.
RESPONSE_FALLBACK = frozenset({"updates", "resolved_at"})


# ------------------------------------------------------------ clocks


@frozen
class Span:
    """What a clock measured: start and stop events (stop_path None: open, measured to as_of)."""

    clock: str
    start: datetime
    start_path: str
    stop: datetime
    stop_path: str | None


@frozen
class Breach:
    span: Span
    severity: str
    target: Target
    origin: datetime  # the clock's start, moved by a restart
    due: datetime
    stop: datetime  # the stop event, as_of, or the severity change it was already breached at
    restarted_by: SeverityChange | None = None
    cut_by: SeverityChange | None = None

    @property
    def over_seconds(self) -> float:
        return self.stop.timestamp() - self.due.timestamp()

    @property
    def actual_seconds(self) -> float:
        return self.stop.timestamp() - self.origin.timestamp()


MET = "met"


@frozen
class Clock:
    """How to run clocks for one ticket: its tier's targets, the calendar and the I-5 mode."""

    ticket: Ticket
    targets: TierTargets
    calendar: BusinessCalendar | None
    mode: str

    def target(self, severity: str, clock: str) -> Target | None:
        return getattr(self.targets.get(severity, _NO_TARGETS), clock)

    def run(self, clock: str, start: datetime, start_path: str, stop: datetime, stop_path: str | None):
        """MET, a Breach, or None when no target applies (e.g. a P3 RCA). Objects are made
        only for breaches: most clocks are met."""
        changes = self.ticket.severity_changes
        severity = self.ticket.severity
        if not changes:
            return self._settle(clock, start, start_path, stop, stop_path, severity, self.target(severity, clock))
        i = 0
        while i < len(changes) and changes[i].at <= start:
            severity = changes[i].severity
            i += 1
        target = self.target(severity, clock)
        origin, restarted = start, None
        for change in changes[i:]:
            if change.at >= stop:
                break
            if change.severity == severity:  # a no-op change is no change
                continue
            if target is not None:
                due = target.due(origin, self.calendar)
                if change.at > due:
                    span = Span(clock, start, start_path, stop, stop_path)
                    return Breach(span, severity, target, origin, due, change.at, restarted, change)
            severity, target = change.severity, self.target(change.severity, clock)
            if self.mode == RESTART:
                origin, restarted = change.at, change
        return self._settle(clock, start, start_path, stop, stop_path, severity, target, origin, restarted)

    def _settle(self, clock, start, start_path, stop, stop_path, severity, target, origin=None, restarted=None):
        if target is None:
            return None
        origin = origin or start
        due = target.due(origin, self.calendar)
        if stop <= due:
            return MET
        return Breach(Span(clock, start, start_path, stop, stop_path), severity, target, origin, due, stop, restarted)


def final_severity(ticket: Ticket) -> str:
    return ticket.severity_changes[-1].severity if ticket.severity_changes else ticket.severity


BREACHED = "breached"


def _status(outcome) -> str | None:
    return outcome if outcome is None or outcome is MET else BREACHED


@frozen
class TicketSla:
    """Every clock of one ticket: None (not measured), MET or a Breach; the periodic-update
    clock is MET or the list of its gaps that were too long. ``statuses`` is None, MET or
    BREACHED per clock in CLOCKS order, what the attainment summary counts."""

    response: Breach | str | None = None
    periodic_update: list[Breach] | str | None = None
    resolution: Breach | str | None = None
    rca: Breach | str | None = None
    statuses: tuple[str | None, ...] = field(init=False, eq=False, repr=False)

    @statuses.default
    def _statuses(self):
        return tuple(_status(o) for o in (self.response, self.periodic_update, self.resolution, self.rca))


# The fast path's outcomes, one shared object per set of met clocks: bit i of the index
# stands for CLOCKS[i] measured and met (the other clocks not measured).
_MET_BY_MASK = tuple(
    TicketSla(**{clock: MET for i, clock in enumerate(CLOCKS) if mask >> i & 1}) for mask in range(1 << len(CLOCKS))
)


def measure(t: Ticket, targets: TierTargets, terms: SlaTerms, calendar, as_of: datetime | None,
            problems: list[Problem] | None = None) -> TicketSla:
    """All clocks of *t*; open clocks run to *as_of* (not measured when it is None); a clock
    that reads a timestamp out of order is not measured; the RCA needs a calendar.
    *problems* is timeline_problems(t) when the caller has it already. *t* is a ticket as
    convert structures it: its timestamps have fixed UTC offsets (the fast path adds targets
    to them as elapsed time)."""
    if problems is None:
        problems = timeline_problems(t)
    if not problems and not t.severity_changes:
        met = _all_met(t, targets.get(t.severity, _NO_TARGETS), calendar, as_of)
        if met is not None:
            return met
    return measure_clocks(t, targets, terms, calendar, as_of, problems)


def measure_clocks(t: Ticket, targets: TierTargets, terms: SlaTerms, calendar, as_of: datetime | None,
                   problems: list[Problem]) -> TicketSla:
    """`measure` the general way, clock by clock, building a Breach for each clock breached."""
    bad = {p.group for p in problems} if problems else _NO_GROUPS
    clock = Clock(t, targets, calendar, terms.mode)
    outcomes = {}
    if not bad & DEPENDS["response"]:
        outcomes["response"] = _response(clock, t, bad, as_of)
    if not t.is_bug and not bad & DEPENDS["resolution"]:
        outcomes["resolution"] = _until(clock, "resolution", t.opened_at, "$.opened_at", t.resolved_at, "$.resolved_at", as_of)
    if calendar is not None and t.resolved_at is not None and not bad & DEPENDS["rca"]:
        outcomes["rca"] = _until(clock, "rca", t.resolved_at, "$.resolved_at", t.rca_delivered_at, "$.rca_delivered_at", as_of)
    if not bad & DEPENDS["periodic_update"]:
        outcomes["periodic_update"] = _updates(clock, t, as_of)
    return TicketSla(**outcomes)


_NO_GROUPS: frozenset[str] = frozenset()


def _all_met(t: Ticket, cell: SeverityTargets, calendar, as_of) -> TicketSla | None:
    """The common case, a ticket in order with no severity change and every clock met, decided
    by plain comparisons; None as soon as a clock is breached (then `measure` builds the breach).

    Adding a target to a timestamp is elapsed time here because record timestamps carry fixed
    UTC offsets (convert guarantees it); this runs for every ticket, so it reads the cell's
    fields directly and returns a shared result."""
    opened, first, updates, resolved = t.opened_at, t.first_response_at, t.updates, t.resolved_at
    mask = 0
    target = cell.response
    if target is not None:
        stop = first or (updates[0] if updates else resolved) or as_of
        if stop is not None:
            if stop > opened + target.delta:
                return None
            mask = 1
    target = cell.periodic_update
    if target is not None:
        # gaps between consecutive events of [first response, updates..., resolution or as_of]
        delta, last, gaps = target.delta, first, False
        for at in updates:
            if last is not None:
                if at - last > delta:
                    return None
                gaps = True
            last = at
        end = resolved if resolved is not None else as_of
        if last is not None and end is not None:
            if end - last > delta:
                return None
            gaps = True
        if gaps:
            mask |= 2
    target = cell.resolution
    if target is not None and not t.is_bug:
        stop = resolved or as_of
        if stop is not None:
            if stop > opened + target.delta:
                return None
            mask |= 4
    target = cell.rca
    if target is not None and calendar is not None and resolved is not None:
        stop = t.rca_delivered_at or as_of
        if stop is not None:
            if stop > calendar.end_of_business_day_after(resolved, target.business_days):
                return None
            mask |= 8
    return _MET_BY_MASK[mask]


def _until(clock: Clock, name: str, start, start_path, stop, stop_path, as_of):
    if stop is not None:
        return clock.run(name, start, start_path, stop, stop_path)
    # Open: without --as-of the clock is not measured; with it, it runs to as_of.
    return None if as_of is None else clock.run(name, start, start_path, as_of, None)


def _response(clock: Clock, t: Ticket, bad, as_of):
    """opened_at -> first response; without one, the first update or the resolution is the response."""
    if t.first_response_at is not None:
        stop, path = t.first_response_at, "$.first_response_at"
    elif bad & RESPONSE_FALLBACK:
        return None
    elif t.updates:
        stop, path = t.updates[0], "$.updates[0]"
    else:
        stop, path = t.resolved_at, "$.resolved_at"
    return _until(clock, "response", t.opened_at, "$.opened_at", stop, path, as_of)


def _updates(clock: Clock, t: Ticket, as_of):
    """Each gap between consecutive events of [first response, updates..., resolution]; while
    open, the last event to as_of. MET, a list of breaches, or None (fewer than two events)."""
    events = [t.first_response_at] if t.first_response_at is not None else []
    events += t.updates
    tail = _NO_TAIL
    if t.resolved_at is not None:
        events.append(t.resolved_at)
        tail = "$.resolved_at"
    elif as_of is not None and events:
        events.append(as_of)
        tail = None  # open: the last gap runs to as_of
    if not t.severity_changes and len(events) > 1:
        # fast path, one target for every gap: build a Breach only for a gap that is too long
        target = clock.target(t.severity, "periodic_update")
        if target is None:
            return None
        delta = target.delta
        if delta is not None and all(events[i] - events[i - 1] <= delta for i in range(1, len(events))):
            return MET
    breaches, measured, paths = [], False, None
    for i in range(1, len(events)):
        outcome = clock.run("periodic_update", events[i - 1], "", events[i], "")
        if outcome is None:
            continue
        measured = True
        if outcome is not MET:
            paths = paths or _event_paths(t, tail)
            span = evolve(outcome.span, start_path=paths[i - 1], stop_path=paths[i])
            breaches.append(evolve(outcome, span=span))
    if not measured:
        return None
    return breaches or MET


_NO_TAIL = "-"


def _event_paths(t: Ticket, tail: str | None) -> list[str | None]:
    """Field paths of the periodic-update events, named only once a gap is breached."""
    paths: list[str | None] = ["$.first_response_at"] if t.first_response_at is not None else []
    paths += [f"$.updates[{i}]" for i in range(len(t.updates))]
    if tail != _NO_TAIL:
        paths.append(tail)
    return paths
