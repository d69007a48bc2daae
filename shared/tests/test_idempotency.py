"""shared.idempotency against a real MongoDB-protocol server: replays, 422 on reuse, one create under concurrency."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI, Response
from pymongo import AsyncMongoClient, IndexModel

from devtools.testing.waiting import wait_until
from shared.errors import Problem, install_error_handlers
from shared.events import UserRegistered
from shared.idempotency import (
    IDEMPOTENCY_COLLECTION,
    IdempotencyKey,
    erase_user_keys,
    mark_replayed,
    run_idempotent,
)
from shared.outbox import OUTBOX, Tx
from shared.runtime import Runtime
from shared.settings import ServiceSettings

THINGS = "things"


@pytest.fixture
async def runtime(stack) -> AsyncIterator[Runtime]:
    settings = ServiceSettings(service_name="idem_service", environment="test", mongodb_url=stack.mongo_url,
                               mongodb_db=stack.database_name("idem_service"), amqp_url=stack.amqp_url,
                               amqp_exchange=stack.exchange, amqp_queue_prefix=stack.queue_prefix,
                               idempotency_ttl_hours=6)
    # A database used before this module: expense_service's unscoped unique index on (user_id, key).
    client: AsyncMongoClient = AsyncMongoClient(stack.mongo_url)
    await client[settings.database_name][IDEMPOTENCY_COLLECTION].create_indexes(
        [IndexModel([("user_id", 1), ("key", 1)], unique=True, name="one_record_per_key")])
    await client.close()
    running = Runtime(settings, publishes=False)
    await running.start()
    yield running
    await running.stop()


def creating(label: str, calls: list[str] | None = None, *, gate: asyncio.Event | None = None):
    """A create that inserts a thing and writes an event to the outbox, in the given transaction."""

    async def create(tx: Tx) -> dict[str, Any]:
        if calls is not None:
            calls.append(label)
        if gate is not None:
            await asyncio.wait_for(gate.wait(), 10)
        thing_id = ObjectId()
        await tx.db[THINGS].insert_one({"_id": thing_id, "label": label}, session=tx.session)
        await tx.publish(UserRegistered(user_id="u1", email="u1@example.com"), user_id="u1")
        return {"id": str(thing_id), "label": label}

    return create


async def count(runtime: Runtime, collection: str) -> int:
    return await runtime.database.db[collection].count_documents({})


async def test_a_retry_with_the_same_key_and_request_gets_the_first_response_and_creates_once(runtime):
    calls: list[str] = []
    request = {"amount": "12.50", "currency": "EUR"}
    first, first_replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1",
                                                 request=request, create=creating("lunch", calls))
    again, again_replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1",
                                                 request=dict(reversed(request.items())),  # key order is no matter
                                                 create=creating("lunch", calls))
    assert (first_replayed, again_replayed) == (False, True)
    assert again == first and first["label"] == "lunch"
    assert calls == ["lunch"]
    assert (await count(runtime, THINGS), await count(runtime, OUTBOX), await count(runtime, IDEMPOTENCY_COLLECTION)) \
        == (1, 1, 1)


async def test_the_same_key_with_a_different_request_is_a_422_naming_the_header(runtime):
    await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1", request={"amount": "12.50"},
                         create=creating("lunch"))
    with pytest.raises(Problem) as refused:
        await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1", request={"amount": "99.00"},
                             create=creating("dinner"))
    assert refused.value.status == 422
    assert refused.value.errors == [{"field": "Idempotency-Key",
                                     "message": "this key was already used for a different request"}]
    assert await count(runtime, THINGS) == 1


async def test_keys_belong_to_one_user_and_one_scope_and_without_a_key_every_request_creates(runtime):
    request = {"amount": "1.00"}
    results = [await run_idempotent(runtime, user_id=user, scope=scope, key="same", request=request,
                                    create=creating(f"{user}/{scope}"))
               for user, scope in [("u1", "thing.create"), ("u2", "thing.create"), ("u1", "payment.create")]]
    assert [replayed for _, replayed in results] == [False, False, False]
    assert len({response["id"] for response, _ in results}) == 3
    for _ in range(2):
        _, replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key=None, request=request,
                                           create=creating("unkeyed"))
        assert replayed is False
    assert await runtime.database.db[THINGS].count_documents({"label": "unkeyed"}) == 2


async def test_a_failed_create_leaves_nothing_behind_and_the_key_free(runtime):
    async def refuse(tx: Tx) -> dict[str, Any]:
        await tx.db[THINGS].insert_one({"label": "half"}, session=tx.session)
        raise Problem(422, "amount: too many decimals")

    with pytest.raises(Problem):
        await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1", request={"a": 1}, create=refuse)
    assert (await count(runtime, THINGS), await count(runtime, IDEMPOTENCY_COLLECTION)) == (0, 0)
    created, replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key="k-1",
                                             request={"a": 1}, create=creating("fixed"))
    assert (created["label"], replayed) == ("fixed", False)


async def test_concurrent_duplicates_create_once_and_all_answer_with_the_winners_response(runtime):
    attempts = 0
    atomic = runtime.atomic

    async def counted_atomic(body):  # a spy: lets the test see every duplicate try while the first is in flight
        nonlocal attempts
        attempts += 1
        return await atomic(body)

    runtime.atomic = counted_atomic
    gate, calls = asyncio.Event(), []
    racing = [asyncio.ensure_future(run_idempotent(runtime, user_id="u1", scope="thing.create", key="race",
                                                   request={"amount": "3.00"},
                                                   create=creating(f"r{i}", calls, gate=gate)))
              for i in range(5)]
    await wait_until(lambda: attempts >= 5 and len(calls) == 1, message="all five tried while the first is open")
    gate.set()
    results = await asyncio.gather(*racing)
    assert sorted(replayed for _, replayed in results) == [False, True, True, True, True]
    assert len({json_of(response) for response, _ in results}) == 1
    assert len(calls) == 1  # the duplicates stopped at the key, before doing any work
    assert (await count(runtime, THINGS), await count(runtime, OUTBOX), await count(runtime, IDEMPOTENCY_COLLECTION)) \
        == (1, 1, 1)


def json_of(response: dict[str, Any]) -> str:
    return repr(sorted(response.items()))


async def test_a_duplicate_of_a_request_still_in_flight_gets_409_in_progress_then_its_response(runtime):
    gate, first_calls, calls = asyncio.Event(), [], []
    first = asyncio.ensure_future(run_idempotent(runtime, user_id="u1", scope="thing.create", key="slow",
                                                 request={"a": 1}, create=creating("slow", first_calls, gate=gate)))
    try:
        await wait_until(lambda: len(first_calls) == 1, message="the first request holds the key, uncommitted")
        with pytest.raises(Problem) as busy:
            await run_idempotent(runtime, user_id="u1", scope="thing.create", key="slow", request={"a": 1},
                                 create=creating("duplicate", calls), wait_seconds=0.3)
        assert busy.value.status == 409 and "in progress" in busy.value.detail
        assert busy.value.headers == {"Retry-After": "1"}
    finally:
        gate.set()
    created, _ = await first
    retried, replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key="slow",
                                             request={"a": 1}, create=creating("duplicate", calls))
    assert (retried, replayed, calls) == (created, True, [])


async def test_a_key_is_kept_for_the_configured_hours_and_is_free_again_once_expired(runtime):
    await run_idempotent(runtime, user_id="u1", scope="thing.create", key="old", request={"a": 1},
                         create=creating("earlier"))
    await run_idempotent(runtime, user_id="u1", scope="thing.create", key="short", request={"a": 1},
                         create=creating("earlier"), ttl_hours=0.5)
    records = runtime.database.db[IDEMPOTENCY_COLLECTION]
    kept = {r["key"]: r["expires_at"] - r["created_at"] async for r in records.find()}
    assert kept == {"old": timedelta(hours=6), "short": timedelta(minutes=30)}  # the setting, or the caller's
    record = await records.find_one({"key": "old"})
    await runtime.database.db[IDEMPOTENCY_COLLECTION].update_one(
        {"_id": record["_id"]}, {"$set": {"expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}})
    created, replayed = await run_idempotent(runtime, user_id="u1", scope="thing.create", key="old",
                                             request={"a": 2}, create=creating("today"))
    assert (created["label"], replayed) == ("today", False)


async def test_indexes_unique_per_user_scope_key_with_a_ttl_and_the_legacy_unscoped_index_dropped(runtime):
    indexes = {i["name"]: i async for i in await runtime.database.db[IDEMPOTENCY_COLLECTION].list_indexes()}
    assert "one_record_per_key" not in indexes
    assert dict(indexes["one_record_per_scoped_key"]["key"]) == {"user_id": 1, "scope": 1, "key": 1}
    assert indexes["one_record_per_scoped_key"]["unique"] is True
    assert [i["expireAfterSeconds"] for i in indexes.values() if dict(i["key"]) == {"expires_at": 1}] == [0]


async def test_erasing_a_user_forgets_only_their_keys(runtime):
    for user in ("leaving", "staying"):
        await run_idempotent(runtime, user_id=user, scope="thing.create", key="k", request={}, create=creating(user))
    async with runtime.transaction() as tx:
        await erase_user_keys(tx, user_id="leaving")
    remaining = await runtime.database.db[IDEMPOTENCY_COLLECTION].distinct("user_id")
    assert remaining == ["staying"]


def header_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things", status_code=201)
    async def create(response: Response, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
        mark_replayed(response, idempotency_key == "replay-me")
        return {"key": idempotency_key}

    return app


@pytest.mark.parametrize("key", ["k" * 256, "tab\tinside", "naïve", " ", ""])
async def test_a_malformed_idempotency_key_is_a_422_naming_the_header(key: str):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=header_app()), base_url="http://t") as api:
        r = await api.post("/things", headers={"Idempotency-Key": key.encode("utf-8")})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"]


async def test_well_formed_keys_pass_and_a_replay_is_marked():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=header_app()), base_url="http://t") as api:
        for key in ("k" * 255, "8e03978e-40d5-43e8-bc93-6894a57f9324", "order 42", '"sf-string"'):
            r = await api.post("/things", headers={"Idempotency-Key": key})
            assert (r.status_code, r.json()) == (201, {"key": key})
            assert "idempotent-replayed" not in r.headers
        assert (await api.post("/things")).json() == {"key": None}
        replayed = await api.post("/things", headers={"Idempotency-Key": "replay-me"})
        assert replayed.headers["Idempotent-Replayed"] == "true"
