"""The SLA module of a policy (``sla.toml``): Table 7 severities and Table 8 targets per tier
with explicit units (hours; days of 24 h, I-3; business days for the RCA, I-4), the I-5
severity-change mode, and the RCA calendar. :func:`compile_terms` turns the tables into
lookup tables: per tier, per severity, a :class:`SeverityTargets` with one :class:`Target`
per clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from attrs import field, frozen

from ...core.convert import FIXED_OFFSETS, StructureError, structure
from ...policy.registry import Policy, TermsError
from ..entitlement.terms import entitlement_terms
from .records import Severity

if TYPE_CHECKING:
    from .business_days import BusinessCalendar

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
# The longest target a policy may set: 10 years. Any timestamp of a record (at most 2199-12-31,
# cso_policy.core.convert.SUPPORTED) plus any target stays a datetime a clock can compute on.
MAX_TARGET_HOURS = 24 * 366 * 10
MAX_TARGET_BUSINESS_DAYS = 366 * 10

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
    clock_definitions: dict[str, str] = field(factory=dict)  # clock -> its Table 8 footnote


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
class SeverityTargets:
    """The Table 8 targets of one tier and severity, one per clock (None: N/A, e.g. a P3 RCA)."""

    response: Target | None = None
    periodic_update: Target | None = None
    resolution: Target | None = None
    rca: Target | None = None

    def items(self) -> list[tuple[str, Target]]:
        return [(clock, getattr(self, clock)) for clock in CLOCKS if getattr(self, clock) is not None]


TierTargets = dict[str, SeverityTargets]  # severity -> its targets
_NO_TARGETS = SeverityTargets()


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
    day_hours: float = 24  # I-3
    rca_due: str = "end_of_nth_business_day_after_resolution"  # I-4
    definitions: dict[str, str] = field(factory=dict)  # severity -> its Table 7 definition
    clock_definitions: dict[str, str] = field(factory=dict)  # clock -> its Table 8 footnote

    def targets(self, tier: str) -> TierTargets | None:
        """The tier's targets, or None when the tier has no enhanced SLA."""
        return self.by_tier.get(tier)


def sla_terms(policy: Policy) -> SlaTerms | None:
    """The policy's SLA terms; None if it has no sla module."""
    return policy.terms(MODULE)


SlaDataError = TermsError


def load(tables: dict, policy: Policy) -> SlaTerms:
    terms = compile_terms(tables, policy.tiers)
    _check_entitled(terms, policy)
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
    unknown = [clock for clock in spec.clock_definitions if clock not in CLOCKS]
    if unknown:
        raise SlaDataError("$.clock_definitions", f"unknown clock(s) {', '.join(unknown)} (expected {', '.join(CLOCKS)})")
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
        day_hours=spec.units.day_hours,
        rca_due=spec.rca.due,
        definitions={sev: level.definition for sev, level in levels.items()},
        clock_definitions=dict(spec.clock_definitions),
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
    entitlement = entitlement_terms(policy)
    support = entitlement.support
    entitled = {t for t in policy.tiers if entitlement.word_cell(support.enhanced_sla.get(t, "–")).included}
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


def _cell(cell: CellSpec, units: Units, where: str) -> SeverityTargets:
    return SeverityTargets(**{
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
    if spec.business_days is not None and spec.business_days > MAX_TARGET_BUSINESS_DAYS:
        raise SlaDataError(f"{where}.business_days", f"expected at most {MAX_TARGET_BUSINESS_DAYS:,} business days (10 years)")
    if spec.business_days is None:
        hours = spec.hours if spec.hours is not None else spec.days * units.day_hours
        if hours > MAX_TARGET_HOURS:
            raise SlaDataError(f"{where}.{given[0]}", f"expected at most {MAX_TARGET_HOURS:,} hours (10 years)")
    if spec.business_days is not None:
        n = spec.business_days
        return Target(text=f"{n} business day{'s' if n != 1 else ''}", business_days=n)
    if spec.days is not None:
        hours = spec.days * units.day_hours
        return Target(text=f"{_num(spec.days)} d ({_num(hours)} h)", delta=timedelta(hours=hours))
    return Target(text=f"{_num(spec.hours)} h", delta=timedelta(hours=spec.hours))


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x
