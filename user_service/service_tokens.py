"""Sign-in: access tokens, rotating refresh tokens (families, reuse detection), single-use password resets."""

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.errors import Problem, field_problem
from shared.events import PasswordResetRequested
from shared.outbox import Tx
from user_service.context import UserServiceParts
from user_service.models import PasswordResetToken, RefreshFamily, RefreshToken, User, utcnow
from user_service.passwords import check_not_email
from user_service.schemas import TokenPair

log = logging.getLogger("user_service.tokens")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def invalid_credentials() -> Problem:
    # One answer for an unknown email and a wrong password: it must not tell which.
    return Problem(401, "the email or password is incorrect", headers={"WWW-Authenticate": "Bearer"})


def invalid_refresh_token() -> Problem:
    return Problem(401, "the refresh token is invalid, expired or revoked; sign in again",
                   headers={"WWW-Authenticate": "Bearer"})


async def find_user(user_id: str) -> User | None:
    try:
        return await User.get(PydanticObjectId(user_id))
    except (InvalidId, TypeError):
        return None


async def login(*, parts: UserServiceParts, email: str, password: str) -> TokenPair:
    user = await User.find_one(User.email == normalize_email(email))
    if user is None:
        await parts.hasher.burn_time(password)  # comparable timing for an unknown email
        raise invalid_credentials()
    matches, upgraded_hash = await parts.hasher.verify_and_update(password, user.password_hash)
    if not matches:
        raise invalid_credentials()
    if upgraded_hash is not None:  # outdated hash parameters: migrate now that the password is known
        await User.get_pymongo_collection().update_one(
            {"_id": user.id, "password_hash": user.password_hash}, {"$set": {"password_hash": upgraded_hash}})
    return await issue_tokens(parts=parts, user_id=str(user.id))


def _access_token(parts: UserServiceParts, user_id: str) -> tuple[str, int]:
    s = parts.settings
    token, _ = parts.keys.mint(user_id=user_id, issuer=s.jwt_issuer, audience=s.jwt_audience,
                               ttl_seconds=s.access_token_ttl_seconds)
    return token, s.access_token_ttl_seconds


def _next_refresh_token(parts: UserServiceParts, family: RefreshFamily) -> tuple[str, RefreshToken]:
    now = utcnow()
    raw = new_opaque_token()
    expires_at = min(now + timedelta(days=parts.settings.refresh_token_ttl_days), family.expires_at)
    return raw, RefreshToken(token_hash=hash_token(raw), user_id=family.user_id, family_id=family.id,
                             created_at=now, expires_at=expires_at)


async def issue_tokens(*, parts: UserServiceParts, user_id: str) -> TokenPair:
    """A new sign-in: an access token and the first refresh token of a new family."""
    now = utcnow()
    family = RefreshFamily(id=uuid.uuid4().hex, user_id=user_id, created_at=now,
                           expires_at=now + timedelta(days=parts.settings.refresh_session_max_days))
    raw, record = _next_refresh_token(parts, family)
    await family.insert()
    await record.insert()
    access, expires_in = _access_token(parts, user_id)
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=raw)


async def refresh(*, parts: UserServiceParts, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent and the next one of its family issued. Presenting a spent token
    again means it was copied: the family is revoked, ending the thief's and the owner's copies alike.

    A token is valid only while its family is, so a successor issued while a concurrent reuse is being
    detected dies with the family: no multi-document transaction is needed (and no event is emitted)."""
    now = utcnow()
    record = await RefreshToken.find_one(RefreshToken.token_hash == hash_token(refresh_token))
    if record is None or record.expires_at <= now:
        raise invalid_refresh_token()
    family = await RefreshFamily.get(record.family_id)
    if family is None or family.revoked_at is not None or family.expires_at <= now:
        raise invalid_refresh_token()
    claimed = None
    if record.used_at is None:  # spend it atomically: of two concurrent refreshes only one gets here
        claimed = await RefreshToken.get_pymongo_collection().find_one_and_update(
            {"_id": record.id, "used_at": None}, {"$set": {"used_at": now}})
    if claimed is None:
        log.warning("refresh token reuse detected; revoking its family", extra={"user_id": record.user_id})
        await revoke_family(family.id)
        raise invalid_refresh_token()
    if await find_user(record.user_id) is None:
        raise invalid_refresh_token()
    raw, successor = _next_refresh_token(parts, family)
    await successor.insert()
    access, expires_in = _access_token(parts, record.user_id)
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=raw)


async def revoke_family(family_id: str, session: AsyncClientSession | None = None) -> None:
    await RefreshFamily.get_pymongo_collection().update_one(
        {"_id": family_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}, session=session)


async def revoke_all_refresh_tokens(user_id: str, session: AsyncClientSession | None = None) -> None:
    """Sign the account out everywhere (every family of refresh tokens)."""
    await RefreshFamily.get_pymongo_collection().update_many(
        {"user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}, session=session)


async def logout(*, refresh_token: str) -> None:
    """Revoke the sign-in this refresh token belongs to; an unknown token is already signed out."""
    record = await RefreshToken.find_one(RefreshToken.token_hash == hash_token(refresh_token))
    if record is not None:
        await revoke_family(record.family_id)


async def request_password_reset(*, parts: UserServiceParts, email: str,
                                 lifetime: timedelta | None = None) -> str | None:
    """Issue a single-use reset token and emit it (for the email) when the account exists. Returns the raw
    token, or None for an unknown email; the caller answers the same either way."""
    user = await User.find_one(User.email == normalize_email(email))
    if user is None:
        return None
    now = utcnow()
    raw = new_opaque_token()
    expires_at = now + (lifetime if lifetime is not None
                        else timedelta(seconds=parts.settings.password_reset_ttl_seconds))

    async def store_and_announce(tx: Tx) -> None:
        # Only the newest reset email works: earlier tokens are spent.
        await PasswordResetToken.get_pymongo_collection().update_many(
            {"user_id": str(user.id), "used_at": None}, {"$set": {"used_at": now}}, session=tx.session)
        await PasswordResetToken(token_hash=hash_token(raw), user_id=str(user.id), created_at=now,
                                 expires_at=expires_at).insert(session=tx.session)
        await tx.publish(PasswordResetRequested(user_id=str(user.id), email=user.email, name=user.name,
                                                reset_token=raw, expires_at=expires_at), user_id=str(user.id))

    await parts.runtime.atomic(store_and_announce)
    return raw


def invalid_reset_token() -> Problem:
    return field_problem("token", "is invalid, already used or expired; request a new reset email", status=400)


async def reset_password(*, parts: UserServiceParts, token: str, new_password: str) -> None:
    """Use a reset token once: set the new password and sign out every session of the account."""
    token_hash = hash_token(token)
    now = utcnow()
    record = await PasswordResetToken.find_one(PasswordResetToken.token_hash == token_hash)
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise invalid_reset_token()
    user = await find_user(record.user_id)
    if user is None:
        raise invalid_reset_token()
    check_not_email(new_password, user.email, field="new_password")
    new_hash = await parts.hasher.hash(new_password)

    async def spend_and_set_password(tx: Tx) -> None:
        claimed = await PasswordResetToken.get_pymongo_collection().update_one(
            {"_id": record.id, "used_at": None, "expires_at": {"$gt": now}}, {"$set": {"used_at": now}},
            session=tx.session)
        if claimed.modified_count != 1:
            raise invalid_reset_token()
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"password_hash": new_hash, "password_changed_at": now, "updated_at": now}},
            session=tx.session)
        await revoke_all_refresh_tokens(str(user.id), session=tx.session)

    await parts.runtime.atomic(spend_and_set_password)
