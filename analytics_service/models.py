"""The read model's documents. Declared with Beanie (schema and indexes); the hot paths read and write them
through the raw PyMongo collection (Model.get_pymongo_collection()) to skip per-document validation.

Rollup ids are "<user_id>|<period>" so one user's periods are found by _id or by (user_id, period).
"""

from datetime import datetime
from typing import Annotated

from beanie import DecimalAnnotation, Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

Money = Annotated[DecimalAnnotation, Field()]


class DayRollup(Document):
    """Totals of one user's calendar day per (currency, type, category), as parallel arrays."""

    id: str  # "<user_id>|YYYY-MM-DD"
    user_id: str
    day: str  # the user's calendar day, ISO: sorts and compares as a date
    currencies: list[str] = []
    types: list[str] = []
    category_ids: list[str | None] = []
    category_names: list[str] = []
    amounts: list[Money] = []
    counts: list[int] = []

    class Settings:
        name = "day_rollups"
        indexes = [IndexModel([("user_id", ASCENDING), ("day", ASCENDING)])]


class MonthRollup(Document):
    """Totals of one user's calendar month per (currency, type, category), as parallel arrays."""

    id: str  # "<user_id>|YYYY-MM"
    user_id: str
    month: str  # YYYY-MM
    currencies: list[str] = []
    types: list[str] = []
    category_ids: list[str | None] = []
    category_names: list[str] = []
    amounts: list[Money] = []
    counts: list[int] = []

    class Settings:
        name = "month_rollups"
        indexes = [IndexModel([("user_id", ASCENDING), ("month", ASCENDING)])]


class MonthSeries(Document):
    """One user's month as daily totals per (currency, type): amounts[k][d] is day d+1 of series k."""

    id: str  # "<user_id>|YYYY-MM"
    user_id: str
    month: str
    currencies: list[str] = []
    types: list[str] = []
    amounts: list[list[Money]] = []
    counts: list[list[int]] = []

    class Settings:
        name = "month_series"
        indexes = [IndexModel([("user_id", ASCENDING), ("month", ASCENDING)])]


class TransactionRecord(Document):
    """The last applied state of one transaction: what it contributes to the rollups right now.

    Updates and deletes subtract exactly this; the event time (microseconds, plus a rank for created <
    updated < deleted at the same instant) refuses stale and out-of-order events. A deleted transaction
    stays as a tombstone so a late created/updated event cannot bring it back.
    """

    id: str  # "<user_id>|<transaction id>"
    user_id: str
    transaction_id: str
    deleted: bool = False
    type: str
    amount: Money
    currency: str
    category_id: str | None = None
    category_name: str = ""
    occurred_date: datetime  # the user's calendar day at midnight (BSON has no date type)
    description: str = ""
    event_at_us: int
    event_rank: int

    class Settings:
        name = "transactions"
        indexes = [
            # /top: the largest expenses of a user in one currency, straight off the index.
            IndexModel([("user_id", ASCENDING), ("deleted", ASCENDING), ("type", ASCENDING),
                        ("currency", ASCENDING), ("amount", DESCENDING), ("occurred_date", DESCENDING)]),
            IndexModel([("user_id", ASCENDING), ("occurred_date", ASCENDING)]),
        ]


class Profile(Document):
    """A copy of the user's profile: the timezone that decides "today", kept from user events."""

    id: str  # the user id
    timezone: str = "UTC"
    timezone_at_us: int = 0  # event time of the source of `timezone`; newer sources win
    default_currency: str | None = None
    erased: bool = False  # user.deleted came: late events for this user are dropped

    class Settings:
        name = "profiles"


MODELS = [DayRollup, MonthRollup, MonthSeries, TransactionRecord, Profile]
