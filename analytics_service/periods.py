"""Calendar arithmetic for the read model and its queries: pure functions, no I/O.

Ranges are inclusive on both ends ([start, end]), so a month range always includes its last day.
Calendar days are the user's own days (occurred_date); "today" is judged in the user's timezone.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Granularity = Literal["day", "week", "month"]
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_known_zone(name: str | None) -> bool:
    try:
        ZoneInfo(name or "")
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def today_in(timezone_name: str | None, now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(zone(timezone_name)).date()


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def parse_month_key(key: str) -> date:
    return date(int(key[:4]), int(key[5:7]), 1)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __iter__(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def previous(self) -> "DateRange":
        """The period of equal length right before this one."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[date]:
        """First days of every month the range touches."""
        out, cursor = [], month_start(self.start)
        while cursor <= self.end:
            out.append(cursor)
            cursor = add_months(cursor, 1)
        return out

    def elapsed(self, today: date) -> "DateRange | None":
        """The part of the range up to today; None when the range lies wholly in the future."""
        if self.start > today:
            return None
        return DateRange(self.start, min(self.end, today))


def cover(span: DateRange) -> tuple[list[date], list[date], list[date]]:
    """(months to add whole, days to add, days to subtract): the fewest rollups whose sum is the span.

    A month inside the span is read whole; a month the span covers mostly is read whole minus the days it
    leaves out; a month it covers little is read day by day."""
    whole: list[date] = []
    plus: list[date] = []
    minus: list[date] = []
    for first in span.months():
        month = DateRange(first, month_end(first))
        inside = DateRange(max(first, span.start), min(month.end, span.end))
        if inside.days == month.days:
            whole.append(first)
        elif 1 + month.days - inside.days < inside.days:
            whole.append(first)
            minus.extend(day for day in month if day not in inside)
        else:
            plus.extend(inside)
    return whole, plus, minus


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # clipped to the queried range
    end: date


def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    return month_start(day)


def period_label(first: date, granularity: Granularity) -> str:
    if granularity == "day":
        return first.isoformat()
    if granularity == "week":
        year, week, _ = first.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return month_key(first)


def periods(span: DateRange, granularity: Granularity) -> list[Period]:
    """Every period touching the span, empty ones included, each clipped to the span."""
    if granularity == "day":  # up to thousands of them: the short way
        return [Period(day.isoformat(), day, day) for day in span]
    out: list[Period] = []
    cursor = period_start(span.start, granularity)
    while cursor <= span.end:
        if granularity == "day":
            following = cursor + timedelta(days=1)
        elif granularity == "week":
            following = cursor + timedelta(days=7)
        else:
            following = add_months(cursor, 1)
        out.append(Period(period_label(cursor, granularity), max(cursor, span.start),
                          min(following - timedelta(days=1), span.end)))
        cursor = following
    return out
