"""Money: Decimal in Python, Decimal128 in MongoDB, a decimal string in JSON, always beside an ISO 4217 code."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

# ISO 4217 active codes with their minor-unit digits (2 unless listed in the other tables).
_ZERO_DIGIT = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
               "VUV", "XAF", "XOF", "XPF"}
_THREE_DIGIT = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_FOUR_DIGIT = {"CLF", "UYW"}
_TWO_DIGIT = set("""AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK
MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS
VED VES WST XCD XCG YER ZAR ZMW ZWG""".split())

CURRENCY_DIGITS: dict[str, int] = {
    **{c: 2 for c in _TWO_DIGIT}, **{c: 0 for c in _ZERO_DIGIT},
    **{c: 3 for c in _THREE_DIGIT}, **{c: 4 for c in _FOUR_DIGIT},
}
MAX_AMOUNT = Decimal("1000000000000")  # a trillion: beyond any household or freelancer


def minor_digits(currency: str) -> int:
    return CURRENCY_DIGITS[currency]


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit: the documented rounding rule of the platform."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True when the amount has no more decimals than the currency's minor unit allows (exactly: no rounding
    by the decimal context, so "10.0000000000000000000000000000001" does not pass as 10.00)."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        return False
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return -(exponent + trailing_zeros) <= minor_digits(currency)


def _check_currency(value: object) -> str:
    if not isinstance(value, str):  # a JSON array or object must be a 422, not a TypeError from the lookup
        raise ValueError("must be an ISO 4217 currency code, such as EUR or USD")
    code = value.strip().upper()
    if code not in CURRENCY_DIGITS:
        raise ValueError("must be an ISO 4217 currency code, such as EUR or USD")
    return code


def _to_decimal(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("must be a decimal string such as \"12.50\", not a binary float")
    if isinstance(value, (str, int)):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("must be a decimal number such as \"12.50\"") from None
        # The bound applies to what clients send; totals the server computes may legitimately exceed it.
        if parsed.is_finite() and abs(parsed) > MAX_AMOUNT:
            raise ValueError("is too large")
        return parsed
    if hasattr(value, "to_decimal"):  # bson Decimal128
        return value.to_decimal()
    return value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _as_str(value: Decimal) -> str:
    return format(value, "f")


Currency = Annotated[str, BeforeValidator(_check_currency)]
# A decimal in JSON as a string ("12.50"); floats are refused so no binary rounding sneaks in.
DecimalStr = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_finite),
                       PlainSerializer(_as_str, return_type=str, when_used="json")]
PositiveAmount = Annotated[DecimalStr, AfterValidator(_positive)]
