"""Contract periods anchored to the term start (reading I-1).

Month k of a contract is [start + k months, start + k+1 months); quarters,
half-years and years are 3, 6 and 12 such months; week k is 7 days from start.

Terms must lie within :data:`EARLIEST_TERM_DAY` .. :data:`LATEST_TERM_DAY` (1900-01-01 ..
2199-12-31): period bounds, the day after the term and local midnights in the contract's time
zone are computed beyond the term's own days, and near the ends of what ``date`` can hold
(0001-01-01, 9999-12-31) that arithmetic overflows. A contract outside is a ConfigError
naming ``$.term.start`` or ``$.term.end``.
"""

from __future__ import annotations

from datetime import date, timedelta

from attrs import define, field, frozen
from dateutil.relativedelta import relativedelta

from ..errors import ConfigError
from .convert import SUPPORTED

PERIOD_KINDS = ("week", "month", "quarter", "half", "year")
_MONTHS_PER = {"month": 1, "quarter": 3, "half": 6, "year": 12}
EARLIEST_TERM_DAY = date(1900, 1, 1)
LATEST_TERM_DAY = date(2199, 12, 31)


def term_problem(start: date, end: date) -> tuple[str, str] | None:
    """``(key path, message)`` when the term *start*..*end* is outside the supported bounds."""
    if start < EARLIEST_TERM_DAY:
        return "$.term.start", f"start {start} is before {EARLIEST_TERM_DAY}, the earliest supported term day"
    if end > LATEST_TERM_DAY:
        return "$.term.end", f"end {end} is after {LATEST_TERM_DAY}, the latest supported term day"
    return None


@frozen
class Periods:
    """Indexes of one date in each period kind, counted from the term start."""

    week: int
    month: int

    @property
    def quarter(self) -> int:
        return self.month // 3

    @property
    def half(self) -> int:
        return self.month // 6

    @property
    def year(self) -> int:
        return self.month // 12

    def index(self, kind: str) -> int:
        return self.week if kind == "week" else self.month // _MONTHS_PER[kind]


@define
class ContractCalendar:
    start: date
    end: date
    anchor: str = "term_start"
    week_days: int = 7
    _cache: dict[date, Periods] = field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self):
        if self.anchor != "term_start":
            raise ConfigError(f"period anchor {self.anchor!r} is not supported (known: term_start)")
        problem = term_problem(self.start, self.end)
        if problem is not None:
            raise ConfigError(f"{problem[0]}: {problem[1]}")

    def in_term(self, day: date) -> bool:
        return self.start <= day <= self.end

    def periods(self, day: date) -> Periods:
        """Period indexes of *day* (negative before the start); cached, dates repeat."""
        got = self._cache.get(day)
        if got is None:
            got = self._cache[day] = self._compute(day)
        return got

    def _compute(self, day: date) -> Periods:
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        if self.month_start(months) > day:
            months -= 1
        elif self.month_start(months + 1) <= day:
            months += 1
        weeks = (day - self.start).days // self.week_days
        return Periods(week=weeks, month=months)

    def month_start(self, k: int) -> date:
        return self.start + relativedelta(months=k)

    def bounds(self, kind: str, index: int) -> tuple[date, date]:
        """First and last day of period *index* of *kind*."""
        if kind == "week":
            first = self.start + timedelta(days=index * self.week_days)
            return first, first + timedelta(days=self.week_days - 1)
        months = _MONTHS_PER[kind]
        return self.month_start(index * months), self.month_start((index + 1) * months) - timedelta(days=1)

    def year_label(self, year_index: int) -> str:
        """Contract year k is named after the calendar year it starts in."""
        return str(self.month_start(12 * year_index).year)

    def label(self, kind: str, index: int) -> str:
        """``quarter 5`` of a 2026-01-01 term -> ``2027-Q2``."""
        if kind == "year":
            return self.year_label(index)
        if kind == "week":
            year = self.periods(self.bounds("week", index)[0]).year
            # W01 of a contract year is the first week that starts in it
            first_week = -(-(self.month_start(12 * year) - self.start).days // self.week_days)
            return f"{self.year_label(year)}-W{index - first_week + 1:02d}"
        per_year = 12 // _MONTHS_PER[kind]
        year, within = divmod(index, per_year)
        letter = {"quarter": "Q", "half": "H", "month": "M"}[kind]
        width = 2 if kind == "month" else 1
        return f"{self.year_label(year)}-{letter}{within + 1:0{width}d}"

    def parse_label(self, label: str) -> tuple[str, int] | None:
        """``2026-Q1`` -> ``("quarter", index)``; ``2026`` -> ``("year", index)``; None if malformed."""
        year_text, _, rest = label.partition("-")
        if not (year_text.isascii() and year_text.isdigit() and len(year_text) == 4):
            return None
        year = int(year_text) - self.start.year
        if year < 0 or int(year_text) > SUPPORTED[1].year:  # as every date of the input
            return None
        if not rest:
            return "year", year
        kinds = {"Q": ("quarter", 4), "H": ("half", 2), "M": ("month", 12)}
        letter, number = rest[:1], rest[1:]
        if letter not in kinds or not (number.isascii() and number.isdigit()):  # not "²"
            return None
        kind, per_year = kinds[letter]
        within = int(number) - 1
        if not 0 <= within < per_year:
            return None
        return kind, year * per_year + within
