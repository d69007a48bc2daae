"""API contracts of user_service: registration, tokens, password reset, the profile."""

import zoneinfo
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field, StringConstraints, field_validator

from shared.money import Currency, DecimalStr
from shared.schemas import PublicModel, StrictModel, refuse_null
from user_service.passwords import NewPassword, PasswordInput

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_TOKEN_LENGTH = 256


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("must be an IANA time zone name, such as Europe/Berlin or UTC")
    return value




def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_check_timezone)]
Name = Annotated[str, StringConstraints(max_length=100)]
Email = Annotated[EmailStr, StringConstraints(max_length=MAX_EMAIL_LENGTH)]
LoginEmail = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EMAIL_LENGTH)]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_LENGTH)]
MonthlyIncome = Annotated[DecimalStr, AfterValidator(_not_negative)]


class RegisterRequest(StrictModel):
    email: Email
    password: NewPassword
    name: Name = ""
    default_currency: Currency = "EUR"
    timezone: Timezone = "UTC"


class LoginRequest(StrictModel):
    email: LoginEmail
    password: PasswordInput


class TokenPair(PublicModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str


class RefreshRequest(StrictModel):
    refresh_token: OpaqueToken


class ForgotPasswordRequest(StrictModel):
    email: Email


class ForgotPasswordAccepted(PublicModel):
    detail: str = "if an account exists for this email, a reset link is on its way"


class ResetPasswordRequest(StrictModel):
    token: OpaqueToken
    new_password: NewPassword


class ChangePasswordRequest(StrictModel):
    current_password: PasswordInput
    new_password: NewPassword


class DeleteAccountRequest(StrictModel):
    current_password: PasswordInput


class ProfileUpdate(StrictModel):
    """Only the fields sent change. monthly_income: null clears it; its currency is default_currency."""

    name: Name | None = None
    default_currency: Currency | None = None
    timezone: Timezone | None = None
    monthly_income: MonthlyIncome | None = None

    _no_null = field_validator("name", "default_currency", "timezone", mode="before")(refuse_null)


class UserPublic(PublicModel):
    id: str
    email: str
    name: str
    default_currency: str
    timezone: str
    monthly_income: DecimalStr | None = Field(
        default=None, description="expected monthly income, a decimal string in default_currency")
    created_at: datetime
    updated_at: datetime
