"""Users and their credentials: the user, rotating refresh tokens, single-use password-reset tokens.

Tokens are stored only as SHA-256 hashes: a copy of the database gives nobody a working token.
"""

from datetime import datetime, timezone

from beanie import DecimalAnnotation, Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(Document):
    email: str  # normalised: trimmed, lower-case (unique)
    password_hash: str
    name: str = ""
    default_currency: str = "EUR"
    timezone: str = "UTC"
    monthly_income: DecimalAnnotation | None = None  # in default_currency
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
        indexes = [IndexModel([("email", ASCENDING)], unique=True, name="email_unique")]


class RefreshFamily(Document):
    """One sign-in: every refresh token rotated from one login. Revoking it ends them all at once, so a
    successor issued while a concurrent reuse is being detected is dead too."""

    id: str  # type: ignore[assignment]  # a random hex id, also stored on each token
    user_id: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime  # the sign-in ends then, however often it is rotated
    revoked_at: datetime | None = None

    class Settings:
        name = "refresh_families"
        indexes = [
            IndexModel([("user_id", ASCENDING)], name="user"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=7 * 86400, name="expiry_ttl"),
        ]


class RefreshToken(Document):
    """One link of a rotation chain."""

    token_hash: str
    user_id: str
    family_id: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None  # rotated: presenting it again is reuse, and revokes the family

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("user_id", ASCENDING)], name="user"),
            # Kept a week past expiry so a late replay of a rotated token is still recognised as reuse.
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=7 * 86400, name="expiry_ttl"),
        ]


class PasswordResetToken(Document):
    token_hash: str
    user_id: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None

    class Settings:
        name = "password_reset_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("user_id", ASCENDING)], name="user"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=3600, name="expiry_ttl"),
        ]


MODELS = [User, RefreshFamily, RefreshToken, PasswordResetToken]
