"""API contracts of /api/expenses and /api/categories."""

from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from expense_service.models import TransactionType
from shared.money import Currency, DecimalStr, PositiveAmount, round_money
from shared.schemas import Page, StrictModel, refuse_null

DESCRIPTION_MAX = 500
NOTES_MAX = 2000
PAYMENT_METHOD_MAX = 50
CATEGORY_NAME_MAX = 64
TAG_MAX = 40
TAGS_MAX = 20
SEARCH_MAX = 100
CATEGORY_FILTER_MAX = 20
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)
FINEST_MINOR_UNIT = Decimal("0.0001")





# Tags are lower-cased labels; no commas, so a CSV cell can hold a comma-separated list of them.
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=TAG_MAX,
                                       pattern=r"^[^,\x00-\x1f\x7f]+$")]
CategoryRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CATEGORY_NAME_MAX)]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CATEGORY_NAME_MAX,
                                                pattern=r"^[^\x00-\x1f\x7f]+$")]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]
Notes = Annotated[str, Field(max_length=NOTES_MAX)]
PaymentMethod = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=PAYMENT_METHOD_MAX)]
OccurredDate = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]
TagList = Annotated[list[Tag], Field(max_length=TAGS_MAX)]


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(tags)) if tags is not None else None


class TransactionCreate(StrictModel):
    type: TransactionType
    amount: PositiveAmount
    currency: Currency | None = Field(None, description="ISO 4217; default: the user's default currency")
    category: CategoryRef | None = Field(None, description="a category id or name of the user's (any case); "
                                                           "default: 'other' of the transaction's type")
    description: Description = ""
    occurred_date: OccurredDate | None = Field(None, description="default: today in the user's timezone")
    payment_method: PaymentMethod | None = None
    tags: TagList = Field(default_factory=list)
    notes: Notes = ""

    _dedupe_tags = field_validator("tags")(_unique_tags)


class TransactionUpdate(StrictModel):
    """PATCH: only the fields sent change; payment_method may be set to null to clear it."""

    type: TransactionType | None = None
    amount: PositiveAmount | None = None
    currency: Currency | None = None
    category: CategoryRef | None = None
    description: Description | None = None
    occurred_date: OccurredDate | None = None
    payment_method: PaymentMethod | None = None
    tags: TagList | None = None
    notes: Notes | None = None

    _dedupe_tags = field_validator("tags")(_unique_tags)

    _no_null = field_validator("type", "amount", "currency", "category", "description", "occurred_date", "tags",
                               "notes", mode="before")(refuse_null)


class TransactionPublic(BaseModel):
    id: str
    type: TransactionType
    amount: DecimalStr
    currency: str
    category_id: str
    category: str
    description: str
    occurred_date: date
    payment_method: str | None
    tags: list[str]
    notes: str
    invoice_id: str | None = None
    group_id: str | None = None
    group_expense_id: str | None = None
    created_at: datetime
    updated_at: datetime


class CurrencyTotals(BaseModel):
    currency: str
    income: DecimalStr
    expense: DecimalStr
    net: DecimalStr  # income - expense
    count: int


class TransactionPage(Page[TransactionPublic]):
    totals: list[CurrencyTotals] = Field(description="over the whole filtered set, not just this page")


class TransactionFilters(BaseModel):
    """Typed list filters (query parameters); also used by the CSV export."""

    model_config = ConfigDict(extra="ignore")

    type: TransactionType | None = None
    category: Annotated[list[CategoryRef], Field(max_length=CATEGORY_FILTER_MAX)] = Field(
        default_factory=list, description="category ids or names; repeat for any of several")
    currency: Currency | None = None
    date_from: date | None = Field(None, description="inclusive")
    date_to: date | None = Field(None, description="inclusive")
    amount_min: DecimalStr | None = Field(None, description="inclusive")
    amount_max: DecimalStr | None = Field(None, description="inclusive")
    tag: Tag | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SEARCH_MAX)] | None = Field(
        None, description="text in the description, case-insensitive (literal, not a pattern)")
    sort: Literal["date", "amount", "created"] = "date"
    order: Literal["asc", "desc"] = "desc"

    @field_validator("amount_min", "amount_max")
    @classmethod
    def _at_finest_minor_unit(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """Amounts have at most 4 decimals (CLF), so rounding an inclusive bound outward to 4 decimals selects
        the same transactions — and keeps it representable as a Decimal128."""
        if value is None:
            return None
        rounding = ROUND_CEILING if info.field_name == "amount_min" else ROUND_FLOOR
        return value.quantize(FINEST_MINOR_UNIT, rounding=rounding)


class CategoryCreate(StrictModel):
    kind: TransactionType
    name: CategoryName


class CategoryUpdate(StrictModel):
    name: CategoryName


class CategoryPublic(BaseModel):
    id: str
    kind: TransactionType
    name: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


class CategoryPage(Page[CategoryPublic]):
    pass


class ImportReport(BaseModel):
    dry_run: bool
    rows: int = Field(description="data rows in the file")
    imported: int = Field(description="rows imported (in a dry run: rows that would be imported)")
    duplicates: int = Field(description="rows already imported before (same fingerprint or same id): skipped")
    totals: list[CurrencyTotals] = Field(description="of the rows imported (or that would be)")


def totals_from_sums(sums: dict[tuple[str, str], tuple[Decimal, int]]) -> list[CurrencyTotals]:
    """{(currency, type): (sum, count)} → one CurrencyTotals per currency, sorted by currency, at its minor unit."""
    out = []
    for currency in sorted({c for c, _ in sums}):
        income, n_in = sums.get((currency, "income"), (Decimal(0), 0))
        expense, n_ex = sums.get((currency, "expense"), (Decimal(0), 0))
        out.append(CurrencyTotals(currency=currency, income=round_money(income, currency),
                                  expense=round_money(expense, currency),
                                  net=round_money(income - expense, currency), count=n_in + n_ex))
    return out
