"""Money rules: exact decimals, the currency's minor unit, no floats."""

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from shared.money import Currency, PositiveAmount, fits_currency, round_money


class Priced(BaseModel):
    amount: PositiveAmount
    currency: Currency


@pytest.mark.parametrize(("amount", "currency", "fits"), [
    ("12.50", "EUR", True), ("12.500", "EUR", True), ("12.345", "EUR", False), ("100", "JPY", True),
    ("100.5", "JPY", False), ("1.234", "KWD", True), ("1E+3", "EUR", True),
    ("10.0000000000000000000000000000001", "EUR", False),
])
def test_an_amount_fits_its_currency_only_with_at_most_its_minor_digits(amount, currency, fits):
    assert fits_currency(Decimal(amount), currency) is fits


def test_rounding_is_half_up_to_the_minor_unit():
    assert round_money(Decimal("2.345"), "EUR") == Decimal("2.35")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")


def test_floats_unknown_currencies_and_non_positive_amounts_are_refused():
    assert Priced(amount="12.50", currency="eur").model_dump(mode="json") == {"amount": "12.50", "currency": "EUR"}
    for bad in ({"amount": 12.5, "currency": "EUR"}, {"amount": "1", "currency": "XXX"},
                {"amount": "0", "currency": "EUR"}, {"amount": "NaN", "currency": "EUR"},
                {"amount": "1", "currency": ["EUR"]}, {"amount": "1", "currency": {"code": "EUR"}}):
        with pytest.raises(ValidationError):
            Priced(**bad)


def test_clients_cannot_send_huge_amounts_but_server_totals_beyond_a_trillion_serialise():
    with pytest.raises(ValidationError):
        Priced(amount="1e13", currency="EUR")
    with pytest.raises(ValidationError):
        Priced(amount="1e999999", currency="EUR")
    total = Priced(amount=Decimal("3000000000000.00"), currency="VND")  # years of spending in dong
    assert total.model_dump(mode="json")["amount"] == "3000000000000.00"
