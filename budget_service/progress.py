"""Spending against a limit, period by period: rollover, ratio, status and threshold crossings. Pure logic.

Rollover carries a period's unspent amount (never an overspend) into the next period's effective limit, so it
compounds: effective(n) = limit + max(0, effective(n-1) - spent(n-1)), starting at the budget's first period.
A threshold t is reached when spent ≥ t % of the effective limit (exact decimal arithmetic, no division).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from budget_service.periods import Period
from shared.events import BudgetExceeded, BudgetThreshold80

Status = Literal["ok", "warning", "exceeded"]
ZERO = Decimal(0)
DEFAULT_WARNING_PERCENT = 80


@dataclass(frozen=True)
class PeriodProgress:
    period: Period
    limit_amount: Decimal
    carried_over: Decimal
    spent: Decimal

    @property
    def effective_limit(self) -> Decimal:
        return self.limit_amount + self.carried_over

    @property
    def remaining(self) -> Decimal:
        return self.effective_limit - self.spent

    @property
    def ratio(self) -> Decimal:
        """spent / effective limit, to four places (0.8500 is 85 %)."""
        return (self.spent / self.effective_limit).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def spent_in(period: Period, daily: Mapping[date, Decimal]) -> Decimal:
    return sum((amount for day, amount in daily.items() if period.contains(day)), ZERO)


def progress_series(periods: Iterable[Period], daily: Mapping[date, Decimal], *, limit_amount: Decimal,
                    rollover: bool) -> list[PeriodProgress]:
    """Each period's progress in order; `periods` must be consecutive from the budget's first period."""
    series: list[PeriodProgress] = []
    carried = ZERO
    for period in periods:
        progress = PeriodProgress(period, limit_amount, carried, spent_in(period, daily))
        series.append(progress)
        carried = max(ZERO, progress.remaining) if rollover else ZERO
    return series


def reached_thresholds(spent: Decimal, effective_limit: Decimal, thresholds: Iterable[int]) -> set[int]:
    return {t for t in thresholds if spent * 100 >= effective_limit * t}


def status_of(progress: PeriodProgress, thresholds: Iterable[int]) -> Status:
    """exceeded at 100 % or more; warning from the lowest threshold under 100 (80 when there is none)."""
    if progress.spent >= progress.effective_limit:
        return "exceeded"
    warning_at = min((t for t in thresholds if t < 100), default=DEFAULT_WARNING_PERCENT)
    return "warning" if reached_thresholds(progress.spent, progress.effective_limit, [warning_at]) else "ok"


@dataclass(frozen=True)
class Crossing:
    newly_reached: list[int]  # ascending: alert these now
    still_reached: list[int]  # the period's alerted set after this change (re-armed ones dropped)


def crossing(previously_alerted: Iterable[int], now_reached: set[int]) -> Crossing:
    """A threshold alerts once when reached; it re-arms only when spending falls back under it."""
    before = set(previously_alerted)
    return Crossing(newly_reached=sorted(now_reached - before), still_reached=sorted(now_reached))


def event_class_for(threshold: int) -> type[BudgetThreshold80] | type[BudgetExceeded] | None:
    """80 → budget.threshold_80; 100 and above → budget.exceeded; any other threshold is an in-app alert only."""
    if threshold == 80:
        return BudgetThreshold80
    if threshold >= 100:
        return BudgetExceeded
    return None
