"""Pure money arithmetic of shared expenses: splitting an amount into shares, and settling balances.

Splitting works in the currency's minor units with exact fractions, so the shares always add up to the amount:
each participant gets the floor of their exact quota, and the leftover minor units (fewer than the number of
participants) go one each to the largest remainders — ties broken by the order the participants are listed
(largest remainder / Hamilton method). Settling matches the largest creditor with the largest debtor until
everyone is square: at most n - 1 transfers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

SplitMode = Literal["equal", "exact", "percent", "shares"]
SPLIT_MODES: tuple[SplitMode, ...] = ("equal", "exact", "percent", "shares")
HUNDRED = Decimal(100)
WEIGHT_DIGITS = 6  # decimal places of a percentage or a weight


class SplitError(ValueError):
    """A split that cannot be made; `field` names the offending input (participants.1.value, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Transfer:
    from_user: str
    to_user: str
    amount: Decimal


def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def _fits(value: Decimal, digits: int) -> bool:
    """At most `digits` decimal places once trailing zeros go (exactly: no context rounding as normalize() has)."""
    _, coefficient, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return False
    if value == 0:
        return True
    while exponent < 0 and coefficient[-1] == 0:
        coefficient, exponent = coefficient[:-1], exponent + 1
    return -exponent <= digits


def largest_remainder(units: int, weights: Sequence[Fraction]) -> list[int]:
    """Split `units` (an integer ≥ 0) in proportion to non-negative weights (not all zero): the integer parts
    sum exactly to `units`; the leftover goes to the largest fractional remainders, earlier index first on ties."""
    total = sum(weights, Fraction(0))
    if units < 0 or total <= 0 or any(w < 0 for w in weights):
        raise ValueError("units must be ≥ 0 and weights non-negative with a positive sum")
    quotas = [units * w / total for w in weights]
    floors = [q.numerator // q.denominator for q in quotas]
    leftover = units - sum(floors)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in by_remainder[:leftover]:
        floors[i] += 1
    return floors


def split_amount(amount: Decimal, digits: int, mode: SplitMode,
                 participants: Sequence[tuple[str, Decimal | None]]) -> list[Decimal]:
    """The share of each participant, in order, at the currency's minor unit (`digits`), summing exactly to
    `amount`. `participants` are (user_id, value): value is None for an equal split, else the exact amount, the
    percentage or the weight. Raises SplitError naming the offending input."""
    if not participants:
        raise SplitError("participants", "at least one participant is needed")
    if amount <= 0 or not _fits(amount, digits):
        raise SplitError("amount", f"must be positive with at most {digits} decimal places")
    seen: set[str] = set()
    for i, (user_id, _) in enumerate(participants):
        if user_id in seen:
            raise SplitError(f"participants.{i}.user_id", "is listed twice")
        seen.add(user_id)
    values = [value for _, value in participants]
    if mode == "equal":
        for i, value in enumerate(values):
            if value is not None:
                raise SplitError(f"participants.{i}.value", "an equal split takes no values")
        weights = [Fraction(1)] * len(values)
    else:
        checked = _checked_values(values, mode, digits)
        if mode == "exact":
            total = sum(checked, Decimal(0))
            if total != amount:
                raise SplitError("participants", f"the exact amounts add up to {total}, not {amount}")
            return [value.quantize(_quantum(digits)) for value in checked]
        if mode == "percent" and sum(checked, Decimal(0)) != HUNDRED:
            raise SplitError("participants", f"the percentages add up to {sum(checked, Decimal(0))}, not 100")
        if mode == "shares" and sum(checked, Decimal(0)) <= 0:
            raise SplitError("participants", "at least one share must be positive")
        weights = [Fraction(value) for value in checked]
    units = int(amount.scaleb(digits))
    return [Decimal(n).scaleb(-digits).quantize(_quantum(digits)) for n in largest_remainder(units, weights)]


def _checked_values(values: Sequence[Decimal | None], mode: SplitMode, digits: int) -> list[Decimal]:
    what = {"exact": "an amount", "percent": "a percentage", "shares": "a share (weight)"}[mode]
    checked = []
    for i, value in enumerate(values):
        field = f"participants.{i}.value"
        if value is None:
            raise SplitError(field, f"required: {what} for each participant")
        if not value.is_finite() or value < 0:
            raise SplitError(field, "must be a number ≥ 0")
        if mode == "exact" and not _fits(value, digits):
            raise SplitError(field, f"has more than {digits} decimal places")
        if not _fits(value, WEIGHT_DIGITS):  # also keeps every stored value exact in a Decimal128
            raise SplitError(field, f"has more than {WEIGHT_DIGITS} decimal places")
        if mode == "percent" and value > HUNDRED:
            raise SplitError(field, "must be at most 100")
        checked.append(value)
    return checked


def settle_up(balances: Mapping[str, Decimal]) -> list[Transfer]:
    """Transfers that bring every balance (positive: is owed, negative: owes; summing to zero) to zero.
    Greedy: the largest debtor pays the largest creditor as much as one of them needs; ties by user id.
    Each transfer squares at least one person, so n people need at most n - 1 transfers."""
    if sum(balances.values(), Decimal(0)) != 0:
        raise ValueError("balances must sum to zero")
    open_ = {user: amount for user, amount in balances.items() if amount != 0}
    transfers = []
    while open_:
        creditor = min((u for u in open_ if open_[u] > 0), key=lambda u: (-open_[u], u))
        debtor = min((u for u in open_ if open_[u] < 0), key=lambda u: (open_[u], u))
        amount = min(open_[creditor], -open_[debtor])
        transfers.append(Transfer(from_user=debtor, to_user=creditor, amount=amount))
        for user, change in ((creditor, -amount), (debtor, amount)):
            open_[user] += change
            if open_[user] == 0:
                del open_[user]
    return transfers

