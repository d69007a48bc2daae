"""Budget periods: the calendar rules, pure (no I/O), so every boundary case is unit-tested.

A recurring period is weekly (starting on a weekday), monthly (starting on a day of the month) or yearly
(starting on a month and day). A start day the month does not have is clamped to the month's last day:
"monthly from the 31st" runs Jan 31 to Feb 27, Feb 28 to Mar 30, Mar 31 to Apr 29, ...; "yearly from Feb 29" starts
on Feb 28 in common years. A custom period is one fixed date range. End dates are inclusive.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# Dates outside this window belong to no budget period (keeps the arithmetic clear of date.min/max).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
MAX_CUSTOM_DAYS = 3 * 366 + 365


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeeklyPeriod(_Spec):
    kind: Literal["weekly"]
    start_weekday: Weekday = "monday"


class MonthlyPeriod(_Spec):
    kind: Literal["monthly"]
    start_day: int = Field(1, ge=1, le=31, description="day of the month the period starts on; clamped to "
                                                       "the month's last day in shorter months")


class YearlyPeriod(_Spec):
    kind: Literal["yearly"]
    start_month: int = Field(1, ge=1, le=12)
    start_day: int = Field(1, ge=1, le=31)

    @model_validator(mode="after")
    def _day_exists(self) -> "YearlyPeriod":
        if self.start_day > monthrange(2000, self.start_month)[1]:  # 2000 is a leap year: Feb 29 allowed
            raise ValueError(f"month {self.start_month} has no day {self.start_day}")
        return self


class CustomPeriod(_Spec):
    kind: Literal["custom"]
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _range(self) -> "CustomPeriod":
        if not (EARLIEST_DATE <= self.start_date and self.end_date <= LATEST_DATE):
            raise ValueError(f"dates must lie between {EARLIEST_DATE} and {LATEST_DATE}")
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.end_date - self.start_date).days >= MAX_CUSTOM_DAYS:
            raise ValueError("a custom period spans at most four years")
        return self


PeriodSpec = Annotated[WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod, Field(discriminator="kind")]


def clamp_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, monthrange(year, month)[1]))


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _weekly(spec: WeeklyPeriod, day: date) -> Period:
    start = day - timedelta(days=(day.weekday() - WEEKDAYS.index(spec.start_weekday)) % 7)
    return Period(start, start + timedelta(days=6))


def _monthly(spec: MonthlyPeriod, day: date) -> Period:
    year, month = day.year, day.month
    if day < clamp_day(year, month, spec.start_day):
        year, month = _shift_month(year, month, -1)
    start = clamp_day(year, month, spec.start_day)
    next_year, next_month = _shift_month(year, month, 1)
    return Period(start, clamp_day(next_year, next_month, spec.start_day) - timedelta(days=1))


def _yearly(spec: YearlyPeriod, day: date) -> Period:
    year = day.year
    if day < clamp_day(year, spec.start_month, spec.start_day):
        year -= 1
    start = clamp_day(year, spec.start_month, spec.start_day)
    return Period(start, clamp_day(year + 1, spec.start_month, spec.start_day) - timedelta(days=1))


def period_containing(spec: WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod, day: date) -> Period:
    """The period a day falls in. A custom budget has only its range, whatever the day."""
    if isinstance(spec, WeeklyPeriod):
        return _weekly(spec, day)
    if isinstance(spec, MonthlyPeriod):
        return _monthly(spec, day)
    if isinstance(spec, YearlyPeriod):
        return _yearly(spec, day)
    return Period(spec.start_date, spec.end_date)


def is_recurring(spec: WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod) -> bool:
    return not isinstance(spec, CustomPeriod)


def next_period(spec: WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod, period: Period) -> Period | None:
    return period_containing(spec, period.end + timedelta(days=1)) if is_recurring(spec) else None


def previous_period(spec: WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod,
                    period: Period) -> Period | None:
    return period_containing(spec, period.start - timedelta(days=1)) if is_recurring(spec) else None


def periods_through(spec: WeeklyPeriod | MonthlyPeriod | YearlyPeriod | CustomPeriod, first_day: date,
                    last_day: date) -> list[Period]:
    """Consecutive periods from the one holding first_day through the one holding last_day (at least one)."""
    period: Period | None = period_containing(spec, first_day)
    periods: list[Period] = []
    while period is not None and (not periods or period.start <= last_day):
        periods.append(period)
        period = next_period(spec, period)
    return periods
