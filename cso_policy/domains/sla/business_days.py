"""Business days of a contract (I-4): its time zone, the policy's weekend, and the public
holidays of its country and subdivision (the ``holidays`` package)."""

from __future__ import annotations

import bisect
import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_package
from attrs import field, frozen

from ...core.convert import FIXED_OFFSETS
from ...errors import ConfigError
from .terms import SlaTerms



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
