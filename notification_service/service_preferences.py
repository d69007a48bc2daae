"""Per-user channel preferences: every channel on by default; a type's always-on channels stay on."""

from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession

from shared.errors import field_problem

from .catalogue import EMAIL, IN_APP, NOTIFICATION_TYPES, NotificationType
from .models import Preference, utcnow
from .schemas import ChannelsPublic, PreferencesPublic, PreferencesUpdate


@dataclass(frozen=True)
class Channels:
    email: bool
    in_app: bool


def _effective(kind: NotificationType, stored: dict[str, bool]) -> Channels:
    def on(channel: str) -> bool:
        if channel not in kind.channels:
            return False
        if channel in kind.always_on:
            return True
        return stored.get(channel, True)

    return Channels(email=on(EMAIL), in_app=on(IN_APP))


async def channels_for(*, user_id: str, kind: str, session: AsyncClientSession | None = None) -> Channels:
    """The channels a notification of this type goes out on for this user."""
    preference = await Preference.find_one({"user_id": user_id}, session=session)
    return _effective(NOTIFICATION_TYPES[kind], preference.channels.get(kind, {}) if preference else {})


def _public(preference: Preference | None) -> PreferencesPublic:
    stored = preference.channels if preference else {}
    types = {}
    for name, kind in NOTIFICATION_TYPES.items():
        channels = _effective(kind, stored.get(name, {}))
        types[name] = ChannelsPublic(email=channels.email, in_app=channels.in_app,
                                     available=list(kind.channels), always_on=list(kind.always_on))
    return PreferencesPublic(types=types)


async def get_preferences(*, user_id: str) -> PreferencesPublic:
    return _public(await Preference.find_one({"user_id": user_id}))


async def update_preferences(*, user_id: str, update: PreferencesUpdate) -> PreferencesPublic:
    changes: dict[str, bool] = {}
    for name, requested in update.types.items():
        kind = NOTIFICATION_TYPES[name]
        for channel, value in requested.model_dump(exclude_none=True).items():
            field = f"types.{name}.{channel}"
            if channel not in kind.channels:
                raise field_problem(field, f"{name} notifications have no {channel} channel")
            if channel in kind.always_on and value is False:
                raise field_problem(field, f"{name} {channel} cannot be turned off")
            changes[f"channels.{name}.{channel}"] = value
    collection = Preference.get_pymongo_collection()
    if changes:
        # One atomic upsert: concurrent updates of different types never overwrite each other.
        await collection.update_one({"user_id": user_id}, {"$set": {**changes, "updated_at": utcnow()}}, upsert=True)
    return await get_preferences(user_id=user_id)
