"""API contracts of /api/budgets."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from budget_service.periods import MonthlyPeriod, PeriodSpec
from shared.money import Currency, DecimalStr, PositiveAmount
from shared.schemas import Page, PublicModel, StrictModel

CategoryId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
BudgetName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _distinct_ascending(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("thresholds must be distinct")
    return sorted(values)


Thresholds = Annotated[list[Annotated[int, Field(ge=1, le=1000)]], Field(min_length=1, max_length=10),
                       AfterValidator(_distinct_ascending)]

CURRENCY_NOTE = ("Only expenses recorded in the budget's currency count toward it; income never counts. "
                 "Expenses in other currencies are not converted.")
THRESHOLD_NOTE = ("Percentages of the period's effective limit. Reaching 80 publishes budget.threshold_80, "
                  "100 or more budget.exceeded (an email and an in-app notification); any other threshold "
                  "records an in-app alert only (GET /api/budgets/alerts). Each alerts once per period, and again "
                  "only after spending falls under it and reaches it anew.")


class BudgetCreate(StrictModel):
    name: BudgetName
    category_id: CategoryId | None = Field(None, description="an expense category id; none: all spending")
    limit_amount: PositiveAmount = Field(description="the limit per period, a decimal string such as \"100.00\"")
    currency: Currency = Field(description=CURRENCY_NOTE)
    period: PeriodSpec = Field(default_factory=lambda: MonthlyPeriod(kind="monthly"),
                               description="weekly, monthly or yearly with a start day, or a custom date range")
    thresholds: Thresholds = Field(default_factory=lambda: [80, 100], description=THRESHOLD_NOTE)
    rollover: bool = Field(False, description="carry each period's unspent amount into the next period's limit")
    start_date: date | None = Field(None, description="the first period is the one holding this day (default: "
                                                      "today); an earlier day shows past periods")


class BudgetUpdate(StrictModel):
    """Only the fields sent change; `category_id: null` makes it a budget of all spending."""

    name: BudgetName | None = None
    category_id: CategoryId | None = None
    limit_amount: PositiveAmount | None = None
    currency: Currency | None = Field(None, description=CURRENCY_NOTE)
    period: PeriodSpec | None = None
    thresholds: Thresholds | None = Field(None, description=THRESHOLD_NOTE)
    rollover: bool | None = None
    start_date: date | None = None


class PeriodPublic(PublicModel):
    start_date: date
    end_date: date
    limit_amount: DecimalStr
    carried_over: DecimalStr = Field(description="unspent amount rolled over from the previous period")
    effective_limit: DecimalStr
    spent: DecimalStr
    remaining: DecimalStr = Field(description="negative once the budget is exceeded")
    ratio: DecimalStr = Field(description="spent / effective limit, e.g. \"0.8500\" for 85 %")
    status: Literal["ok", "warning", "exceeded"]


class BudgetPublic(PublicModel):
    id: str
    name: str
    category_id: str | None
    limit_amount: DecimalStr
    currency: str
    period: PeriodSpec
    thresholds: list[int]
    rollover: bool
    start_date: date
    created_at: datetime
    updated_at: datetime
    current: PeriodPublic = Field(description="the period holding today (in the user's timezone, else UTC)")


class BudgetDetail(BudgetPublic):
    past_periods: list[PeriodPublic] = Field(description="the most recent past periods, newest first; "
                                                         "GET /api/budgets/{id}/periods pages through all")
    past_periods_total: int


class AlertPublic(PublicModel):
    id: str
    budget_id: str
    budget_name: str
    category_id: str | None
    period_start: date
    period_end: date
    threshold_percent: int
    spent: DecimalStr
    limit_amount: DecimalStr = Field(description="the period's effective limit when the alert was raised")
    currency: str
    event_type: str | None = Field(description="the event published for it; null for an in-app-only alert")
    created_at: datetime


BudgetPage = Page[BudgetPublic]
PeriodPage = Page[PeriodPublic]
AlertPage = Page[AlertPublic]
