"""A credential carried by an event reaches the broker, but the producer's kept outbox copy loses it."""

from datetime import datetime, timedelta, timezone

from devtools.testing.waiting import wait_until
from shared.events import PasswordResetRequested
from shared.runtime import Runtime
from shared.tests.test_runtime_events import make_settings


async def test_a_reset_token_is_published_then_redacted_from_the_outbox_copy(stack):
    spy = await stack.spy("user.password_reset_requested")
    producer = Runtime(make_settings(stack, "user_service"))
    await producer.start()
    try:
        async with producer.transaction() as tx:
            envelope = await tx.publish(PasswordResetRequested(
                user_id="u1", email="a@example.com", reset_token="s3cret-token",
                expires_at=datetime.now(timezone.utc) + timedelta(minutes=30)), user_id="u1")
        delivered = await spy.wait_for("user.password_reset_requested")
        assert delivered[0]["data"]["reset_token"] == "s3cret-token"
        outbox = producer.database.db["outbox"]

        async def kept_copy() -> dict | None:
            record = await outbox.find_one({"_id": envelope.event_id})
            return record if record and record["sent_at"] is not None else None

        record = await wait_until(kept_copy, message="the outbox record marked sent")
        assert record["envelope"]["data"]["reset_token"] == "[redacted]"
        assert record["envelope"]["data"]["email"] == "a@example.com"
    finally:
        await producer.stop()
