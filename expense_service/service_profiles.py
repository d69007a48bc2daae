"""The user's default currency and timezone, from this service's copy of the profile (fed by user events)."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import Profile, utc_now
from expense_service.settings import Settings
from shared.money import CURRENCY_DIGITS


@dataclass(frozen=True)
class UserPrefs:
    default_currency: str
    timezone: str
    categories_seeded: bool = False

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()


def valid_currency(code: str | None, fallback: str) -> str:
    code = (code or "").strip().upper()
    return code if code in CURRENCY_DIGITS else fallback


def valid_timezone(name: str | None, fallback: str) -> str:
    try:
        ZoneInfo(name or "")
        return name or fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


async def user_prefs(*, settings: Settings, user_id: str, session: AsyncClientSession | None = None) -> UserPrefs:
    """The user's preferences; the configured fallback (EUR/UTC) for a user whose profile was never seen."""
    raw = await Profile.get_pymongo_collection().find_one({"user_id": user_id}, session=session)
    raw = raw or {}
    return UserPrefs(
        default_currency=valid_currency(raw.get("default_currency"), settings.default_currency),
        timezone=valid_timezone(raw.get("timezone"), settings.default_timezone),
        categories_seeded=bool(raw.get("categories_seeded")),
    )


async def apply_profile(*, session: AsyncClientSession, user_id: str, default_currency: str, timezone: str,
                        as_of: datetime, name: str | None = None) -> bool:
    """Store the profile from an event unless a newer one was applied already (events may arrive out of order).
    True when stored."""
    profiles = Profile.get_pymongo_collection()
    existing = await profiles.find_one({"user_id": user_id}, {"profile_as_of": 1}, session=session)
    if existing and existing.get("profile_as_of") and existing["profile_as_of"] >= as_of:
        return False
    await profiles.update_one({"user_id": user_id}, {"$set": {
        "default_currency": default_currency, "timezone": timezone, "profile_as_of": as_of,
        "name": (name or "").strip()[:100] or None, "updated_at": utc_now()}}, upsert=True, session=session)
    return True
