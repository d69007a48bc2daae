"""Invoice arithmetic in one place: pure functions, Decimal only, the platform's rounding.
The rule below is the contract; the API docs quote it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shared.money import round_money

DiscountKind = Literal["percent", "amount"]
HUNDRED = Decimal(100)

TOTALS_RULE = """\
Rounding is shared.money.round_money (half up to the currency's minor unit), applied at these points only:

1. line gross = quantity * unit price (exact); line discount = gross * percent / 100 (kind "percent") or a
   fixed amount in the invoice currency (kind "amount"); **line net = round(gross - line discount)**, rounded
   per line.
2. **subtotal** = sum of line nets.
3. **invoice discount** = round(subtotal * percent / 100) (kind "percent") or the amount (kind "amount"), at
   most the subtotal. It is allocated to the lines before tax, pro rata to their net: share =
   round(discount * net / subtotal); the rounding residue (a few minor units at most) goes to the line with
   the largest net (the first on a tie), so the shares add up to the discount exactly.
4. taxable base of a line = net - share; **tax per rate** = round(sum of the bases at that rate * rate / 100),
   rounded per rate, not per line.
5. **total** = sum of taxable bases + sum of tax per rate (= subtotal - invoice discount + tax).
6. **balance due** = total - amount paid.
"""


class TotalsError(ValueError):
    """An amount the arithmetic refuses, naming the request field it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class DiscountInput:
    kind: DiscountKind
    value: Decimal


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount: DiscountInput | None = None


@dataclass(frozen=True)
class LineTotals:
    net: Decimal  # after the line's own discount, rounded
    discount_share: Decimal  # this line's part of the invoice-level discount
    taxable: Decimal  # net - share: the base its tax rate applies to


@dataclass(frozen=True)
class TaxTotal:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    lines: list[LineTotals]
    subtotal: Decimal
    discount_total: Decimal
    tax_lines: list[TaxTotal]
    tax_total: Decimal
    total: Decimal


def line_net(line: LineInput, currency: str, *, field: str = "lines") -> Decimal:
    gross = line.quantity * line.unit_price
    if line.discount is None:
        return round_money(gross, currency)
    if line.discount.kind == "percent":
        reduction = gross * line.discount.value / HUNDRED
    else:
        reduction = line.discount.value
        if reduction > gross:
            raise TotalsError(f"{field}.discount.value", "the discount exceeds the line amount")
    return round_money(gross - reduction, currency)


def invoice_discount(subtotal: Decimal, discount: DiscountInput | None, currency: str) -> Decimal:
    if discount is None:
        return round_money(Decimal(0), currency)
    if discount.kind == "percent":
        return round_money(subtotal * discount.value / HUNDRED, currency)
    if discount.value > subtotal:
        raise TotalsError("discount.value", "the discount exceeds the subtotal")
    return round_money(discount.value, currency)


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split amount pro rata to weights, each share rounded, the residue on the largest weight."""
    zero = round_money(Decimal(0), currency)
    total_weight = sum(weights, Decimal(0))
    if not weights or total_weight == 0:
        return [zero for _ in weights]
    shares = [round_money(amount * w / total_weight, currency) for w in weights]
    residue = amount - sum(shares, Decimal(0))
    if residue:
        largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
        shares[largest] += residue
    return shares


def compute_totals(lines: Sequence[LineInput], discount: DiscountInput | None, currency: str) -> Totals:
    nets = [line_net(line, currency, field=f"lines.{i}") for i, line in enumerate(lines)]
    subtotal = sum(nets, round_money(Decimal(0), currency))
    discount_total = invoice_discount(subtotal, discount, currency)
    shares = allocate(discount_total, nets, currency)
    line_totals = [LineTotals(net=n, discount_share=s, taxable=n - s) for n, s in zip(nets, shares, strict=True)]

    bases: dict[Decimal, Decimal] = {}
    for line, totals in zip(lines, line_totals, strict=True):
        rate = line.tax_rate.normalize()  # "20", "20.0" and "20.00" are one rate
        bases[rate] = bases.get(rate, Decimal(0)) + totals.taxable
    tax_lines = [TaxTotal(rate=rate, base=base, tax=round_money(base * rate / HUNDRED, currency))
                 for rate, base in sorted(bases.items(), key=lambda item: item[0], reverse=True)]
    tax_total = sum((t.tax for t in tax_lines), round_money(Decimal(0), currency))
    taxable_total = sum((t.taxable for t in line_totals), round_money(Decimal(0), currency))
    return Totals(lines=line_totals, subtotal=subtotal, discount_total=discount_total, tax_lines=tax_lines,
                  tax_total=tax_total, total=taxable_total + tax_total)
