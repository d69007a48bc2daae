"""Email delivery end to end: event → queued record → background sender → a real SMTP server."""

import asyncio
import itertools
from datetime import date

from devtools.testing.smtp import SmtpServer
from devtools.testing.waiting import wait_until
from notification_service.mailer import Mailer
from notification_service.models import EmailRecord
from notification_service.service_email import EmailSender
from shared.events import BudgetThreshold80

from .conftest import start


def threshold(budget_id: str = "b1", name: str = "Groceries") -> BudgetThreshold80:
    return BudgetThreshold80(budget_id=budget_id, budget_name=name, period_start=date(2026, 11, 1),
                             period_end=date(2026, 11, 30), threshold_percent=80, limit_amount="500.00",
                             spent="410.00", currency="EUR")


async def email_record(n, query: dict, condition) -> dict:
    async def matching() -> dict | None:
        doc = await n.db["emails"].find_one(query)
        return doc if doc and condition(doc) else None

    return await wait_until(matching, timeout=15, message=f"email record {query} in the expected state")


def failures(doc: dict) -> list[dict]:
    return [a for a in doc["attempts"] if a["outcome"] == "failed"]


async def test_budget_threshold_sends_one_email_and_one_notification_even_when_redelivered(
        stack, smtp_server, publisher):
    # One message in flight at a time and one sender worker: the marker event below is handled, and its
    # email sent, only after the redelivered event was.
    n = await start(stack, smtp_server, publisher, amqp_prefetch=1, email_send_concurrency=1)
    from .conftest import seed_user

    await seed_user(n, "u1", "ada@example.com", "Ada")
    envelope = await publisher.publish(threshold(), user_id="u1")
    [mail] = await n.mails_to("ada@example.com")
    assert "Groceries" in mail.subject and "410.00 EUR of 500.00 EUR" in mail.text()
    await n.count("notifications", {"user_id": "u1", "type": "budget_threshold_80"})

    await publisher.redeliver(envelope)
    await seed_user(n, "marker", "marker@example.com")
    await publisher.publish(threshold("b2", "Marker"), user_id="marker")
    await n.mails_to("marker@example.com")

    assert len(smtp_server.sink.to("ada@example.com")) == 1
    assert await n.db["notifications"].count_documents({"user_id": "u1"}) == 1
    assert await n.db["emails"].count_documents({"user_id": "u1"}) == 1


async def test_smtp_refusing_mail_delays_the_email_records_failed_attempts_then_delivers_it_once(
        stack, smtp_server, publisher):
    from .conftest import seed_user

    n = await start(stack, smtp_server, publisher)
    await seed_user(n, "u1", "ada@example.com")
    smtp_server.sink.refuse = True
    await publisher.publish(threshold(), user_id="u1")

    doc = await email_record(n, {"user_id": "u1"}, lambda d: len(failures(d)) >= 3)
    assert smtp_server.sink.to("ada@example.com") == []
    assert doc["status"] in ("queued", "sending")
    tried = failures(doc)
    assert [a["number"] for a in tried[:3]] == [1, 2, 3]
    assert all(a["smtp_code"] == 421 and "421" in a["error"] for a in tried)
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in itertools.pairwise(tried)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4, f"back-off should double: {gaps}"

    smtp_server.sink.refuse = False
    doc = await email_record(n, {"user_id": "u1"}, lambda d: d["status"] == "sent")
    assert doc["attempts"][-1]["outcome"] == "sent" and doc["attempt_count"] == len(doc["attempts"])
    assert len(smtp_server.sink.to("ada@example.com")) == 1


async def test_smtp_server_down_then_back_delivers_the_queued_email_once(stack, publisher):
    from .conftest import seed_user

    first = SmtpServer().start()
    n = await start(stack, first, publisher, smtp_host=first.host, smtp_port=first.port)
    await seed_user(n, "u1", "ada@example.com")
    first.stop()
    await publisher.publish(threshold(), user_id="u1")
    doc = await email_record(n, {"user_id": "u1"}, lambda d: len(failures(d)) >= 2)
    assert all(a["smtp_code"] is None and "connection" in a["error"].lower() for a in failures(doc))

    back = SmtpServer(port=first.port).start()
    try:
        await email_record(n, {"user_id": "u1"}, lambda d: d["status"] == "sent")
        assert len(back.sink.to("ada@example.com")) == 1
    finally:
        back.stop()


async def test_concurrent_senders_never_send_the_same_email_twice(notifications):
    n = notifications
    records = [EmailRecord(user_id=f"u{i}", kind="welcome", to_address=f"user{i}@example.com",
                           subject=f"Hello {i}", body_text="hi") for i in range(30)]
    # Three senders (each with several workers) race for the same queue, besides the service's own.
    senders = [EmailSender(n.runtime.settings, Mailer(n.runtime.settings)) for _ in range(3)]
    await EmailRecord.insert_many(records)
    await asyncio.gather(*(sender.drain() for sender in senders))
    await wait_until(lambda: len(n.smtp.sink.messages) >= 30, message="30 emails")
    ids = [m.message["X-Tracker-Email-Id"] for m in n.smtp.sink.messages]
    assert len(ids) == len(set(ids)) == 30
    assert await n.db["emails"].count_documents({"status": "sent", "attempt_count": 1}) == 30


async def test_a_permanently_refused_address_is_failed_without_retrying(notifications):
    n = notifications
    await EmailRecord(user_id="u1", kind="welcome", to_address="not-an-address", subject="Hi",
                      body_text="hi").insert()
    doc = await email_record(n, {"user_id": "u1"}, lambda d: d["status"] == "failed")
    assert doc["attempt_count"] == 1 and doc["attempts"][0]["error"] == "invalid email address"
