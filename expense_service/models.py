"""Beanie documents of the expense service: transactions, categories, profile copies, idempotency records."""

from datetime import date, datetime, timezone
from typing import Any, Literal

from beanie import DecimalAnnotation, Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

TransactionType = Literal["expense", "income"]


def utc_now() -> datetime:
    """Now, at the millisecond precision MongoDB stores, so a response and a later read agree."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _present(field: str) -> dict[str, Any]:
    """A partial-index filter: only documents where the field is set take part in the unique index."""
    return {field: {"$type": "string"}}


class Transaction(Document):
    """An income or an expense of one user. Shared-expense shares (group_id) and paid invoices (invoice_id)
    are ordinary transactions with a link to where they came from."""

    user_id: str
    type: TransactionType
    amount: DecimalAnnotation
    currency: str
    category_id: PydanticObjectId
    description: str = ""
    occurred_date: date  # stored as midnight UTC
    payment_method: str | None = None
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    invoice_id: str | None = None
    group_id: str | None = None
    group_expense_id: str | None = None
    import_fingerprint: str | None = None  # set on CSV-imported rows: a re-import is recognised
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "transactions"
        # Few indexes on purpose: every query starts with user_id, and one person's transactions are few enough
        # to filter and sort within that prefix; each extra index slows every write (and imports) down.
        indexes = [
            IndexModel([("user_id", ASCENDING), ("occurred_date", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("user_id", ASCENDING), ("invoice_id", ASCENDING)], unique=True,
                       partialFilterExpression=_present("invoice_id"), name="one_income_per_invoice"),
            IndexModel([("user_id", ASCENDING), ("import_fingerprint", ASCENDING)], unique=True,
                       partialFilterExpression=_present("import_fingerprint"), name="one_row_per_fingerprint"),
        ]


class Category(Document):
    user_id: str
    kind: TransactionType
    name: str
    name_key: str  # casefolded, whitespace-collapsed name: names are unique per user and kind
    default_key: str | None = None  # the default it was seeded as ("freelance"), kept across renames
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    last_used_at: datetime | None = None

    class Settings:
        name = "categories"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("kind", ASCENDING), ("name_key", ASCENDING)], unique=True,
                       name="one_name_per_user_and_kind"),
        ]


class Profile(Document):
    """This service's copy of what it needs from a user's profile, fed by user events."""

    user_id: str
    default_currency: str | None = None
    timezone: str | None = None
    profile_as_of: datetime | None = None  # occurred_at of the event it was built from: older events lose
    categories_seeded: bool = False  # the default categories were created once; deleted ones stay deleted
    updated_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "profiles"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True, name="one_profile_per_user")]


class IdempotencyRecord(Document):
    """The first response to a create carrying an Idempotency-Key; a retry gets it back."""

    user_id: str
    key: str
    request_hash: str
    transaction_id: str
    response: dict[str, Any]
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime

    class Settings:
        name = "idempotency_keys"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("key", ASCENDING)], unique=True, name="one_record_per_key"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
        ]


MODELS = [Transaction, Category, Profile, IdempotencyRecord]
