"""POST /api/analytics/rebuild: the caller's read model recomputed from expense_service's list.

expense_service is played by a small HTTP stub serving the list API's shape
(GET /api/expenses?limit=&offset= → {items, total, limit, offset, totals}), scoped by the bearer token,
so what the rebuild forwards and how it pages is visible.
"""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from aiohttp import web

from analytics_service.service import DELETED, UPDATED, Version, event_time_us, record_document
from analytics_service.service_rebuild import Fetched, merge
from analytics_service.tests.conftest import processed_count, snapshot
from analytics_service.tests.oracle import Oracle
from devtools.testing.net import free_port
from devtools.testing.waiting import wait_until
from shared.events import Envelope, ExpenseCreated, ExpenseUpdated, TransactionSnapshot

LISTED_AT = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


class ExpenseListStub:
    def __init__(self) -> None:
        self.items: dict[str, list[dict]] = {}  # by Authorization header
        self.requests: list[tuple[str, int, int]] = []
        self.status = 200
        self.hold: asyncio.Event | None = None  # when set, answers wait for it
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def start(self) -> "ExpenseListStub":
        app = web.Application()
        app.router.add_get("/api/expenses", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        limit, offset = int(request.query["limit"]), int(request.query["offset"])
        self.requests.append((auth, offset, limit))
        if self.hold is not None:
            await self.hold.wait()
        if self.status != 200:
            return web.Response(status=self.status, text="broken")
        if auth not in self.items:
            return web.json_response({"status": 401}, status=401)
        items = self.items[auth]
        return web.json_response({"items": items[offset:offset + limit], "total": len(items), "limit": limit,
                                  "offset": offset, "totals": []})


@pytest.fixture
async def stub() -> AsyncIterator[ExpenseListStub]:
    listing = await ExpenseListStub().start()
    yield listing
    await listing.stop()


def listed(item: TransactionSnapshot, updated_at: datetime) -> dict:
    """An item as expense_service lists it."""
    return {"id": item.id, "type": item.type, "amount": str(item.amount), "currency": item.currency,
            "category_id": item.category_id, "category": item.category_name, "description": item.description,
            "occurred_date": item.occurred_date.isoformat(), "payment_method": None, "tags": [], "notes": "",
            "created_at": updated_at.isoformat(), "updated_at": updated_at.isoformat()}


async def test_rebuild_recomputes_the_callers_read_model_from_expense_service(stack, stub, producer):
    listing = stub
    await stack.start("analytics_service",
                      overrides={"analytics_service": {"service_urls": {"expense_service": listing.url}}})
    rng, today = random.Random(7), date.today()
    truth = []
    for _ in range(250):
        category_id, name = rng.choice([("c-a", "A"), ("c-b", "B")])
        amount = str(Decimal(rng.randint(1, 9999)) / 100)
        truth.append(snapshot("u1", amount=amount, currency=rng.choice(["EUR", "USD"]),
                              type=rng.choice(["expense", "expense", "income"]), category_id=category_id,
                              category_name=name, occurred_date=today - timedelta(days=rng.randint(0, 200))))
    # What the read model saw: one transaction with an old amount, one never deleted, another user's.
    stale = truth[0].model_copy(update={"amount": Decimal("1.00")})
    vanished = snapshot("u1", amount="77.00", occurred_date=today)
    theirs = snapshot("u2", amount="5.00", occurred_date=today)
    for event, user in ((ExpenseCreated(expense=stale), "u1"), (ExpenseCreated(expense=vanished), "u1"),
                        (ExpenseCreated(expense=theirs), "u2")):
        await producer.publish(event, user)

    async def applied(count: int) -> bool:
        return await processed_count(stack) >= count

    await wait_until(lambda: applied(3), message="events applied")
    token = f"Bearer {stack.token_for('u1')}"
    listed_at = datetime.now(timezone.utc)  # the list is newer than every event the read model saw
    listing.items[token] = [listed(t, listed_at) for t in truth]

    api = stack.client("analytics_service", headers={"Authorization": token})
    response = await api.post("/api/analytics/rebuild")
    assert response.status_code == 200, response.text
    assert response.json()["transactions"] == 250
    assert [(auth, offset) for auth, offset, _ in listing.requests] == [(token, 0), (token, 100), (token, 200)]

    span = {"from": (today - timedelta(days=210)).isoformat(), "to": today.isoformat()}
    oracle = Oracle(truth, today, "UTC")
    assert (await api.get("/api/analytics/summary", params=span)).json() == oracle.summary(
        today - timedelta(days=210), today)
    assert (await api.get("/api/analytics/trends", params={**span, "granularity": "week"})).json() == oracle.trends(
        "week", today - timedelta(days=210), today)
    theirs_view = await stack.client("analytics_service", headers=stack.auth("u2")).get(
        "/api/analytics/summary", params=span)
    assert theirs_view.json()["currencies"][0]["expense"] == "5.00"

    # Events keep flowing on top of the rebuilt model; one older than the list is stale and ignored.
    edited = truth[1].model_copy(update={"amount": truth[1].amount + 10})
    await producer.publish(ExpenseUpdated(before=truth[1], after=edited), "u1")
    outdated = truth[2].model_copy(update={"amount": Decimal("999.00")})
    await producer.publish_raw(Envelope.wrap(ExpenseUpdated(before=truth[2], after=outdated),
                                             producer="expense_service", user_id="u1").model_copy(
        update={"occurred_at": listed_at - timedelta(seconds=1)}))
    await wait_until(lambda: applied(5), message="later events applied")
    assert (await api.get("/api/analytics/summary", params=span)).json() == Oracle(
        [edited if t.id == edited.id else t for t in truth], today, "UTC").summary(today - timedelta(days=210), today)


async def test_rebuild_with_expense_service_broken_or_down_is_a_fast_problem(stack, stub):
    listing = stub
    await stack.start("analytics_service",
                      overrides={"analytics_service": {"service_urls": {"expense_service": listing.url}}})
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    listing.status = 500
    response = await api.post("/api/analytics/rebuild")
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    listing.status = 200  # the stub does not know this caller's token: expense_service refuses it
    assert (await api.post("/api/analytics/rebuild")).status_code == 502

    # While one rebuild waits on expense_service, a second one for the same user is refused.
    listing.hold = asyncio.Event()
    first = asyncio.ensure_future(api.post("/api/analytics/rebuild"))
    await wait_until(lambda: len(listing.requests) == 3, message="the first rebuild to reach expense_service")
    second = await api.post("/api/analytics/rebuild")
    assert second.status_code == 409 and second.headers["content-type"] == "application/problem+json"
    listing.hold.set()
    assert (await first).status_code == 502

    await listing.stop()
    started = time.monotonic()
    response = await api.post("/api/analytics/rebuild")
    assert response.status_code == 503 and time.monotonic() - started < 3
    assert response.headers["content-type"] == "application/problem+json" and "Retry-After" in response.headers


def test_merge_keeps_newer_events_and_tombstones_and_drops_what_the_list_no_longer_holds():
    started = event_time_us(LISTED_AT) + 5_000_000  # the rebuild began five seconds after the list's versions
    day = date(2024, 5, 5)

    def item(name: str, amount: str) -> TransactionSnapshot:
        return snapshot("u1", id=name, amount=amount, occurred_date=day)

    def stored(name: str, amount: str, at_us: int, *, deleted: bool = False) -> dict:
        version = Version(at_us, DELETED if deleted else UPDATED)
        return record_document("u1", item(name, amount), deleted=deleted, version=version)

    listed_version = Version(event_time_us(LISTED_AT), UPDATED)
    fetched = {name: Fetched(item(name, amount), listed_version)
               for name, amount in (("same", "1.00"), ("edited-later", "2.00"), ("deleted-later", "3.00"),
                                    ("older-event", "4.00"))}
    current = {
        "same": stored("same", "1.00", listed_version.at_us - 1),
        "edited-later": stored("edited-later", "20.00", started + 1),  # an event applied during the rebuild
        "deleted-later": stored("deleted-later", "3.00", started + 2, deleted=True),
        "older-event": stored("older-event", "40.00", listed_version.at_us - 10),
        "created-later": stored("created-later", "6.00", started + 3),
        "gone": stored("gone", "7.00", started - 1),  # not listed, not touched since: deleted at the source
        "old-tombstone": stored("old-tombstone", "8.00", started - 1, deleted=True),
    }
    records, rollups = merge("u1", fetched, current, started)
    live = {r["transaction_id"]: str(r["amount"]) for r in records if not r["deleted"]}
    assert live == {"same": "1.00", "edited-later": "20.00", "older-event": "4.00", "created-later": "6.00"}
    assert {r["transaction_id"] for r in records if r["deleted"]} == {"deleted-later", "old-tombstone"}
    [(_, amount, count)] = list(rollups.days[day].rows())
    assert (amount, count) == (Decimal("31.00"), 4)
