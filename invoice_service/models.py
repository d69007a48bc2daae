"""Beanie documents of invoice_service. Money fields are Decimal128 (beanie.DecimalAnnotation)."""

from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Literal

from beanie import DecimalAnnotation, Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from invoice_service.numbering import DEFAULT_PATTERN


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


OPEN_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)  # sent and still owing money


class Client(Document):
    user_id: str
    name: str
    email: str | None = None
    address: str = ""
    tax_id: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "clients"
        indexes = [IndexModel([("user_id", ASCENDING), ("name", ASCENDING)])]


class BusinessProfile(Document):
    """The sender: one per user, printed on every invoice."""

    user_id: str
    name: str = ""
    email: str | None = None
    address: str = ""
    tax_id: str = ""
    payment_details: str = ""  # bank account / IBAN / payment link, printed on the invoice
    number_pattern: str = DEFAULT_PATTERN
    default_payment_terms_days: int = 30
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "business_profiles"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True)]


class Party(BaseModel):
    """A client or the sender as they stood when the invoice was sent."""

    name: str
    email: str | None = None
    address: str = ""
    tax_id: str = ""
    payment_details: str = ""  # the sender's only


class Discount(BaseModel):
    kind: Literal["percent", "amount"]
    value: DecimalAnnotation


class Line(BaseModel):
    description: str
    quantity: DecimalAnnotation
    unit_price: DecimalAnnotation
    tax_rate: DecimalAnnotation  # percent
    discount: Discount | None = None
    # Computed by totals.compute_totals:
    net: DecimalAnnotation
    discount_share: DecimalAnnotation
    taxable: DecimalAnnotation


class TaxLine(BaseModel):
    rate: DecimalAnnotation
    base: DecimalAnnotation
    tax: DecimalAnnotation


class Payment(BaseModel):
    id: str
    amount: DecimalAnnotation
    paid_date: date
    method: str
    reference: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Invoice(Document):
    user_id: str
    number: str
    year: int  # the numbering year: the issue date's year when it was created
    client_id: str
    client: Party | None = None  # snapshot taken when sent
    sender: Party | None = None  # snapshot taken when sent
    status: InvoiceStatus = InvoiceStatus.DRAFT
    issue_date: date
    due_date: date
    payment_terms_days: int | None = None
    currency: str
    lines: list[Line]
    discount: Discount | None = None
    notes: str = ""
    terms: str = ""
    subtotal: DecimalAnnotation
    discount_total: DecimalAnnotation
    tax_lines: list[TaxLine]
    tax_total: DecimalAnnotation
    total: DecimalAnnotation
    amount_paid: DecimalAnnotation
    balance_due: DecimalAnnotation
    payments: list[Payment] = []
    sent_at: datetime | None = None
    paid_date: date | None = None
    voided_at: datetime | None = None
    overdue_notified_at: datetime | None = None
    revision: int = 0  # bumped on every write; writes are conditional on it
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "invoices"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("number", ASCENDING)], unique=True),
            IndexModel([("user_id", ASCENDING), ("issue_date", DESCENDING), ("number", DESCENDING)]),
            IndexModel([("user_id", ASCENDING), ("client_id", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("due_date", ASCENDING), ("overdue_notified_at", ASCENDING)]),
        ]


class InvoiceCounter(Document):
    """The last number used per (user, year); _id is "<user_id>:<year>". Incremented in the invoice's
    own transaction, so an aborted creation gives its number back."""

    id: str  # type: ignore[assignment]
    user_id: str
    year: int
    seq: int = 0

    class Settings:
        name = "invoice_counters"
        indexes = [IndexModel([("user_id", ASCENDING)])]


MODELS = [Client, BusinessProfile, Invoice, InvoiceCounter]
