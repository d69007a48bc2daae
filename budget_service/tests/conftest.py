"""Budget service under test: the real service, a feed of expense events on the real broker, an event spy."""

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from bson import ObjectId

from devtools.testing.stack import EventSpy, Stack
from devtools.testing.waiting import wait_until
from shared.bus import Bus
from shared.events import Envelope, Event, ExpenseCreated, ExpenseDeleted, ExpenseUpdated, TransactionSnapshot
from shared.settings import ServiceSettings

USER = "user-budget-1"
FOOD, TRANSPORT = "cat-food", "cat-transport"


def today() -> date:
    return datetime.now(timezone.utc).date()


class ExpenseFeed:
    """Publishes expense_service's events on the test's exchange, exactly as its outbox relay would."""

    def __init__(self, stack: Stack) -> None:
        self.bus = Bus(ServiceSettings(service_name="expense_service", amqp_url=stack.amqp_url,
                                       amqp_exchange=stack.exchange, amqp_queue_prefix=stack.queue_prefix))
        self.snapshots: dict[str, TransactionSnapshot] = {}

    async def start(self) -> "ExpenseFeed":
        await self.bus.connect_until_ready()
        return self

    async def send(self, event: Event, *, user_id: str = USER, at: datetime | None = None) -> Envelope:
        envelope = Envelope.wrap(event, producer="expense_service", user_id=user_id)
        if at is not None:
            envelope = envelope.model_copy(update={"occurred_at": at})
        await self.send_envelope(envelope)
        return envelope

    async def send_envelope(self, envelope: Envelope) -> None:
        await self.bus.publish(envelope.type, json.dumps(envelope.model_dump(mode="json")).encode(),
                               message_id=envelope.event_id)

    @staticmethod
    def snapshot(amount: str, *, category: str | None = FOOD, user_id: str = USER, type_: str = "expense",
                 currency: str = "EUR", on: date | None = None, tx_id: str | None = None) -> TransactionSnapshot:
        return TransactionSnapshot(id=tx_id or str(ObjectId()), user_id=user_id, type=type_, amount=Decimal(amount),
                                   currency=currency, category_id=category,
                                   category_name={FOOD: "Food", TRANSPORT: "Transport"}.get(category or "", ""),
                                   occurred_date=on or today())

    @staticmethod
    def revise(snapshot: TransactionSnapshot, **changes: Any) -> TransactionSnapshot:
        """The snapshot with some fields changed, validated like a received event."""
        return TransactionSnapshot.model_validate({**snapshot.model_dump(), **changes})

    async def created(self, amount: str, **kwargs: Any) -> TransactionSnapshot:
        snapshot = self.snapshot(amount, **kwargs)
        self.snapshots[snapshot.id] = snapshot
        await self.send(ExpenseCreated(expense=snapshot), user_id=snapshot.user_id)
        return snapshot

    async def updated(self, tx_id: str, **changes: Any) -> TransactionSnapshot:
        before = self.snapshots[tx_id]
        after = self.revise(before, **changes)
        self.snapshots[tx_id] = after
        await self.send(ExpenseUpdated(before=before, after=after), user_id=after.user_id)
        return after

    async def deleted(self, tx_id: str) -> None:
        snapshot = self.snapshots.pop(tx_id)
        await self.send(ExpenseDeleted(expense=snapshot), user_id=snapshot.user_id)

    async def close(self) -> None:
        await self.bus.close()


class BudgetWorld:
    """What a test talks to: the budget API as USER, the expense feed, a spy on budget events, the database."""

    def __init__(self, stack: Stack, feed: ExpenseFeed, spy: EventSpy) -> None:
        self.stack, self.feed, self.spy = stack, feed, spy
        self.api: httpx.AsyncClient = stack.client("budget_service", headers=stack.auth(USER))
        self.db = stack.runtime("budget_service").database.db

    def client_for(self, user_id: str) -> httpx.AsyncClient:
        return self.stack.client("budget_service", headers=self.stack.auth(user_id))

    async def create_budget(self, **body: Any) -> dict[str, Any]:
        body = {"name": "Food", "category_id": FOOD, "limit_amount": "100.00", "currency": "EUR", **body}
        response = await self.api.post("/api/budgets", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def budget(self, budget_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/api/budgets/{budget_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_spent(self, budget_id: str, spent: str, timeout: float = 15.0) -> dict[str, Any]:
        """Until the budget's current period shows this spending: the events before it are processed."""
        seen: list[dict] = []

        async def reached() -> bool:
            seen[:] = [await self.budget(budget_id)]
            return seen[0]["current"]["spent"] == spent

        await wait_until(reached, timeout=timeout, message=f"spent {spent} (last: {seen and seen[0]['current']})")
        return seen[0]

    async def wait_ledger(self, count: int) -> None:
        """Until the ledger holds this many transaction records (the events are processed)."""
        async def enough() -> bool:
            return await self.db["ledger"].count_documents({}) >= count

        await wait_until(enough, message=f"{count} ledger records")

    async def wait_processed(self, count: int) -> None:
        """Until the service has handled this many events (the consumer records each one it ran)."""
        async def enough() -> bool:
            return await self.db["processed_events"].count_documents({}) >= count

        await wait_until(enough, message=f"{count} events handled")

    async def outbox_drained(self) -> None:
        """Every event the service wrote has been published (so the spy has, or is about to get, them all)."""
        async def drained() -> bool:
            return await self.db["outbox"].count_documents({"sent_at": None}) == 0

        await wait_until(drained, message="the outbox relay to drain")

    async def published(self, routing_key: str, expected: int) -> list[dict[str, Any]]:
        """The events of this type the service published, once all are through; asserts their number."""
        await self.outbox_drained()
        assert await self.db["outbox"].count_documents({"routing_key": routing_key}) == expected
        if expected:
            await self.spy.wait_for(routing_key, expected)
        events = self.spy.of_type(routing_key)
        assert len(events) == expected, events
        return events


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)


@pytest.fixture
async def world(stack: Stack) -> AsyncIterator[BudgetWorld]:
    await stack.start("budget_service")
    feed = await ExpenseFeed(stack).start()
    spy = await stack.spy("budget.threshold_80", "budget.exceeded")
    try:
        yield BudgetWorld(stack, feed, spy)
    finally:
        await feed.close()
