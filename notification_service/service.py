"""The user directory, dispatching a notification over the user's channels, and the in-app notifications API."""

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.asynchronous.client_session import AsyncClientSession

from shared.errors import NotFound
from shared.ids import parse_object_id
from shared.schemas import PageParams

from .messages import Message
from .models import (
    BudgetAlert,
    DailyRollup,
    EmailRecord,
    Notification,
    Preference,
    UserContact,
    WeeklyReportRun,
    utcnow,
)
from .schemas import NotificationPage, NotificationPublic
from .service_email import EmailDraft, queue_email
from .service_preferences import channels_for

log = logging.getLogger("notification_service")


def zone(name: str | None) -> ZoneInfo:
    """The user's timezone; an unknown name falls back to UTC rather than failing a report."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- the user directory ---------------------------------------------------------------------------

async def contact_of(user_id: str, session: AsyncClientSession | None = None) -> UserContact | None:
    return await UserContact.find_one({"user_id": user_id}, session=session)


async def remember_user(*, session: AsyncClientSession, user_id: str, email: str, name: str, timezone: str,
                        occurred_at: datetime) -> None:
    """Keep the newest profile; an older event arriving late, or any event after erasure, changes nothing."""
    existing = await contact_of(user_id, session)
    if existing and (existing.deleted_at or (existing.profile_at and existing.profile_at > occurred_at)):
        return
    await UserContact.get_pymongo_collection().update_one(
        {"user_id": user_id},
        {"$set": {"email": email, "name": name, "timezone": timezone, "profile_at": occurred_at}},
        upsert=True, session=session)


async def forget_user(*, session: AsyncClientSession, user_id: str) -> None:
    """Erase everything this service holds about the user; a tombstone without personal data stays, so a
    late event cannot bring it back."""
    for model in (Notification, Preference, EmailRecord, DailyRollup, BudgetAlert, WeeklyReportRun):
        await model.get_pymongo_collection().delete_many({"user_id": user_id}, session=session)
    await UserContact.get_pymongo_collection().update_one(
        {"user_id": user_id},
        {"$set": {"email": None, "name": "", "timezone": "UTC", "deleted_at": utcnow()}},
        upsert=True, session=session)


async def is_erased(user_id: str, session: AsyncClientSession | None = None) -> bool:
    contact = await contact_of(user_id, session)
    return bool(contact and contact.deleted_at)


# --- dispatch -------------------------------------------------------------------------------------

async def notify(*, session: AsyncClientSession, user_id: str, kind: str, message: Message,
                 data: dict[str, str] | None = None, draft: EmailDraft | None = None,
                 event_id: str | None = None) -> None:
    """Send one notification on the channels the user keeps on: an in-app record and/or a queued email,
    both in the caller's transaction."""
    contact = await contact_of(user_id, session)
    if contact and contact.deleted_at:
        return
    channels = await channels_for(user_id=user_id, kind=kind, session=session)
    if channels.in_app:
        await Notification(user_id=user_id, type=kind, title=message.title, body=message.body,
                           data=data or {}, source_event_id=event_id).insert(session=session)
    if not channels.email:
        return
    draft = draft or EmailDraft(subject=message.title, text=message.email_text)
    address = draft.to_address or (contact.email if contact else None)
    if not address:
        log.info("no email address known for user %s; %s email skipped", user_id, kind)
        return
    draft.to_name = draft.to_name if draft.to_name is not None else (contact.name if contact else "")
    await queue_email(session=session, user_id=user_id, kind=kind, to_address=address, draft=draft,
                      source_event_id=event_id)


# --- in-app notifications API ---------------------------------------------------------------------

def to_public(notification: Notification) -> NotificationPublic:
    return NotificationPublic(id=str(notification.id), type=notification.type, title=notification.title,
                              body=notification.body, data=notification.data,
                              read=notification.read_at is not None, read_at=notification.read_at,
                              created_at=notification.created_at)


async def list_notifications(*, user_id: str, unread: bool | None, page: PageParams) -> NotificationPage:
    query: dict[str, Any] = {"user_id": user_id}
    if unread is not None:
        query["read_at"] = None if unread else {"$ne": None}
    found = Notification.find(query)
    total = await found.count()
    items = await Notification.find(query, sort=[("created_at", -1), ("_id", -1)], skip=page.offset,
                                    limit=page.limit).to_list()
    return NotificationPage(items=[to_public(n) for n in items], total=total, limit=page.limit,
                            offset=page.offset)


async def unread_count(*, user_id: str) -> int:
    return await Notification.find({"user_id": user_id, "read_at": None}).count()


async def get_notification(*, user_id: str, notification_id: str) -> Notification:
    oid = parse_object_id(notification_id, "notification")
    found = await Notification.find_one({"_id": oid, "user_id": user_id})
    if found is None:
        raise NotFound("notification")
    return found


def _read_now(retention_days: int) -> dict[str, Any]:
    now = utcnow()
    return {"$set": {"read_at": now, "purge_after": now + timedelta(days=retention_days)}}


async def mark_read(*, user_id: str, notification_id: str, retention_days: int) -> NotificationPublic:
    oid = parse_object_id(notification_id, "notification")
    # Only an unread one changes: reading twice keeps the first read time.
    await Notification.get_pymongo_collection().update_one(
        {"_id": oid, "user_id": user_id, "read_at": None}, _read_now(retention_days))
    return to_public(await get_notification(user_id=user_id, notification_id=notification_id))


async def mark_all_read(*, user_id: str, retention_days: int) -> int:
    result = await Notification.get_pymongo_collection().update_many(
        {"user_id": user_id, "read_at": None}, _read_now(retention_days))
    return result.modified_count


async def delete_notification(*, user_id: str, notification_id: str) -> None:
    oid = parse_object_id(notification_id, "notification")
    result = await Notification.get_pymongo_collection().delete_one({"_id": oid, "user_id": user_id})
    if result.deleted_count == 0:
        raise NotFound("notification")
