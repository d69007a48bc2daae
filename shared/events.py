"""Every event contract of the platform, defined once.

An event class is the `data` of an envelope. Its routing key is explicit (never derived from the class
name), names are past tense, and changes are additive: new optional fields only, or a new version.
"""

import uuid
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import DecimalStr


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # ignore: consumers tolerate additive changes
    ROUTING_KEY: ClassVar[str]
    VERSION: ClassVar[int] = 1
    # Fields redacted from the producer's outbox copy once the broker has confirmed the event.
    SENSITIVE_FIELDS: ClassVar[tuple[str, ...]] = ()


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    producer: str
    user_id: str | None = None
    correlation_id: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, *, producer: str, user_id: str | None,
             correlation_id: str | None = None) -> "Envelope":
        return cls(type=event.ROUTING_KEY, version=event.VERSION, producer=producer, user_id=user_id,
                   correlation_id=correlation_id, data=event.model_dump(mode="json"))


# --- user_service ---------------------------------------------------------------------------------

class UserRegistered(Event):
    ROUTING_KEY = "user.registered"
    user_id: str
    email: str
    name: str = ""
    default_currency: str = "EUR"
    timezone: str = "UTC"


class UserProfileUpdated(Event):
    """Additive to the catalogue: services that keep a copy of a user's profile (email, default currency,
    timezone) follow it."""

    ROUTING_KEY = "user.profile_updated"
    user_id: str
    email: str
    name: str = ""
    default_currency: str = "EUR"
    timezone: str = "UTC"
    monthly_income: DecimalStr | None = None


class PasswordResetRequested(Event):
    ROUTING_KEY = "user.password_reset_requested"
    SENSITIVE_FIELDS = ("reset_token",)
    user_id: str
    email: str
    name: str = ""
    reset_token: str  # the only place the raw token exists; the user store keeps its hash
    expires_at: datetime


class UserDeleted(Event):
    ROUTING_KEY = "user.deleted"
    user_id: str


# --- expense_service ------------------------------------------------------------------------------

class TransactionSnapshot(BaseModel):
    """A transaction as it stood at the moment of the event."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    user_id: str
    type: Literal["expense", "income"]
    amount: DecimalStr
    currency: str
    category_id: str | None = None
    category_name: str = ""
    occurred_date: date
    description: str = ""
    payment_method: str | None = None
    tags: list[str] = []
    group_id: str | None = None  # set when it is a member's share of a group expense
    group_expense_id: str | None = None
    invoice_id: str | None = None  # set when it records a paid invoice
    timezone: str = "UTC"  # the owner's IANA timezone at the time (analytics buckets by it)
    created_at: datetime | None = None
    # Orders events of one transaction exactly, whatever the producers' clocks: +1 on every change.
    revision: int | None = None
    updated_at: datetime | None = None


class ExpenseCreated(Event):
    ROUTING_KEY = "expense.created"
    expense: TransactionSnapshot


class ExpenseUpdated(Event):
    ROUTING_KEY = "expense.updated"
    before: TransactionSnapshot
    after: TransactionSnapshot


class ExpenseDeleted(Event):
    ROUTING_KEY = "expense.deleted"
    expense: TransactionSnapshot


class GroupShare(BaseModel):
    model_config = ConfigDict(frozen=True)
    user_id: str
    share: DecimalStr


class GroupExpenseAdded(Event):
    ROUTING_KEY = "group.expense_added"
    group_id: str
    group_name: str
    group_expense_id: str
    description: str
    amount: DecimalStr
    currency: str
    payer_id: str
    added_by: str
    occurred_date: date
    shares: list[GroupShare]


# --- budget_service -------------------------------------------------------------------------------

class _BudgetThreshold(Event):
    budget_id: str
    budget_name: str
    category_id: str | None = None
    category_name: str | None = None
    period_start: date
    period_end: date
    threshold_percent: int
    limit_amount: DecimalStr
    spent: DecimalStr
    currency: str


class BudgetThreshold80(_BudgetThreshold):
    ROUTING_KEY = "budget.threshold_80"


class BudgetExceeded(_BudgetThreshold):
    ROUTING_KEY = "budget.exceeded"


# --- invoice_service ------------------------------------------------------------------------------

class _InvoiceEvent(Event):
    invoice_id: str
    number: str
    client_id: str
    client_name: str
    client_email: str | None = None
    currency: str
    total: DecimalStr
    balance_due: DecimalStr
    issue_date: date
    due_date: date


class InvoiceSent(_InvoiceEvent):
    ROUTING_KEY = "invoice.sent"
    sender_name: str = ""
    pdf_base64: str | None = None  # the rendered PDF, so the email can attach it without a callback


class InvoicePaid(_InvoiceEvent):
    ROUTING_KEY = "invoice.paid"
    paid_date: date


class InvoiceOverdue(_InvoiceEvent):
    ROUTING_KEY = "invoice.overdue"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.ROUTING_KEY: cls
    for cls in (
        UserRegistered, UserProfileUpdated, PasswordResetRequested, UserDeleted,
        ExpenseCreated, ExpenseUpdated, ExpenseDeleted, GroupExpenseAdded,
        BudgetThreshold80, BudgetExceeded,
        InvoiceSent, InvoicePaid, InvoiceOverdue,
    )
}
