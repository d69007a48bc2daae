"""Beanie documents of the expense service: transactions, categories, profile copies,
and shared expenses (groups, their expenses and settlements)."""

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Literal

from beanie import DecimalAnnotation, Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from expense_service.split import SplitMode

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
    revision: int = 1  # +1 on every change (the delete event carries the next one): consumers order by it
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
    name: str | None = None  # display name, shown to the people a user shares groups with
    default_currency: str | None = None
    timezone: str | None = None
    profile_as_of: datetime | None = None  # occurred_at of the event it was built from: older events lose
    categories_seeded: bool = False  # the default categories were created once; deleted ones stay deleted
    updated_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "profiles"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True, name="one_profile_per_user")]


# --- shared expenses ------------------------------------------------------------------------------

DepartureReason = Literal["left", "removed", "deleted"]


class GroupMember(BaseModel):
    user_id: str
    joined_at: datetime


class FormerMember(BaseModel):
    user_id: str
    left_at: datetime
    reason: DepartureReason  # left on their own, removed by the owner, or their account was deleted


class GroupAccount(BaseModel):
    """The running money position of everyone who ever took part in the group's expenses or settlements.
    net = paid - owed + sent - received: positive means the group owes them."""

    user_id: str
    paid: DecimalAnnotation = Decimal(0)  # group expenses they paid for
    owed: DecimalAnnotation = Decimal(0)  # their shares of group expenses
    sent: DecimalAnnotation = Decimal(0)  # settlements they paid
    received: DecimalAnnotation = Decimal(0)  # settlements they received

    @property
    def net(self) -> Decimal:
        return self.paid - self.owed + self.sent - self.received


class Group(Document):
    """A group sharing costs. Every change to its money or membership rewrites this document under its revision,
    so concurrent changes of one group run one after the other (a stale write retries the transaction)."""

    name: str
    currency: str
    owner_id: str
    invite_code: str | None  # None once nobody is left to invite anyone
    members: list[GroupMember] = Field(default_factory=list)
    former_members: list[FormerMember] = Field(default_factory=list)
    accounts: list[GroupAccount] = Field(default_factory=list)
    revision: int = 1
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "groups"
        indexes = [
            IndexModel([("members.user_id", ASCENDING), ("created_at", DESCENDING)], name="groups_of_member"),
            IndexModel([("invite_code", ASCENDING)], unique=True, partialFilterExpression=_present("invite_code"),
                       name="one_group_per_invite_code"),
        ]

    def member(self, user_id: str) -> GroupMember | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    def account(self, user_id: str) -> GroupAccount:
        """The user's account, opened (at zero) on first use."""
        found = next((a for a in self.accounts if a.user_id == user_id), None)
        if found is None:
            found = GroupAccount(user_id=user_id)
            self.accounts.append(found)
        return found

    def net(self, user_id: str) -> Decimal:
        found = next((a for a in self.accounts if a.user_id == user_id), None)
        return found.net if found else Decimal(0)


class ExpenseShare(BaseModel):
    user_id: str
    value: DecimalAnnotation | None = None  # as asked: the exact amount, percentage or weight; None when equal
    share: DecimalAnnotation  # what they owe, at the currency's minor unit
    transaction_id: PydanticObjectId | None = None  # their own expense transaction (none for a zero share)


class GroupExpense(Document):
    """An expense of a group: who paid, and each participant's share (fixed when recorded)."""

    group_id: PydanticObjectId
    payer_id: str
    amount: DecimalAnnotation
    currency: str
    description: str
    occurred_date: date
    category: str | None = None  # the category name asked for; each share goes in its member's own category
    split_mode: SplitMode
    shares: list[ExpenseShare]
    created_by: str
    revision: int = 1
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "group_expenses"
        indexes = [IndexModel([("group_id", ASCENDING), ("occurred_date", DESCENDING), ("_id", DESCENDING)])]


class Settlement(Document):
    """A payment between two members that squares (part of) what one owes the other."""

    group_id: PydanticObjectId
    from_user: str
    to_user: str
    amount: DecimalAnnotation
    currency: str
    recorded_by: str
    created_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "settlements"
        indexes = [IndexModel([("group_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)])]


MODELS = [Transaction, Category, Profile, Group, GroupExpense, Settlement]
