"""API contracts of invoice_service: strict request bodies, public responses."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from invoice_service.models import InvoiceStatus
from invoice_service.numbering import DEFAULT_PATTERN, validate_pattern
from shared.money import Currency, DecimalStr, PositiveAmount
from shared.schemas import Page, PublicModel, StrictModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]
TaxId = Annotated[str, StringConstraints(max_length=64)]
PaymentTerms = Annotated[int, Field(ge=0, le=365, description="days from the issue date to the due date")]
NumberPattern = Annotated[str, AfterValidator(validate_pattern)]
PaymentMethod = Literal["bank_transfer", "card", "cash", "cheque", "paypal", "other"]





# Calendar days of invoices and payments: the years expense_service accepts too. Unbounded, a due date computed
# from 9999-12-31 plus the payment terms overflowed date arithmetic (a 500).
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)
InvoiceDate = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]


def _max_decimals(places: int) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValueError(f"may have at most {places} decimal places")
        return value
    return AfterValidator(check)


def _at_least(minimum: Decimal, *, inclusive: bool = True) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        if value < minimum or (not inclusive and value == minimum):
            raise ValueError(f"must be {'at least' if inclusive else 'greater than'} {minimum}")
        return value
    return AfterValidator(check)


def _at_most(maximum: Decimal) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        if value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value
    return AfterValidator(check)


Quantity = Annotated[DecimalStr, _at_least(Decimal(0), inclusive=False), _at_most(Decimal(1_000_000_000)),
                     _max_decimals(6)]
UnitPrice = Annotated[DecimalStr, _at_least(Decimal(0)), _max_decimals(6)]
TaxRate = Annotated[DecimalStr, _at_least(Decimal(0)), _at_most(Decimal(100)), _max_decimals(3)]


# --- clients and the business profile ------------------------------------------------------------

class ClientCreate(StrictModel):
    name: Name
    email: EmailStr | None = None
    address: LongText = ""
    tax_id: TaxId = ""


class ClientUpdate(StrictModel):
    name: Name | None = None
    email: EmailStr | None = None  # null clears it
    address: LongText | None = None
    tax_id: TaxId | None = None


class ClientPublic(PublicModel):
    id: str
    name: str
    email: str | None
    address: str
    tax_id: str
    created_at: datetime
    updated_at: datetime


ClientPage = Page[ClientPublic]


class ProfileUpdate(StrictModel):
    name: Name
    email: EmailStr | None = None
    address: LongText = ""
    tax_id: TaxId = ""
    payment_details: LongText = Field("", description="bank account, IBAN or payment link printed on invoices")
    number_pattern: NumberPattern = Field(DEFAULT_PATTERN, description=(
        "invoice number pattern: literal text, {year} and {seq} or {seq:0Nd}, e.g. INV-{year}-{seq:04d}"))
    default_payment_terms_days: PaymentTerms = 30


class ProfilePublic(PublicModel):
    name: str
    email: str | None
    address: str
    tax_id: str
    payment_details: str
    number_pattern: str
    default_payment_terms_days: int
    updated_at: datetime | None = None


# --- invoices ----------------------------------------------------------------------------------------

def _due_date_or_terms(value: int | None, info: ValidationInfo) -> int | None:
    if value is not None and info.data.get("due_date") is not None:
        raise ValueError("give either due_date or payment_terms_days, not both")
    return value


class DiscountIn(StrictModel):
    """`percent`: value is a percentage 0-100 of the amount; `amount`: value is money in the invoice currency."""

    kind: Literal["percent", "amount"]
    value: Annotated[DecimalStr, _at_least(Decimal(0))]

    @field_validator("value")
    @classmethod
    def _percent_at_most_100(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if info.data.get("kind") == "percent" and value > 100:
            raise ValueError("a percent discount must be at most 100")
        return value


class LineIn(StrictModel):
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    quantity: Quantity
    unit_price: UnitPrice
    tax_rate: TaxRate = Field(Decimal(0), description="percent, e.g. \"20\" for 20 %")
    discount: DiscountIn | None = None


class InvoiceCreate(StrictModel):
    client_id: str
    issue_date: InvoiceDate | None = Field(None, description="defaults to today (UTC)")
    due_date: InvoiceDate | None = Field(None, description="give due_date or payment_terms_days, not both")
    payment_terms_days: PaymentTerms | None = Field(None, description="defaults to the business profile's terms")
    currency: Currency
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    discount: DiscountIn | None = Field(None, description="invoice-level discount, allocated before tax")
    notes: LongText = ""
    terms: LongText = ""

    _not_both = field_validator("payment_terms_days")(_due_date_or_terms)


class InvoiceUpdate(StrictModel):
    """A draft's changes; `lines` replaces every line."""

    client_id: str | None = None
    issue_date: InvoiceDate | None = None
    due_date: InvoiceDate | None = None
    payment_terms_days: PaymentTerms | None = None
    currency: Currency | None = None
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=200)
    discount: DiscountIn | None = None  # null removes it
    notes: LongText | None = None
    terms: LongText | None = None

    _not_both = field_validator("payment_terms_days")(_due_date_or_terms)


class PaymentCreate(StrictModel):
    amount: PositiveAmount
    currency: Currency | None = Field(None, description="optional; must be the invoice's currency")
    paid_date: InvoiceDate | None = Field(None, description="defaults to today (UTC)")
    method: PaymentMethod = "bank_transfer"
    reference: ShortText = ""


class PartyPublic(PublicModel):
    name: str
    email: str | None = None
    address: str = ""
    tax_id: str = ""
    payment_details: str = ""


class DiscountPublic(PublicModel):
    kind: Literal["percent", "amount"]
    value: DecimalStr


class LinePublic(PublicModel):
    description: str
    quantity: DecimalStr
    unit_price: DecimalStr
    tax_rate: DecimalStr
    discount: DiscountPublic | None
    net: DecimalStr = Field(description="quantity * unit price - line discount, rounded")
    discount_share: DecimalStr = Field(description="this line's part of the invoice discount")
    taxable: DecimalStr = Field(description="net - discount share: the base the tax rate applies to")


class TaxLinePublic(PublicModel):
    rate: DecimalStr
    base: DecimalStr
    tax: DecimalStr


class PaymentPublic(PublicModel):
    id: str
    amount: DecimalStr
    currency: str
    paid_date: date
    method: str
    reference: str
    created_at: datetime


class InvoicePublic(PublicModel):
    id: str
    number: str
    status: InvoiceStatus
    is_overdue: bool = Field(description="sent, past its due date (UTC) and not fully paid")
    client_id: str
    client: PartyPublic | None = Field(description="as sent; for a draft, the client as it is now")
    sender: PartyPublic | None = Field(description="as sent; for a draft, the business profile as it is now")
    issue_date: date
    due_date: date
    payment_terms_days: int | None
    currency: str
    lines: list[LinePublic]
    discount: DiscountPublic | None
    notes: str
    terms: str
    subtotal: DecimalStr
    discount_total: DecimalStr
    tax_lines: list[TaxLinePublic]
    tax_total: DecimalStr
    total: DecimalStr
    amount_paid: DecimalStr
    balance_due: DecimalStr
    payments: list[PaymentPublic]
    sent_at: datetime | None
    paid_date: date | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime


InvoicePage = Page[InvoicePublic]


class PaymentResult(PublicModel):
    payment: PaymentPublic
    invoice: InvoicePublic
