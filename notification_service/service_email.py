"""The email queue: handlers queue records in their transaction; a background sender claims each due record
with a lease (so two instances never send the same email), sends it, records the attempt, and retries with
exponential back-off up to a cap until it is sent or permanently failed."""

import asyncio
import base64
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.runtime import Runtime

from .mailer import DeliveryFailed, Mailer
from .models import EmailAttachment, EmailAttempt, EmailRecord, utcnow
from .settings import Settings

log = logging.getLogger("notification_service.email")

SCRUBBED = "[removed once delivered or given up: it contained a one-time secret]"


@dataclass
class EmailDraft:
    subject: str
    text: str
    to_address: str | None = None  # default: the user's address from the directory
    to_name: str | None = None
    reply_to: str | None = None
    from_name: str | None = None
    attachments: list[EmailAttachment] = field(default_factory=list)
    sensitive: bool = False
    expires_at: datetime | None = None


def pdf_attachment(filename: str, pdf_base64: str) -> EmailAttachment:
    base64.b64decode(pdf_base64, validate=True)  # a corrupt payload fails the handler, not the sender
    return EmailAttachment(filename=filename, content_type="application/pdf", content_base64=pdf_base64)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # no CR/LF reaches a header


async def queue_email(*, session: AsyncClientSession, user_id: str | None, kind: str, to_address: str,
                      draft: EmailDraft, source_event_id: str | None) -> EmailRecord:
    record = EmailRecord(
        user_id=user_id, kind=kind, to_address=to_address.strip(), to_name=_one_line(draft.to_name or ""),
        reply_to=draft.reply_to, from_name=_one_line(draft.from_name) if draft.from_name else None,
        subject=_one_line(draft.subject), body_text=draft.text, attachments=draft.attachments,
        sensitive=draft.sensitive, expires_at=draft.expires_at, source_event_id=source_event_id,
    )
    await record.insert(session=session)
    return record


def retry_delay(settings: Settings, attempt: int) -> float:
    """Seconds before the next try after `attempt` failed ones: base, 2 * base, 4 * base ... up to the cap."""
    return min(settings.email_retry_base_seconds * 2 ** (attempt - 1), settings.email_retry_max_seconds)


class EmailSender:
    def __init__(self, settings: Settings, mailer: Mailer) -> None:
        self.settings, self.mailer = settings, mailer
        self.collection = EmailRecord.get_pymongo_collection()

    async def claim(self) -> tuple[EmailRecord, str] | None:
        """Take the next due email with a lease; None when nothing is due (or others hold every due one)."""
        now = utcnow()
        token = uuid.uuid4().hex
        raw = await self.collection.find_one_and_update(
            {"status": {"$in": ["queued", "sending"]}, "next_attempt_at": {"$lte": now},
             "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
            {"$set": {"status": "sending", "lease_token": token,
                      "lease_until": now + timedelta(seconds=self.settings.email_lease_seconds)},
             "$inc": {"attempt_count": 1}},
            sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.AFTER,
        )
        return (EmailRecord.model_validate(raw), token) if raw else None

    async def send_claimed(self, record: EmailRecord, token: str) -> None:
        if record.expires_at and record.expires_at <= utcnow():
            await self._finish(record, token, failure=DeliveryFailed("expired before it could be sent",
                                                                     permanent=True))
            return
        try:
            await self.mailer.send(record)
        except DeliveryFailed as failure:
            await self._finish(record, token, failure=failure)
        else:
            await self._finish(record, token, failure=None)

    async def _finish(self, record: EmailRecord, token: str, *, failure: DeliveryFailed | None) -> None:
        now = utcnow()
        attempt = EmailAttempt(number=record.attempt_count, at=now, outcome="failed" if failure else "sent",
                               error=str(failure) if failure else None,
                               smtp_code=failure.smtp_code if failure else None)
        update: dict = {"lease_until": None, "lease_token": None}
        retention = now + timedelta(days=self.settings.email_retention_days)
        if failure is None:
            update |= {"status": "sent", "sent_at": now, "purge_after": retention}
        elif failure.permanent or record.attempt_count >= self.settings.email_max_attempts:
            update |= {"status": "failed", "failed_at": now, "last_error": str(failure), "purge_after": retention}
        else:
            delay = retry_delay(self.settings, record.attempt_count)
            update |= {"status": "queued", "last_error": str(failure),
                       "next_attempt_at": now + timedelta(seconds=delay)}
        if record.sensitive and update["status"] in ("sent", "failed"):
            update["body_text"] = SCRUBBED
        result = await self.collection.update_one(
            {"_id": record.id, "lease_token": token},
            {"$set": update, "$push": {"attempts": attempt.model_dump()}})
        if result.matched_count == 0:
            log.warning("email %s: lease lost before its attempt %s was recorded", record.id, attempt.number)
        elif failure is not None:
            log.warning("email %s attempt %s failed (%s): %s", record.id, attempt.number,
                        update["status"], failure)

    async def drain(self) -> int:
        """Send every due email; returns how many were handled. One claim at a time (concurrent claims would
        all race for the same oldest record), up to `email_send_concurrency` SMTP sends in flight."""
        handled, claim_failed = 0, None
        slots = asyncio.Semaphore(max(1, self.settings.email_send_concurrency))

        async def send(record: EmailRecord, token: str) -> None:
            try:
                await self.send_claimed(record, token)
            except Exception as exc:  # its lease runs out and it is tried again; the other sends go on
                log.warning("email %s: attempt not recorded: %s: %s", record.id, exc.__class__.__name__, exc)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as sends:  # waits for the sends in flight, even when claiming fails
            while True:
                await slots.acquire()
                try:
                    claimed = await self.claim()
                except Exception as exc:
                    claim_failed = exc
                    claimed = None
                if claimed is None:
                    slots.release()
                    break
                handled += 1
                sends.create_task(send(*claimed))
        if claim_failed is not None:
            raise claim_failed
        return handled


def raise_if_cancelled() -> None:
    """Stop a background loop whose cancellation was swallowed: on Python 3.11, asyncio.wait_for (which PyMongo
    reads through) returns the result instead of raising when a cancel lands just as the read completes, and a
    loop that carried on would keep a stopping service alive."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def email_sender_loop(runtime: Runtime) -> None:
    """Background task: poll the queue; a database or SMTP outage only delays mail."""
    settings: Settings = runtime.settings  # type: ignore[assignment]
    sender = EmailSender(settings, runtime.extras["mailer"])
    while True:
        try:
            await sender.drain()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("email sender paused: %s: %s", exc.__class__.__name__, exc)
        raise_if_cancelled()
        await asyncio.sleep(settings.email_poll_seconds)
