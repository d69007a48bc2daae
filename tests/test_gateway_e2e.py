"""End to end through the gateway over real HTTP: user_service behind it, real MongoDB protocol, real RabbitMQ."""

import json
from datetime import datetime

import aio_pika

from devtools.testing.waiting import wait_until

PASSWORD = "plum-tractor-lantern-42"
SENTINEL = "test.sentinel"


async def test_register_login_and_read_my_profile_through_the_gateway(stack):
    await stack.start("user_service", "gateway")
    api = stack.client("gateway")

    registered = await api.post("/api/auth/register",
                                json={"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})
    login = await api.post("/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    tokens = login.json()
    me = await api.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    anonymous = await api.get("/api/users/me")
    wrong_password = await api.post("/api/auth/login", json={"email": "ada@example.com", "password": "nope-nope"})

    assert registered.status_code == 201, registered.text
    assert login.status_code == 200, login.text
    assert {"access_token", "refresh_token", "token_type", "expires_in"} <= set(tokens)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    assert me.status_code == 200, me.text
    assert me.json()["id"] == registered.json()["id"]
    assert me.json()["email"] == "ada@example.com" and me.json()["name"] == "Ada"
    assert "x-request-id" in me.headers
    assert anonymous.status_code == 401  # refused by the gateway
    assert wrong_password.status_code == 401  # refused by user_service, passed through


async def test_a_refreshed_token_works_through_the_gateway_and_logout_needs_only_the_refresh_token(stack):
    await stack.start("user_service", "gateway")
    api = stack.client("gateway")
    await api.post("/api/auth/register", json={"email": "bo@example.com", "password": PASSWORD})
    tokens = (await api.post("/api/auth/login", json={"email": "bo@example.com", "password": PASSWORD})).json()

    refreshed = await api.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    me = await api.get("/api/users/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    logout = await api.post("/api/auth/logout", json={"refresh_token": refreshed.json()["refresh_token"]})
    after_logout = await api.post("/api/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]})

    assert refreshed.status_code == 200 and me.status_code == 200
    assert logout.status_code == 204
    assert after_logout.status_code == 401


async def _publish_sentinel(stack) -> None:
    """A marker published after the outbox is drained: once the spy sees it, every earlier event is in too."""
    connection = await aio_pika.connect(stack.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(stack.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(json.dumps({"type": SENTINEL}).encode()), routing_key=SENTINEL)


async def test_registration_through_the_gateway_publishes_user_registered_once_in_the_documented_envelope(stack):
    await stack.start("user_service", "gateway")
    spy = await stack.spy("user.registered", SENTINEL)
    api = stack.client("gateway")

    response = await api.post("/api/auth/register", headers={"X-Request-ID": "e2e-register-42"},
                              json={"email": "cy@example.com", "password": PASSWORD, "name": "Cy"})
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    await spy.wait_for("user.registered")
    outbox = stack.runtime("user_service").database.db["outbox"]

    async def outbox_drained() -> bool:
        return await outbox.count_documents({"sent_at": None}) == 0

    await wait_until(outbox_drained, message="the outbox marked sent")
    await _publish_sentinel(stack)
    await spy.wait_for(SENTINEL)

    events = spy.of_type("user.registered")
    assert len(events) == 1
    envelope = events[0]
    assert set(envelope) == {"event_id", "type", "version", "occurred_at", "producer", "user_id", "correlation_id",
                             "data"}
    assert envelope["type"] == "user.registered" and envelope["version"] == 1
    assert envelope["producer"] == "user_service"
    assert envelope["user_id"] == user_id
    assert envelope["correlation_id"] == "e2e-register-42"  # the request id, carried from the client through
    assert datetime.fromisoformat(envelope["occurred_at"]).utcoffset().total_seconds() == 0
    assert envelope["data"]["user_id"] == user_id
    assert envelope["data"]["email"] == "cy@example.com" and envelope["data"]["name"] == "Cy"
    registered_messages = [m for m in spy.raw if json.loads(m.body).get("type") == "user.registered"]
    assert registered_messages[0].message_id == envelope["event_id"]
    assert registered_messages[0].routing_key == "user.registered"
