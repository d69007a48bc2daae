"""Accounts: registration, the profile, changing the password, deleting the account."""

from decimal import Decimal
from typing import Any

from beanie import UpdateResponse
from bson import Decimal128
from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict, Problem, field_problem
from shared.events import UserDeleted, UserProfileUpdated, UserRegistered
from shared.money import fits_currency
from shared.outbox import Tx
from user_service.context import UserServiceParts
from user_service.models import PasswordResetToken, RefreshFamily, RefreshToken, User, utcnow
from user_service.passwords import check_not_email
from user_service.schemas import ProfileUpdate, RegisterRequest, UserPublic
from user_service.service_tokens import find_user, normalize_email, revoke_all_refresh_tokens


def public(user: User) -> UserPublic:
    return UserPublic(id=str(user.id), email=user.email, name=user.name, default_currency=user.default_currency,
                      timezone=user.timezone, monthly_income=user.monthly_income, created_at=user.created_at,
                      updated_at=user.updated_at)


def account_gone() -> Problem:
    # A valid token whose account was deleted since: the client must sign in (or register) again.
    return Problem(401, "the account of this access token no longer exists", headers={"WWW-Authenticate": "Bearer"})


async def register(*, parts: UserServiceParts, data: RegisterRequest) -> User:
    email = normalize_email(data.email)
    check_not_email(data.password, email, field="password")
    user = User(email=email, password_hash=await parts.hasher.hash(data.password), name=data.name,
                default_currency=data.default_currency, timezone=data.timezone)

    async def insert_and_announce(tx: Tx) -> None:
        await user.insert(session=tx.session)
        await tx.publish(UserRegistered(user_id=str(user.id), email=user.email, name=user.name,
                                        default_currency=user.default_currency, timezone=user.timezone),
                         user_id=str(user.id))

    try:
        await parts.runtime.atomic(insert_and_announce)
    except DuplicateKeyError:
        raise Conflict("an account with this email already exists") from None
    return user


async def get_account(*, user_id: str) -> User:
    user = await find_user(user_id)
    if user is None:
        raise account_gone()
    return user


def _check_income_fits(income: Decimal | None, currency: str) -> None:
    if income is not None and not fits_currency(income, currency):
        raise field_problem("monthly_income", f"has more decimals than {currency} allows")


async def update_profile(*, parts: UserServiceParts, user_id: str, changes: ProfileUpdate) -> User:
    """Change only the fields sent; emit user.profile_updated with the whole resulting profile."""
    user = await get_account(user_id=user_id)
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if not values:
        return user
    currency = values.get("default_currency", user.default_currency)
    # The income is kept in the default currency: a new currency must still fit its minor unit.
    _check_income_fits(values.get("monthly_income", user.monthly_income), currency)
    if values.get("monthly_income") is not None:
        values["monthly_income"] = Decimal128(values["monthly_income"])
    values["updated_at"] = utcnow()

    async def update_and_announce(tx: Tx) -> User:
        updated = await User.find_one(User.id == user.id).update(
            {"$set": values}, session=tx.session, response_type=UpdateResponse.NEW_DOCUMENT)
        if updated is None:
            raise account_gone()
        await tx.publish(UserProfileUpdated(
            user_id=user_id, email=updated.email, name=updated.name, default_currency=updated.default_currency,
            timezone=updated.timezone, monthly_income=updated.monthly_income), user_id=user_id)
        return updated

    return await parts.runtime.atomic(update_and_announce)


async def _verify_current_password(parts: UserServiceParts, user: User, password: str) -> None:
    matches, _ = await parts.hasher.verify_and_update(password, user.password_hash)
    if not matches:
        raise field_problem("current_password", "is incorrect", status=403)


async def change_password(*, parts: UserServiceParts, user_id: str, current_password: str,
                          new_password: str) -> None:
    """Set a new password (the current one proves it is the owner) and sign out every session."""
    user = await get_account(user_id=user_id)
    await _verify_current_password(parts, user, current_password)
    check_not_email(new_password, user.email, field="new_password")
    new_hash = await parts.hasher.hash(new_password)
    now = utcnow()

    async def set_password_and_sign_out(tx: Tx) -> None:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"password_hash": new_hash, "password_changed_at": now, "updated_at": now}},
            session=tx.session)
        await revoke_all_refresh_tokens(user_id, session=tx.session)

    await parts.runtime.atomic(set_password_and_sign_out)


async def delete_account(*, parts: UserServiceParts, user_id: str, current_password: str) -> None:
    """Erase the account and its credentials; user.deleted tells every service to erase the user's data."""
    user = await get_account(user_id=user_id)
    await _verify_current_password(parts, user, current_password)

    async def erase_and_announce(tx: Tx) -> None:
        await User.get_pymongo_collection().delete_one({"_id": user.id}, session=tx.session)
        for credentials in (RefreshFamily, RefreshToken, PasswordResetToken):
            await credentials.get_pymongo_collection().delete_many({"user_id": user_id}, session=tx.session)
        await tx.publish(UserDeleted(user_id=user_id), user_id=user_id)

    await parts.runtime.atomic(erase_and_announce)
