"""Documents of the notification service: its user directory, in-app notifications, preferences, the email
queue, and the small per-user rollups the weekly report is built from."""

from datetime import datetime, timezone
from typing import Any, Literal

from beanie import DecimalAnnotation, Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UserContact(Document):
    """What this service knows of a user to email them; after user.deleted only a tombstone (no PII) is left,
    so late events for that user are ignored instead of recreating data."""

    user_id: str
    email: str | None = None
    name: str = ""
    timezone: str = "UTC"
    profile_at: datetime | None = None  # occurred_at of the event the profile came from (ignores stale ones)
    deleted_at: datetime | None = None

    class Settings:
        name = "user_directory"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True)]


class Notification(Document):
    """An in-app notification."""

    user_id: str
    type: str
    title: str
    body: str
    data: dict[str, str] = {}
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    source_event_id: str | None = None
    purge_after: datetime | None = None  # set once read: read notifications do not pile up forever

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("user_id", ASCENDING), ("read_at", ASCENDING)]),
            IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
        ]


class Preference(Document):
    """A user's channel choices per notification type; types not listed keep the defaults."""

    user_id: str
    channels: dict[str, dict[str, bool]] = {}
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "preferences"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True)]


EmailStatus = Literal["queued", "sending", "sent", "failed"]


class EmailAttempt(BaseModel):
    number: int
    at: datetime
    outcome: Literal["sent", "failed"]
    error: str | None = None
    smtp_code: int | None = None


class EmailAttachment(BaseModel):
    filename: str
    content_type: str
    content_base64: str


class EmailRecord(Document):
    """One email to send. Handlers only queue it (in their transaction); the background sender delivers it."""

    user_id: str | None  # whose data it is: erased with that user
    kind: str
    to_address: str
    to_name: str = ""
    reply_to: str | None = None
    from_name: str | None = None
    subject: str
    body_text: str
    attachments: list[EmailAttachment] = []
    sensitive: bool = False  # the body carries a secret (reset token): scrubbed once delivered or given up
    expires_at: datetime | None = None  # not worth sending after this (an expired reset token)
    status: EmailStatus = "queued"
    attempt_count: int = 0
    attempts: list[EmailAttempt] = []
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    lease_token: str | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    purge_after: datetime | None = None
    source_event_id: str | None = None

    class Settings:
        name = "emails"
        indexes = [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("user_id", ASCENDING)]),
            IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
        ]


class DailyRollup(Document):
    """Per user, day, transaction type, currency and category: the total and count (kept with $inc)."""

    user_id: str
    occurred_date: str  # ISO calendar day, YYYY-MM-DD (sorts and ranges as text)
    type: Literal["expense", "income"]
    currency: str
    category_key: str  # the category id, or "" for uncategorised
    category_name: str = ""
    total: DecimalAnnotation
    transactions: int
    purge_after: datetime | None = None

    class Settings:
        name = "daily_rollups"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("occurred_date", ASCENDING), ("type", ASCENDING),
                        ("currency", ASCENDING), ("category_key", ASCENDING)], unique=True),
            IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
        ]


class BudgetAlert(Document):
    """A budget threshold event as it reached this user: the weekly report's budget status."""

    user_id: str
    budget_id: str
    budget_name: str
    category_name: str | None = None
    status: Literal["threshold_80", "exceeded"]
    period_start: str
    period_end: str
    limit_amount: DecimalAnnotation
    spent: DecimalAnnotation
    currency: str
    raised_at: datetime
    purge_after: datetime | None = None

    class Settings:
        name = "budget_alerts"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("raised_at", ASCENDING)]),
            IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
        ]


class WeeklyReportRun(Document):
    """The claim that a user's report for one ISO week was handled: unique per (user, week), written in the
    same transaction as the report's email, so two instances never send it twice."""

    user_id: str
    week: str  # ISO week, e.g. 2026-W05
    outcome: Literal["queued", "no_activity", "disabled"]
    email_id: Any = None
    created_at: datetime = Field(default_factory=utcnow)
    purge_after: datetime | None = None

    class Settings:
        name = "weekly_reports"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("week", ASCENDING)], unique=True),
            IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
        ]


MODELS = [UserContact, Notification, Preference, EmailRecord, DailyRollup, BudgetAlert, WeeklyReportRun]
