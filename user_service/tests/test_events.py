"""user.registered through the transactional outbox: exactly once when all is well, delayed but not lost when
the broker is unreachable, re-published when the relay crashes between publishing and marking."""

from urllib.parse import urlparse

from devtools.testing.infra import amqp_host_port
from devtools.testing.net import TcpProxy
from devtools.testing.waiting import wait_until
from user_service.tests.conftest import register

ENVELOPE_FIELDS = {"event_id", "type", "version", "occurred_at", "producer", "user_id", "correlation_id", "data"}


def outbox_of(stack):
    return stack.runtime("user_service").database.db["outbox"]


async def marked_sent(stack, event_id: str) -> bool:
    record = await outbox_of(stack).find_one({"_id": event_id})
    return bool(record and record["sent_at"] is not None)


async def test_registration_publishes_user_registered_exactly_once_in_the_envelope(api, stack):
    spy = await stack.spy("user.registered")
    response = await api.post("/api/auth/register", json={
        "email": "sam@example.com", "password": "plum-tractor-lantern-42", "name": "Sam",
        "default_currency": "CHF", "timezone": "Europe/Zurich"}, headers={"X-Request-ID": "req-sam-1"})
    assert response.status_code == 201
    user = response.json()

    [event] = await spy.wait_for("user.registered")
    assert set(event) == ENVELOPE_FIELDS
    assert (event["type"], event["version"], event["producer"]) == ("user.registered", 1, "user_service")
    assert event["user_id"] == user["id"] and event["correlation_id"] == "req-sam-1"
    assert event["data"] == {"user_id": user["id"], "email": "sam@example.com", "name": "Sam",
                             "default_currency": "CHF", "timezone": "Europe/Zurich"}
    assert spy.raw[0].message_id == event["event_id"]

    # Marked sent, the relay's next drain publishes nothing; a later event proves the queue was read past it.
    await wait_until(lambda: marked_sent(stack, event["event_id"]), message="the outbox record marked sent")
    assert await stack.runtime("user_service").relay.drain() == 0
    await register(api, "tom@example.com")
    await spy.wait_for("user.registered", count=2)
    assert [e["data"]["email"] for e in spy.of_type("user.registered")] == ["sam@example.com", "tom@example.com"]


async def test_registration_succeeds_while_the_broker_is_down_and_the_event_follows_when_it_returns(stack):
    host, port = amqp_host_port(stack.amqp_url)
    proxy = await TcpProxy(host, port).start()
    try:
        proxied = urlparse(stack.amqp_url)._replace(netloc=f"guest:guest@127.0.0.1:{proxy.port}").geturl()
        await stack.start("user_service", overrides={"user_service": {"amqp_url": proxied}})
        api = stack.client("user_service")
        runtime = stack.runtime("user_service")
        spy = await stack.spy("user.registered")

        proxy.cut()
        await wait_until(lambda: not runtime.bus.is_open, message="the service to notice the broker is gone")
        user = await register(api, "uma@example.com")
        record = await outbox_of(stack).find_one({"envelope.user_id": user["id"]})
        assert record is not None and record["sent_at"] is None and spy.of_type("user.registered") == []

        proxy.restore()
        [event] = await spy.wait_for("user.registered", timeout=30)
        assert event["event_id"] == record["_id"] and event["data"]["email"] == "uma@example.com"
        await wait_until(lambda: marked_sent(stack, record["_id"]), message="the outbox record marked sent")
    finally:
        await proxy.stop()


async def test_a_relay_crash_between_publishing_and_marking_sent_republishes_the_event(api, stack):
    relay = stack.runtime("user_service").relay
    crashed: list[str] = []

    async def crash_once(record: dict) -> None:
        crashed.append(record["_id"])
        relay.after_publish = None  # fail once, then run normally
        raise RuntimeError("relay crashed after the broker confirmed, before marking the record sent")

    relay.after_publish = crash_once
    spy = await stack.spy("user.registered")
    await register(api, "val@example.com")

    copies = await spy.wait_for("user.registered", count=2, timeout=20)
    assert {c["event_id"] for c in copies} == set(crashed)  # the same event again, never a lost one
    await wait_until(lambda: marked_sent(stack, crashed[0]), message="the outbox record marked sent")
    record = await outbox_of(stack).find_one({"_id": crashed[0]})
    assert record["attempts"] == 2
