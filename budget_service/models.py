"""Budget service documents: budgets, the ledger of contributions, per-period alert state, alerts."""

from datetime import date, datetime
from typing import Literal

from beanie import DecimalAnnotation, Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from budget_service.periods import PeriodSpec


class Budget(Document):
    user_id: str
    name: str
    category_id: str | None = None  # None: all spending in the currency
    limit_amount: DecimalAnnotation
    currency: str
    period: PeriodSpec
    thresholds: list[int] = Field(default_factory=lambda: [80, 100])
    rollover: bool = False
    start_date: date  # the first period is the one holding this day
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "budgets"
        indexes = [IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)]),
                   IndexModel([("user_id", ASCENDING), ("currency", ASCENDING)])]


class Contribution(Document):
    """The ledger: one record per transaction of expense_service, as its newest event left it."""

    id: str  # expense_service's transaction id
    user_id: str
    kind: Literal["expense", "income"]
    amount: DecimalAnnotation
    currency: str
    category_id: str | None = None
    category_name: str = ""
    occurred_date: date
    deleted: bool = False  # a tombstone, so a late create or update cannot resurrect it
    # Which event this record reflects: the producer's emission time in microseconds (BSON datetimes keep
    # only milliseconds), then created 0 < updated 1 < deleted 2 for equal times. Older events are ignored.
    as_of_us: int
    rank: int
    revision: int | None = None  # the snapshot's revision (+1 per change): when both sides have one, it decides

    class Settings:
        name = "ledger"
        indexes = [IndexModel([("user_id", ASCENDING), ("currency", ASCENDING), ("occurred_date", ASCENDING)])]


class PeriodState(Document):
    """Which thresholds of one budget period have alerted; written in the transaction of each change."""

    id: str  # "<budget id>:<period start>_<period end>"
    user_id: str
    budget_id: str
    period_start: date
    period_end: date
    spent: DecimalAnnotation
    effective_limit: DecimalAnnotation
    alerted: list[int] = Field(default_factory=list)
    updated_at: datetime

    class Settings:
        name = "period_states"
        indexes = [IndexModel([("user_id", ASCENDING)]), IndexModel([("budget_id", ASCENDING)])]


class Alert(Document):
    user_id: str
    budget_id: str
    budget_name: str
    category_id: str | None = None
    period_start: date
    period_end: date
    threshold_percent: int
    spent: DecimalAnnotation
    limit_amount: DecimalAnnotation  # the effective limit of the period (with rollover)
    currency: str
    event_type: str | None = None  # the routing key published, None for an in-app-only threshold
    created_at: datetime

    class Settings:
        name = "alerts"
        indexes = [IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)]),
                   IndexModel([("user_id", ASCENDING), ("budget_id", ASCENDING), ("created_at", DESCENDING)])]


class UserState(Document):
    """One record per user: the lock, their timezone, and whether they were erased.

    Every write about a user bumps `seq` first, inside its transaction (accounting.lock_user): concurrent
    transactions of the same user then conflict here and the driver retries them one after another, so each
    sees the ledger and the alert state as the previous one left them (no lost or doubled crossing). The same
    round trip returns the timezone (from user events: "today" is the user's own) and the erasure mark
    (user.deleted: late expense events are turned away)."""

    id: str  # user id
    seq: int = 0
    timezone: str | None = None
    timezone_as_of_us: int = 0  # emission time of the user event the timezone came from, in microseconds
    erased_at: datetime | None = None

    class Settings:
        name = "user_states"


MODELS = [Budget, Contribution, PeriodState, Alert, UserState]
