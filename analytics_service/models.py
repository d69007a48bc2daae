"""The read model's documents. Declared with Beanie (schema and indexes); the hot paths read and write them
through the raw PyMongo collection (Model.get_pymongo_collection()) to skip per-document validation.

Rollup ids name their user, kind and period, so the rollups a change or a query needs are found by _id.
"""

from datetime import datetime
from typing import Annotated, Literal

from beanie import DecimalAnnotation, Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

Money = Annotated[DecimalAnnotation, Field()]


class Rollup(Document):
    """One user's totals over one period, as parallel arrays (see rollups.py):
    kind "day" / "month": per (currencies[i], types[i], category_ids[i]) amounts[i] and counts[i];
    kind "series": per (currencies[k], types[k]) a month of daily amounts[k][d] and counts[k][d];
    kind "weeks": the same over an ISO year's weeks, amounts[k][w] for week w+1.
    kind "top": a month's largest expenses (rollups_top.py).
    "series", "weeks" and "top" amounts are integers of 10**-scale (units.py); without a scale, Decimal128."""

    id: str  # "<user_id>|<kind>|<period>"
    user_id: str
    kind: Literal["day", "month", "series", "weeks"]
    period: str  # YYYY-MM-DD for a day (the user's calendar day), YYYY-MM for a month, YYYY for an ISO year
    currencies: list[str] = []
    types: list[str] = []
    category_ids: list[str | None] = []
    category_names: list[str] = []
    amounts: list[Money] | list[int] | list[list[int]] | list[list[Money]] = []
    scale: int | None = None
    counts: list[int] | list[list[int]] = []

    class Settings:
        name = "rollups"
        indexes = [IndexModel([("user_id", ASCENDING), ("kind", ASCENDING), ("period", ASCENDING)])]


class TransactionRecord(Document):
    """The last applied state of one transaction: what it contributes to the rollups right now.

    Updates and deletes subtract exactly this; the snapshot's revision, or without one the event time
    (microseconds, plus a rank for created < updated < deleted at the same instant), refuses stale and
    out-of-order events (service.Version). A deleted transaction stays as a tombstone so a late
    created/updated event cannot bring it back.
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
    revision: int | None = None  # the snapshot's revision, when its producer sent one

    class Settings:
        name = "transactions"
        # A month's transactions by day: what refills a month's list of largest expenses (rollups_top.py)
        # and what /top reads for the days its lists cannot answer.
        indexes = [IndexModel([("user_id", ASCENDING), ("occurred_date", ASCENDING)])]


class Profile(Document):
    """A copy of the user's profile: the timezone that decides "today", kept from user events."""

    id: str  # the user id
    timezone: str = "UTC"
    timezone_at_us: int = 0  # event time of the source of `timezone`; newer sources win
    default_currency: str | None = None
    erased: bool = False  # user.deleted came: late events for this user are dropped

    class Settings:
        name = "profiles"


MODELS = [Rollup, TransactionRecord, Profile]
