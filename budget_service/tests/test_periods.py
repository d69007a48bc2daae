"""Period boundaries: weekly, monthly with a start day, yearly, custom; month ends and leap years."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from budget_service.periods import (
    WEEKDAYS,
    CustomPeriod,
    MonthlyPeriod,
    Period,
    PeriodSpec,
    WeeklyPeriod,
    YearlyPeriod,
    next_period,
    period_containing,
    periods_through,
    previous_period,
)

D = date


def test_weekly_period_starting_monday_runs_monday_to_sunday():
    spec = WeeklyPeriod(kind="weekly", start_weekday="monday")
    assert period_containing(spec, D(2025, 3, 12)) == Period(D(2025, 3, 10), D(2025, 3, 16))  # a Wednesday
    assert period_containing(spec, D(2025, 3, 10)) == Period(D(2025, 3, 10), D(2025, 3, 16))  # the Monday itself
    assert period_containing(spec, D(2025, 3, 16)) == Period(D(2025, 3, 10), D(2025, 3, 16))  # the Sunday


def test_weekly_period_starting_sunday_crosses_the_year_end():
    spec = WeeklyPeriod(kind="weekly", start_weekday="sunday")
    assert period_containing(spec, D(2025, 1, 2)) == Period(D(2024, 12, 29), D(2025, 1, 4))


def test_monthly_period_from_the_25th_runs_to_the_24th_of_the_next_month():
    spec = MonthlyPeriod(kind="monthly", start_day=25)
    assert period_containing(spec, D(2025, 3, 25)) == Period(D(2025, 3, 25), D(2025, 4, 24))
    assert period_containing(spec, D(2025, 3, 24)) == Period(D(2025, 2, 25), D(2025, 3, 24))
    assert period_containing(spec, D(2025, 1, 10)) == Period(D(2024, 12, 25), D(2025, 1, 24))  # across the year


def test_monthly_period_from_the_first_is_the_calendar_month_including_february_of_a_leap_year():
    spec = MonthlyPeriod(kind="monthly", start_day=1)
    assert period_containing(spec, D(2024, 2, 29)) == Period(D(2024, 2, 1), D(2024, 2, 29))
    assert period_containing(spec, D(2025, 2, 14)) == Period(D(2025, 2, 1), D(2025, 2, 28))
    assert period_containing(spec, D(2025, 12, 31)) == Period(D(2025, 12, 1), D(2025, 12, 31))


def test_monthly_start_day_beyond_a_short_month_is_clamped_to_its_last_day():
    spec = MonthlyPeriod(kind="monthly", start_day=31)
    assert period_containing(spec, D(2025, 2, 10)) == Period(D(2025, 1, 31), D(2025, 2, 27))
    assert period_containing(spec, D(2025, 2, 28)) == Period(D(2025, 2, 28), D(2025, 3, 30))
    assert period_containing(spec, D(2025, 4, 30)) == Period(D(2025, 4, 30), D(2025, 5, 30))
    leap = MonthlyPeriod(kind="monthly", start_day=30)
    assert period_containing(leap, D(2024, 2, 29)) == Period(D(2024, 2, 29), D(2024, 3, 29))
    assert period_containing(leap, D(2024, 2, 28)) == Period(D(2024, 1, 30), D(2024, 2, 28))


def test_yearly_period_from_april_6th_is_a_tax_year():
    spec = YearlyPeriod(kind="yearly", start_month=4, start_day=6)
    assert period_containing(spec, D(2025, 4, 5)) == Period(D(2024, 4, 6), D(2025, 4, 5))
    assert period_containing(spec, D(2025, 4, 6)) == Period(D(2025, 4, 6), D(2026, 4, 5))


def test_yearly_period_from_february_29th_starts_on_the_28th_in_common_years():
    spec = YearlyPeriod(kind="yearly", start_month=2, start_day=29)
    assert period_containing(spec, D(2024, 3, 1)) == Period(D(2024, 2, 29), D(2025, 2, 27))
    assert period_containing(spec, D(2025, 2, 28)) == Period(D(2025, 2, 28), D(2026, 2, 27))
    assert period_containing(spec, D(2027, 6, 1)) == Period(D(2027, 2, 28), D(2028, 2, 28))


def test_calendar_year_includes_the_leap_day():
    spec = YearlyPeriod(kind="yearly")
    period = period_containing(spec, D(2024, 2, 29))
    assert period == Period(D(2024, 1, 1), D(2024, 12, 31))
    assert (period.end - period.start).days + 1 == 366


def test_custom_period_is_its_range_and_does_not_recur():
    spec = CustomPeriod(kind="custom", start_date=D(2025, 6, 15), end_date=D(2025, 8, 31))
    assert period_containing(spec, D(2025, 7, 1)) == Period(D(2025, 6, 15), D(2025, 8, 31))
    assert next_period(spec, period_containing(spec, D(2025, 7, 1))) is None
    assert periods_through(spec, D(2025, 6, 15), D(2026, 1, 1)) == [Period(D(2025, 6, 15), D(2025, 8, 31))]


def test_periods_through_lists_consecutive_periods():
    spec = MonthlyPeriod(kind="monthly", start_day=25)
    periods = periods_through(spec, D(2024, 12, 30), D(2025, 2, 25))
    assert periods == [Period(D(2024, 12, 25), D(2025, 1, 24)), Period(D(2025, 1, 25), D(2025, 2, 24)),
                       Period(D(2025, 2, 25), D(2025, 3, 24))]
    assert previous_period(spec, periods[1]) == periods[0]


SPECS = st.one_of(
    st.builds(WeeklyPeriod, kind=st.just("weekly"), start_weekday=st.sampled_from(WEEKDAYS)),
    st.builds(MonthlyPeriod, kind=st.just("monthly"), start_day=st.integers(1, 31)),
    st.builds(YearlyPeriod, kind=st.just("yearly"), start_month=st.integers(1, 12), start_day=st.integers(1, 28)),
)


@given(spec=SPECS, day=st.dates(D(1950, 1, 1), D(2150, 12, 31)))
def test_recurring_periods_hold_their_day_and_tile_the_calendar(spec, day):
    period = period_containing(spec, day)
    assert period.contains(day)
    following = next_period(spec, period)
    assert following.start == period.end + timedelta(days=1)
    assert previous_period(spec, following) == period
    assert period_containing(spec, period.start) == period == period_containing(spec, period.end)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "monthly", "start_day": 32}, "start_day"),
    ({"kind": "weekly", "start_weekday": "moonday"}, "start_weekday"),
    ({"kind": "yearly", "start_month": 2, "start_day": 30}, "yearly"),
    ({"kind": "custom", "start_date": "2025-05-01", "end_date": "2025-04-01"}, "custom"),
    ({"kind": "fortnightly"}, "kind"),
])
def test_impossible_periods_are_refused(body, field):
    with pytest.raises(ValidationError) as error:
        TypeAdapter(PeriodSpec).validate_python(body)
    assert field in str(error.value)
