"""Spending against a limit: rollover, ratio, status, threshold crossings (pure logic)."""

from datetime import date
from decimal import Decimal

from budget_service.periods import MonthlyPeriod, periods_through
from budget_service.progress import (
    PeriodProgress,
    crossing,
    event_class_for,
    progress_series,
    reached_thresholds,
    status_of,
)
from shared.events import BudgetExceeded, BudgetThreshold80

MONTHLY = MonthlyPeriod(kind="monthly")
JAN_TO_APR = periods_through(MONTHLY, date(2025, 1, 1), date(2025, 4, 1))
SPENDING = {date(2025, 1, 10): Decimal("60.00"), date(2025, 2, 3): Decimal("150.00"),
            date(2025, 3, 31): Decimal("20.00")}


def test_rollover_carries_unspent_amounts_forward_and_compounds():
    series = progress_series(JAN_TO_APR, SPENDING, limit_amount=Decimal("100.00"), rollover=True)
    assert [p.carried_over for p in series] == [Decimal(0), Decimal("40.00"), Decimal(0), Decimal("80.00")]
    # February overspent (150 of 140): nothing carries into March, and the overspend is not taken from it.
    assert [p.effective_limit for p in series] == [Decimal("100.00"), Decimal("140.00"), Decimal("100.00"),
                                                   Decimal("180.00")]


def test_without_rollover_every_period_has_the_plain_limit():
    series = progress_series(JAN_TO_APR, SPENDING, limit_amount=Decimal("100.00"), rollover=False)
    assert {p.effective_limit for p in series} == {Decimal("100.00")}
    assert [p.spent for p in series] == [Decimal("60.00"), Decimal("150.00"), Decimal("20.00"), Decimal(0)]


def test_ratio_remaining_and_status():
    def progress(spent: str) -> PeriodProgress:
        return PeriodProgress(JAN_TO_APR[0], Decimal("100.00"), Decimal(0), Decimal(spent))

    assert progress("85.00").ratio == Decimal("0.8500")
    assert progress("105.00").remaining == Decimal("-5.00")
    assert status_of(progress("79.99"), [80, 100]) == "ok"
    assert status_of(progress("80.00"), [80, 100]) == "warning"
    assert status_of(progress("100.00"), [80, 100]) == "exceeded"
    assert status_of(progress("55.00"), [50, 100]) == "warning"  # the lowest threshold under 100 warns


def test_threshold_is_reached_at_exactly_its_percentage():
    assert reached_thresholds(Decimal("79.99"), Decimal("100"), [80, 100]) == set()
    assert reached_thresholds(Decimal("80.00"), Decimal("100"), [80, 100]) == {80}
    assert reached_thresholds(Decimal("120"), Decimal("100"), [80, 100]) == {80, 100}
    assert reached_thresholds(Decimal("100"), Decimal("333.33"), [30]) == {30}  # no division, no rounding drift


def test_crossing_alerts_once_and_rearms_only_after_falling_under():
    first = crossing([], {80})
    assert first.newly_reached == [80]
    assert crossing(first.still_reached, {80}).newly_reached == []  # still above: no second alert
    fell = crossing(first.still_reached, set())
    assert fell.newly_reached == [] and fell.still_reached == []
    assert crossing(fell.still_reached, {80}).newly_reached == [80]  # crossed anew
    assert crossing([80], {80, 100}).newly_reached == [100]


def test_thresholds_map_to_events():
    assert event_class_for(80) is BudgetThreshold80
    assert event_class_for(100) is BudgetExceeded
    assert event_class_for(150) is BudgetExceeded
    assert event_class_for(50) is None
