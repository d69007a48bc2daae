"""API contracts of analytics_service. Money is a decimal string beside its ISO 4217 currency; ratios
(shares, savings rate, changes) are decimal strings with four places, e.g. "0.2500" for 25 %."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from shared.money import DecimalStr


class CategoryShare(BaseModel):
    category_id: str | None
    category_name: str
    amount: DecimalStr
    count: int
    share: DecimalStr  # of the currency's spending in the range


class CurrencySummary(BaseModel):
    currency: str
    income: DecimalStr
    expense: DecimalStr
    net: DecimalStr
    savings_rate: DecimalStr | None  # net / income; null without income
    count: int
    income_count: int
    expense_count: int
    average_daily_expense: DecimalStr | None  # per day of the range up to today; null for a future range
    average_daily_income: DecimalStr | None
    categories: list[CategoryShare]  # spending only: income is never counted as spending


class Summary(BaseModel):
    from_date: date
    to_date: date
    days: int
    elapsed_days: int  # days of the range up to today, in the user's timezone
    timezone: str
    currencies: list[CurrencySummary]


class TrendPoint(BaseModel):
    period: str  # 2024-03-05 | 2024-W10 | 2024-03
    start_date: date  # clipped to the requested range
    end_date: date
    income: DecimalStr
    expense: DecimalStr
    net: DecimalStr
    count: int


class TrendSeries(BaseModel):
    currency: str
    points: list[TrendPoint]


class Trends(BaseModel):
    granularity: Literal["day", "week", "month"]
    from_date: date
    to_date: date
    series: list[TrendSeries]


class CategoryRank(BaseModel):
    rank: int
    category_id: str | None
    category_name: str
    amount: DecimalStr
    count: int
    share: DecimalStr
    previous_amount: DecimalStr
    change: DecimalStr
    change_ratio: DecimalStr | None  # change / previous_amount; null when there was nothing before


class CurrencyCategories(BaseModel):
    currency: str
    total: DecimalStr
    previous_total: DecimalStr
    categories: list[CategoryRank]


class CategoryRanking(BaseModel):
    from_date: date
    to_date: date
    previous_from_date: date
    previous_to_date: date
    currencies: list[CurrencyCategories]


class WeekdayTotal(BaseModel):
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    name: str
    total: DecimalStr
    days: int  # how many such days the range holds
    average: DecimalStr | None


class DayOfMonthTotal(BaseModel):
    day: int
    total: DecimalStr
    days: int
    average: DecimalStr | None


class WeekendComparison(BaseModel):
    weekend_total: DecimalStr
    weekend_days: int
    weekend_average: DecimalStr | None
    weekday_total: DecimalStr
    weekday_days: int
    weekday_average: DecimalStr | None
    ratio: DecimalStr | None  # weekend average / weekday average


class CurrencyPatterns(BaseModel):
    currency: str
    by_weekday: list[WeekdayTotal]
    by_day_of_month: list[DayOfMonthTotal]
    weekend_vs_weekday: WeekendComparison


class Patterns(BaseModel):
    from_date: date
    to_date: date
    currencies: list[CurrencyPatterns]


class TopExpense(BaseModel):
    id: str
    amount: DecimalStr
    currency: str
    category_id: str | None
    category_name: str
    occurred_date: date
    description: str


class CurrencyTop(BaseModel):
    currency: str
    items: list[TopExpense]


class TopExpenses(BaseModel):
    from_date: date
    to_date: date
    limit: int
    currencies: list[CurrencyTop]  # amounts in different currencies are never ranked against each other


class Insight(BaseModel):
    kind: Literal["top_category", "category_change", "weekend_vs_weekday", "unusual_day", "month_end_projection"]
    currency: str
    statement: str
    rule: str  # the rule that produced it, with its parameters
    numbers: dict[str, str | int | None]  # the figures behind the statement (money as decimal strings)


class Insights(BaseModel):
    as_of_date: date  # today in the user's timezone
    timezone: str
    insights: list[Insight]


class RebuildResult(BaseModel):
    transactions: int
    days: int
    months: int
    rebuilt_at: datetime
