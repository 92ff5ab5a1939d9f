"""SLA terms (Sections 7-8): ``sla.toml`` structured once per policy, business-day
calendars, and the clocks of one ticket.

A clock runs from a start event to a stop event (or to ``--as-of`` while open) and is
due at ``target.due(origin)``: origin + the elapsed target, or the end of the Nth
business day after the origin's local date for the RCA (I-4). A severity change at t
(I-5) either restarts a clock not yet met at t with the new target ("restart") or keeps
its origin with the new target ("retroactive"); a clock already past its target at t is
breached either way. A clock is met when it stops at or before its due time.
"""

from __future__ import annotations

import bisect
import functools
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holidays_package
from attrs import define, evolve, field, frozen

from .convert import FIXED_OFFSETS, StructureError, structure
from .errors import ConfigError
from .model import Severity, SeverityChange, Ticket
from .policy import Policy

MODULE = "sla"
CLOCKS = ("response", "periodic_update", "resolution", "rca")
CLOCK_NAMES = {
    "response": "response",
    "periodic_update": "periodic update",
    "resolution": "non-bug resolution",
    "rca": "RCA",
}
RESTART = "restart"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SECONDS_PER_HOUR = 3600

# ------------------------------------------------------------ file schema (sla.toml)


@frozen(kw_only=True)
class TargetSpec:
    hours: float | None = None
    days: float | None = None
    business_days: int | None = None


@frozen(kw_only=True)
class CellSpec:
    response: TargetSpec | None = None
    periodic_update: TargetSpec | None = None
    resolution: TargetSpec | None = None
    rca: TargetSpec | None = None


@frozen(kw_only=True)
class SeverityLevel:
    definition: str


@frozen(kw_only=True)
class SecurityIncident:
    severity: Severity
    definition: str = ""


@frozen(kw_only=True)
class SeveritySpec:
    clause: str
    levels: dict[Severity, SeverityLevel]
    security_incident: SecurityIncident


@frozen(kw_only=True)
class Units:
    day_hours: float


@frozen(kw_only=True)
class SeverityChangeSpec:
    mode: Literal["restart", "retroactive"] = RESTART


@frozen(kw_only=True)
class RcaSpec:
    due: Literal["end_of_nth_business_day_after_resolution"]
    weekend: list[str]
    public_holidays: bool = True


@frozen(kw_only=True)
class SlaFile:
    clause: str
    enhanced_tiers: list[str]
    units: Units
    severity: SeveritySpec
    rca: RcaSpec
    targets: dict[str, dict[Severity, CellSpec]]
    severity_change: SeverityChangeSpec = SeverityChangeSpec()


# ------------------------------------------------------------ compiled terms


@frozen
class Target:
    """One Table 8 cell of one clock: an elapsed time or a count of business days."""

    text: str  # the seed's figure with its unit, for messages: "0.5 h", "3 d (72 h)", "3 business days"
    delta: timedelta | None = None
    business_days: int | None = None

    def due(self, origin: datetime, calendar: BusinessCalendar | None) -> datetime:
        if self.delta is not None:
            if type(origin.tzinfo) not in FIXED_OFFSETS:
                # adding to a zoneinfo time would add wall-clock time across a DST change
                origin = origin.astimezone(timezone.utc)
            return origin + self.delta
        return calendar.end_of_business_day_after(origin, self.business_days)

    def as_dict(self) -> dict:
        if self.delta is not None:
            return {"hours": _num(self.delta.total_seconds() / SECONDS_PER_HOUR), "text": self.text}
        return {"business_days": self.business_days, "text": self.text}


@frozen
class Cell:
    """The Table 8 targets of one tier and severity, one per clock (None: N/A, e.g. a P3 RCA)."""

    response: Target | None = None
    periodic_update: Target | None = None
    resolution: Target | None = None
    rca: Target | None = None

    def items(self) -> list[tuple[str, Target]]:
        return [(clock, getattr(self, clock)) for clock in CLOCKS if getattr(self, clock) is not None]


TierTargets = dict[str, Cell]  # severity -> its targets
_NO_TARGETS = Cell()


@frozen(kw_only=True)
class SlaTerms:
    clause: str
    severity_clause: str
    severities: tuple[str, ...]
    security_severity: str
    security_definition: str
    mode: str
    weekend: frozenset[int]
    public_holidays: bool
    by_tier: dict[str, TierTargets]  # only tiers with enhanced SLAs

    def targets(self, tier: str) -> TierTargets | None:
        """The tier's targets, or None when the tier has no enhanced SLA."""
        return self.by_tier.get(tier)


def sla_terms(policy: Policy) -> SlaTerms | None:
    """The policy's SLA terms, structured once per policy; None if it has no sla module."""
    return policy.derived("sla", _load)


class SlaDataError(ValueError):
    """A problem in sla.toml: the field path and what is wrong."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def _load(policy: Policy) -> SlaTerms | None:
    raw = policy.modules.get(MODULE)
    if raw is None:
        return None
    try:
        terms = compile_terms(raw, policy.tiers)
        _check_entitled(terms, policy)
    except SlaDataError as exc:
        raise ConfigError(f"{policy.path / f'{MODULE}.toml'} {exc.path}: {exc.message}") from None
    return terms


def sla_problems(raw: dict, tiers: list[str]) -> list[tuple[str, str]]:
    """(field path, message) of the first problem in an sla.toml, for `cso-policy lint`."""
    try:
        compile_terms(raw, tiers)
    except SlaDataError as exc:
        return [(exc.path, exc.message)]
    return []


def compile_terms(raw: dict, tiers: list[str]) -> SlaTerms:
    """Structure an sla.toml into lookup tables; raise SlaDataError on the first problem."""
    try:
        spec = structure(raw, SlaFile)
    except StructureError as exc:
        raise SlaDataError(*exc.problems[0]) from None
    _check_tiers(spec, tiers)
    levels = spec.severity.levels
    if spec.severity.security_incident.severity not in levels:
        raise SlaDataError("$.severity.security_incident.severity", f"expected one of {', '.join(levels)}")
    return SlaTerms(
        clause=spec.clause,
        severity_clause=spec.severity.clause,
        severities=tuple(levels),
        security_severity=spec.severity.security_incident.severity,
        security_definition=spec.severity.security_incident.definition,
        mode=spec.severity_change.mode,
        weekend=_weekend(spec.rca.weekend),
        public_holidays=spec.rca.public_holidays,
        by_tier={
            tier: {sev: _cell(cell, spec.units, f"$.targets.{tier}.{sev}") for sev, cell in cells.items()}
            for tier, cells in spec.targets.items()
        },
    )


def _check_tiers(spec: SlaFile, tiers: list[str]) -> None:
    for path, names in (("$.enhanced_tiers", spec.enhanced_tiers), ("$.targets", list(spec.targets))):
        unknown = [t for t in names if t not in tiers]
        if unknown:
            raise SlaDataError(path, f"unknown tier(s) {', '.join(unknown)} (expected one of {', '.join(tiers)})")
    if set(spec.targets) != set(spec.enhanced_tiers):
        raise SlaDataError(
            "$.targets",
            f"expected targets for exactly the enhanced tiers {sorted(spec.enhanced_tiers)}, got {sorted(spec.targets)}",
        )
    for tier, cells in spec.targets.items():
        missing = [sev for sev in spec.severity.levels if sev not in cells]
        if missing:
            raise SlaDataError(f"$.targets.{tier}", f"no targets for severity {', '.join(missing)}")


def _check_entitled(terms: SlaTerms, policy: Policy) -> None:
    """sla.toml and entitlement.toml ([support] enhanced_sla, Table 6) must name the same tiers."""
    support = policy.entitlement.support
    entitled = {t for t in policy.tiers if policy.word_cell(support.enhanced_sla.get(t, "–")).included}
    if set(terms.by_tier) != entitled:
        raise SlaDataError(
            "$.enhanced_tiers",
            f"{sorted(terms.by_tier)} differs from entitlement.toml [support] enhanced_sla "
            f"({support.clause}): {sorted(entitled)}",
        )


def _weekend(names: list[str]) -> frozenset[int]:
    unknown = [n for n in names if n not in WEEKDAYS]
    if unknown:
        raise SlaDataError("$.rca.weekend", f"unknown day(s) {', '.join(unknown)} (expected {', '.join(WEEKDAYS)})")
    days = frozenset(WEEKDAYS.index(n) for n in names)
    if len(days) == len(WEEKDAYS):
        raise SlaDataError("$.rca.weekend", "leaves no business day")
    return days


def _cell(cell: CellSpec, units: Units, where: str) -> Cell:
    return Cell(**{
        clock: _target(spec, clock, units, f"{where}.{clock}")
        for clock in CLOCKS
        if (spec := getattr(cell, clock)) is not None
    })


def _target(spec: TargetSpec, clock: str, units: Units, where: str) -> Target:
    given = [name for name in ("hours", "days", "business_days") if getattr(spec, name) is not None]
    allowed = ("business_days",) if clock == "rca" else ("hours", "days")
    if len(given) != 1 or given[0] not in allowed:
        raise SlaDataError(where, f"expected exactly one of {', '.join(allowed)}, got {', '.join(given) or 'none'}")
    if getattr(spec, given[0]) <= 0:
        raise SlaDataError(f"{where}.{given[0]}", "expected a number above 0")
    if spec.business_days is not None:
        n = spec.business_days
        return Target(text=f"{n} business day{'s' if n != 1 else ''}", business_days=n)
    if spec.days is not None:
        hours = spec.days * units.day_hours
        return Target(text=f"{_num(spec.days)} d ({_num(hours)} h)", delta=timedelta(hours=hours))
    return Target(text=f"{_num(spec.hours)} h", delta=timedelta(hours=spec.hours))


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def targets_table(policy: Policy, tier: str) -> dict | None:
    """What `cso-policy entitlements` shows: the tier's Table 8 targets (None without an sla module)."""
    terms = sla_terms(policy)
    if terms is None:
        return None
    tier_targets = terms.targets(tier)
    rows = [
        {"severity": sev, **{clock: target.as_dict() for clock, target in cell.items()}}
        for sev, cell in (tier_targets or {}).items()
    ]
    enhanced = tier_targets is not None
    return {"clause": terms.clause, "enhanced": enhanced, "severity_change": terms.mode, "targets": rows}


# ------------------------------------------------------------ business days (I-4)


@functools.cache
def holiday_dates(country: str | None, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays (observed days included) of one country/subdivision and year."""
    if country is None:
        return frozenset()
    try:
        return frozenset(holidays_package.country_holidays(country, subdiv=subdiv, years=year))
    except NotImplementedError as exc:  # the package's error for an unknown country or subdivision
        raise ConfigError(str(exc)) from None


@frozen
class BusinessCalendar:
    """A contract's business days: its time zone, the policy's weekend, its country's holidays."""

    zone: ZoneInfo
    weekend: frozenset[int]
    country: str | None = None
    subdiv: str | None = None
    # (local date, n, tzinfo) -> due, and year -> business days as ordinals (that year and the
    # next): every resolved P1/P2 ticket asks for a due date
    _due: dict = field(factory=dict, eq=False, repr=False)
    _business: dict = field(init=False, factory=dict, eq=False, repr=False)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in holiday_dates(self.country, self.subdiv, day.year)

    def nth_business_day_after(self, day: date, n: int) -> date:
        days = self._business.get(day.year)
        if days is None:
            days = self._business[day.year] = self._business_ordinals(day.year)
        i = bisect.bisect_right(days, day.toordinal()) + n - 1
        if i < len(days):
            return date.fromordinal(days[i])
        left, after = i - len(days) + 1, date.fromordinal(days[-1])  # beyond the table: walk on
        while left > 0:
            after += timedelta(days=1)
            if self.is_business_day(after):
                left -= 1
        return after

    def _business_ordinals(self, year: int) -> list[int]:
        first, last = date(year, 1, 1).toordinal(), date(year + 1, 12, 31).toordinal()
        return [o for o in range(first, last + 1) if self.is_business_day(date.fromordinal(o))]

    def end_of_business_day_after(self, moment: datetime, n: int) -> datetime:
        """The end (next local midnight) of the nth business day after *moment*'s local date.

        The instant is given in *moment*'s UTC offset when that is fixed (a record's timestamp):
        the RCA delivery it is compared with usually shares that offset's tzinfo, and such a
        comparison skips two utcoffset() calls. Otherwise it is given in the calendar's zone."""
        start = moment.astimezone(self.zone).date()
        key = (start, n, moment.tzinfo)
        due = self._due.get(key)
        if due is None:
            day = self.nth_business_day_after(start, n)
            due = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
            if type(moment.tzinfo) in FIXED_OFFSETS:
                due = due.astimezone(moment.tzinfo)
            self._due[key] = due
        return due


@functools.cache
def _shared_calendar(zone: ZoneInfo, weekend: frozenset[int], country: str | None, subdiv: str | None):
    """One calendar, and so one due-date cache, per time zone, weekend and holiday region."""
    return BusinessCalendar(zone, weekend, country, subdiv)


def business_calendar(zone: ZoneInfo, terms: SlaTerms, country: str | None, subdiv: str | None, year: int):
    """A calendar, or a ConfigError naming what the holidays package does not know."""
    if not terms.public_holidays:
        country = subdiv = None
    holiday_dates(country, subdiv, year)  # fail early on an unknown country or subdivision
    return _shared_calendar(zone, terms.weekend, country, subdiv)


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


def _all_met(t: Ticket, cell: Cell, calendar, as_of) -> TicketSla | None:
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


# ------------------------------------------------------------ attainment


@define
class Attainment:
    """Tickets measured, met (every measured clock met) and breached (any clock breached) for
    one (contract, tier, final severity); and the same per clock. Kept as a count per
    TicketSla.statuses: few distinct values, so adding a ticket is one dict update."""

    counts: dict[tuple[str | None, ...], int] = field(factory=dict)

    def add(self, sla: TicketSla) -> None:
        key = sla.statuses
        self.counts[key] = self.counts.get(key, 0) + 1

    def as_dict(self) -> dict:
        tickets = measured = met = breached = 0
        rows = [[0, 0, 0] for _ in CLOCKS]  # per clock: measured, met, breached
        for statuses, n in self.counts.items():
            tickets += n
            if all(s is None for s in statuses):
                continue
            measured += n
            if BREACHED in statuses:
                breached += n
            else:
                met += n
            for row, status in zip(rows, statuses):
                if status is not None:
                    row[0] += n
                    row[1 if status is MET else 2] += n
        return {
            "tickets": tickets,
            "measured": measured,
            "met": met,
            "breached": breached,
            "percent_met": _percent(met, measured),
            "clocks": {
                clock: {"measured": m, "met": ok, "breached": b, "percent_met": _percent(ok, m)}
                for clock, (m, ok, b) in zip(CLOCKS, rows)
                if m
            },
        }


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def duration_text(seconds: float) -> str:
    """``4530`` -> ``1 h 15 min 30 s``; hours are not folded into days, to read against targets."""
    whole = int(round(abs(seconds)))
    hours, rest = divmod(whole, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v} {unit}" for v, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if v]
    return ("-" if seconds < 0 else "") + (" ".join(parts) or "0 s")
