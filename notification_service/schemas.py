"""API contracts of the notification service."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool

from shared.money import DecimalStr
from shared.schemas import Page, StrictModel

from .catalogue import NOTIFICATION_TYPES

TypeName = Literal[tuple(NOTIFICATION_TYPES)]  # type: ignore[valid-type]
IsoWeek = Annotated[str, Field(pattern=r"^\d{4}-W\d{2}$", examples=["2026-W05"])]


class NotificationPublic(BaseModel):
    id: str
    type: str
    title: str
    body: str
    data: dict[str, str]
    read: bool
    read_at: datetime | None
    created_at: datetime


NotificationPage = Page[NotificationPublic]


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    updated: int


class ChannelsPublic(BaseModel):
    email: bool
    in_app: bool
    available: list[str] = Field(description="channels this notification type can use")
    always_on: list[str] = Field(description="channels that cannot be turned off")


class PreferencesPublic(BaseModel):
    types: dict[str, ChannelsPublic]


class ChannelsUpdate(StrictModel):
    email: StrictBool | None = None
    in_app: StrictBool | None = None


class PreferencesUpdate(StrictModel):
    """Only the types and channels given change; the rest keep their current setting."""

    types: dict[TypeName, ChannelsUpdate]


class WeeklyReportRequest(StrictModel):
    week: IsoWeek | None = Field(default=None, description="ISO week; default: last week in your timezone")


class CurrencyTotals(BaseModel):
    currency: str
    income: DecimalStr
    spending: DecimalStr
    net: DecimalStr
    transactions: int


class CategorySpending(BaseModel):
    category_id: str | None
    category_name: str
    currency: str
    amount: DecimalStr
    transactions: int


class BudgetStatus(BaseModel):
    budget_id: str
    budget_name: str
    category_name: str | None
    status: Literal["threshold_80", "exceeded"]
    spent: DecimalStr
    limit_amount: DecimalStr
    currency: str
    period_start: date
    period_end: date
    raised_at: datetime


class WeeklyReport(BaseModel):
    week: str
    start_date: date
    end_date: date
    timezone: str
    totals: list[CurrencyTotals] = Field(description="income and spending per currency")
    top_categories: list[CategorySpending] = Field(description="largest spending categories, per currency")
    budgets: list[BudgetStatus] = Field(description="budget alerts raised during the week")

    @property
    def has_activity(self) -> bool:
        return bool(self.totals or self.budgets)
