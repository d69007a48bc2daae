"""Threshold events: once per period per threshold, under concurrency, again only after falling under."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aio_pika
import httpx

from budget_service.tests.conftest import FOOD, USER, BudgetWorld
from devtools.testing.net import free_port
from devtools.testing.waiting import wait_until
from shared.events import ExpenseCreated

ROOT = Path(__file__).resolve().parents[2]


async def test_food_budget_alerts_80_percent_once_then_exceeded_once(world: BudgetWorld):
    budget = await world.create_budget(name="Food", category_id=FOOD, limit_amount="100.00")
    await world.feed.created("50.00")
    await world.wait_spent(budget["id"], "50.00")
    await world.published("budget.threshold_80", 0)

    await world.feed.created("35.00")
    await world.wait_spent(budget["id"], "85.00")
    [warning] = await world.published("budget.threshold_80", 1)
    assert warning["user_id"] == USER
    data = warning["data"]
    assert (data["budget_id"], data["budget_name"], data["category_id"], data["category_name"]) == (
        budget["id"], "Food", FOOD, "Food")
    assert (data["threshold_percent"], data["spent"], data["limit_amount"], data["currency"]) == (
        80, "85.00", "100.00", "EUR")
    assert (data["period_start"], data["period_end"]) == (budget["current"]["start_date"],
                                                          budget["current"]["end_date"])

    await world.feed.created("20.00")
    state = await world.wait_spent(budget["id"], "105.00")
    [exceeded] = await world.published("budget.exceeded", 1)
    assert (exceeded["data"]["threshold_percent"], exceeded["data"]["spent"]) == (100, "105.00")
    await world.published("budget.threshold_80", 1)  # still just the one
    assert (state["current"]["status"], state["current"]["remaining"], state["current"]["ratio"]) == (
        "exceeded", "-5.00", "1.0500")

    alerts = (await world.api.get("/api/budgets/alerts")).json()
    assert [(a["threshold_percent"], a["event_type"], a["spent"]) for a in alerts["items"]] == [
        (100, "budget.exceeded", "105.00"), (80, "budget.threshold_80", "85.00")]


async def test_deleting_an_expense_rearms_the_threshold_and_a_new_crossing_alerts_again(world: BudgetWorld):
    budget = await world.create_budget()
    await world.feed.created("50.00")
    groceries = await world.feed.created("35.00")
    await world.wait_spent(budget["id"], "85.00")
    await world.published("budget.threshold_80", 1)

    await world.feed.deleted(groceries.id)
    state = await world.wait_spent(budget["id"], "50.00")
    assert state["current"]["status"] == "ok"
    await world.feed.created("10.00")  # 60 %: still under, nothing fires
    await world.wait_spent(budget["id"], "60.00")
    await world.published("budget.threshold_80", 1)

    await world.feed.created("25.00")  # 85 % again: crossed anew
    await world.wait_spent(budget["id"], "85.00")
    second = (await world.published("budget.threshold_80", 2))[1]
    assert second["data"]["spent"] == "85.00"


def _second_instance(world: BudgetWorld) -> tuple[subprocess.Popen, str]:
    """Another budget_service process on the same database and queue, as a second replica would run."""
    stack, port = world.stack, free_port()
    env = {**os.environ, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING", "MONGODB_URL": stack.mongo_url,
           "MONGODB_DB": stack.database_name("budget_service"), "AMQP_URL": stack.amqp_url,
           "AMQP_EXCHANGE": stack.exchange, "AMQP_QUEUE_PREFIX": stack.queue_prefix,
           "JWT_PUBLIC_KEY": stack.keys.public_pem, "OUTBOX_POLL_SECONDS": "0.2",
           # the retry queues must be declared with the same delays as the stack's instance declared them
           "AMQP_RETRY_DELAYS_MS": json.dumps(stack.settings_for("budget_service", {}, {}).amqp_retry_delays_ms)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "budget_service.main:create_app", "--port", str(port),
         "--log-level", "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


async def consumers_on_queue(world: BudgetWorld) -> bool:
    connection = await aio_pika.connect(world.stack.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{world.stack.queue_prefix}budget_service", passive=True)
        return queue.declaration_result.consumer_count == 2


async def test_twenty_concurrent_expenses_crossing_80_percent_alert_exactly_once(world: BudgetWorld):
    process, url = _second_instance(world)
    try:
        async def replica_ready() -> bool:
            try:
                async with httpx.AsyncClient(base_url=url, timeout=2) as client:
                    return (await client.get("/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(replica_ready, timeout=30, message="the second budget_service instance")
        await wait_until(lambda: consumers_on_queue(world), message="both instances consuming the queue")
        budget = await world.create_budget(limit_amount="100.00")
        # 20 x 4.50 = 90.00: the crossing of 80 % happens somewhere among events handled at the same time,
        # by two instances with 16 in flight each.
        snapshots = [world.feed.snapshot("4.50") for _ in range(20)]
        await asyncio.gather(*[world.feed.send(ExpenseCreated(expense=s)) for s in snapshots])
        await world.wait_spent(budget["id"], "90.00", timeout=30)
        await world.published("budget.threshold_80", 1)
        await world.published("budget.exceeded", 0)
        alerts = (await world.api.get("/api/budgets/alerts", params={"budget_id": budget["id"]})).json()
        assert alerts["total"] == 1
    finally:
        process.terminate()
        process.wait(10)
