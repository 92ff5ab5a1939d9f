"""What rules see during one audit: contracts resolved against their policy (:class:`ContractView`),
package pools (:class:`Pool`) and the run (:class:`Audit`).

One package shared by several lines of business is one :class:`Pool`; every domain counts
its records together (hours, deliveries, allowances...). Domains keep their running state in
``state`` dicts keyed by the domain's name. Everything here is built fresh for each audit,
so rules stay pure.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import define, field

from ..errors import ConfigError
from ..policy.registry import Policy
from .calendar import ContractCalendar, term_problem
from .convert import FIXED_OFFSETS
from .model import Contract, Impact, Package, Record

EPSILON = 1e-9


def exceeds(value: float, cap: float) -> bool:
    """value > cap, ignoring float dust from summing fractional hours."""
    return value - cap > EPSILON


@define
class Tally:
    """A running total against a cap (None: no cap); ``crossing`` is the record that first took
    the total over the cap."""

    cap: float | None
    total: float = 0.0
    crossing: Record | None = None

    def add(self, amount: float, record: Record) -> None:
        self.total += amount
        if self.crossing is None and self.cap is not None and exceeds(self.total, self.cap):
            self.crossing = record

    @property
    def over(self) -> float:
        return max(0.0, self.total - self.cap) if self.cap is not None else 0.0


@define
class Pool:
    """One purchased package and the lines of business sharing it.

    ``contract`` is its :class:`ContractView`, ``package`` the contract's package entry,
    ``tier`` the policy's tier name (aliases resolved). ``state`` is room for the running
    state of domains and plugin rules, keyed by their name."""

    contract: ContractView
    package: Package
    tier: str
    state: dict = field(factory=dict)

    @property
    def id(self) -> str:
        return self.package.id

    @property
    def lobs(self) -> list[str]:
        return self.package.lines_of_business


@define
class ContractView:
    """A contract resolved against its policy version, for one audit.

    ``contract`` is the contract as read, ``policy`` its pinned :class:`Policy`, ``calendar``
    its contract periods (:class:`ContractCalendar`), ``zone`` its time zone; ``pools`` maps
    package id and ``by_lob`` line of business to a :class:`Pool`. ``state`` is room for
    the running state of domains and plugin rules, keyed by their name."""

    contract: Contract
    policy: Policy
    calendar: ContractCalendar
    zone: ZoneInfo
    # the term as moments in UTC: [local midnight of its first day, local midnight after its last)
    term_opens: datetime = field(init=False)
    term_closes: datetime = field(init=False)
    pools: dict[str, Pool] = field(factory=dict)
    by_lob: dict[str, Pool] = field(factory=dict)
    state: dict = field(factory=dict)
    # the term's bounds in each UTC offset seen (few): a moment compares fast with a bound that
    # shares its tzinfo object, and every ticket is checked
    _term_in: dict = field(init=False, factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.contract.id

    @property
    def policy_ref(self) -> str:
        return self.policy.ref

    def __attrs_post_init__(self):
        term = self.contract.term
        self.term_opens, self.term_closes = (
            datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)
            for day in (term.start, term.end + timedelta(days=1))
        )

    def local_date(self, moment: datetime) -> date:
        """The date of *moment* in the contract's time zone."""
        return moment.astimezone(self.zone).date()

    def term_day(self, moment: datetime) -> date:
        """The local date of *moment*, clamped into the term (the day whose periods are current)."""
        term = self.contract.term
        return min(max(self.local_date(moment), term.start), term.end)

    def in_term(self, moment: datetime) -> bool:
        """Whether *moment* falls within the term (its first local midnight to the one after it)."""
        zone = moment.tzinfo
        if type(zone) not in FIXED_OFFSETS:
            # bounds in a zone with DST would share its tzinfo and compare as wall-clock times
            return self.term_opens <= moment < self.term_closes
        bounds = self._term_in.get(zone)
        if bounds is None:
            bounds = self._term_in[zone] = (self.term_opens.astimezone(zone), self.term_closes.astimezone(zone))
        return bounds[0] <= moment < bounds[1]

    def money(self, hours: float) -> Impact:
        """Hours, and their price at the agreed overage rate when there is one."""
        overage = self.contract.overage
        if overage is not None and overage.rate is not None and overage.currency:
            return Impact(hours=hours, amount=hours * overage.rate, currency=overage.currency)
        return Impact(hours=hours)

    def pool_for(self, record: Record) -> Pool | None:
        """The pool of the record's ``lob`` (or, without one, of its ``package``); None if unknown."""
        lob = getattr(record, "lob", None)
        if lob is not None:
            return self.by_lob.get(lob)
        package = getattr(record, "package", None)
        return self.pools.get(package) if package is not None else None


def load_zone(name, where: str) -> ZoneInfo:
    """The IANA time zone *name*; one that cannot be loaded (unknown, a folder of the zone
    database such as ``America``, an unreadable or corrupt zone file) is a ConfigError."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where} $.timezone: expected an IANA time zone name, got {name!r}")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise ConfigError(f"{where} $.timezone: unknown IANA time zone {name!r}") from None
    except (OSError, ValueError, TypeError, LookupError) as exc:  # IsADirectoryError on "America"...
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"{where} $.timezone: {name!r} is not a loadable IANA time zone ({reason})") from None


def build_view(contract: Contract, policy: Policy) -> ContractView:
    """Resolve a contract against its policy; a contract that cannot be is a ConfigError."""
    where = contract.path or contract.id
    zone = load_zone(contract.timezone, where)
    if contract.term.end < contract.term.start:
        raise ConfigError(f"{where} $.term: end {contract.term.end} is before start {contract.term.start}")
    problem = term_problem(contract.term.start, contract.term.end)
    if problem is not None:
        raise ConfigError(f"{where} {problem[0]}: {problem[1]}")
    calendar = ContractCalendar(
        contract.term.start, contract.term.end, anchor=policy.periods.anchor, week_days=policy.periods.week_days
    )
    view = ContractView(contract=contract, policy=policy, calendar=calendar, zone=zone)
    for index, package in enumerate(contract.packages):
        tier = policy.resolve_tier(package.tier)
        if tier is None:
            known = ", ".join(policy.tiers)
            raise ConfigError(f"{where} $.packages[{index}].tier: unknown tier {package.tier!r} (expected one of {known})")
        if package.id in view.pools:
            raise ConfigError(f"{where} $.packages[{index}].id: duplicate package id {package.id!r}")
        pool = Pool(contract=view, package=package, tier=tier)
        view.pools[package.id] = pool
        for lob in package.lines_of_business:
            if lob in view.by_lob:
                raise ConfigError(
                    f"{where} $.packages[{index}].lines_of_business: {lob!r} is already in package "
                    f"{view.by_lob[lob].id!r} (a line of business belongs to one package)"
                )
            view.by_lob[lob] = pool
    return view


@define
class Audit:
    """One audit run: ``contracts`` (id -> :class:`ContractView`), ``as_of`` (open items are
    measured up to it), ``options`` (the workspace's ``[plugins]`` table), the record counts,
    ``state`` (room for run state, keyed by domain or rule id) and ``summary`` (extra report
    summary sections: key -> JSON-serialisable value)."""

    contracts: dict[str, ContractView]
    as_of: datetime | None = None
    options: dict = field(factory=dict)  # the [plugins] table of cso-policy.toml
    records: int = 0
    by_kind: dict[str, int] = field(factory=lambda: defaultdict(int))
    state: dict = field(factory=dict)  # per-run room for plugin rules, keyed by rule id
    # Extra report summary sections a rule module adds at finish (e.g. SLA attainment);
    # key -> JSON-serialisable value, printed under summary[key].
    summary: dict = field(factory=dict)
