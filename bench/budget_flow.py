"""Budget section: event latency from an accepted POST /api/expenses to the stored threshold notification.

expense_service, budget_service and notification_service run as their own uvicorn processes on SecantusDB
and the local RabbitMQ, like production. Each measured event is a fresh user's expense of 85.00 against that
user's 100.00 budget, so every one is a first crossing of 80 %: expense.created → budget_service (ledger,
threshold check, outbox) → budget.threshold_80 → notification_service (in-app notification stored).
The clock starts when expense_service answers 201 (the expense and its event are committed) and stops when
the notification is visible in notification_service's database (polled every 5 ms). Events go one at a time:
this is the latency of the path, not its throughput. The yardstick, measured in the same run, is one bare
broker hop (publish with confirm → consumer callback); the path makes two hops and four transactions.

Run alone: `python -m bench.budget_flow [events]`.
"""

import asyncio
import itertools
import os
import statistics
import sys
import time
import uuid

import aio_pika
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo import AsyncMongoClient

from bench.tools import Children, children, say, table
from devtools.testing.infra import LOCAL_AMQP_URL, SecantusProcess, amqp_host_port
from devtools.testing.net import free_port, port_open
from shared.auth import mint_access_token

EVENTS, WARMUP = 200, 5
POLL_SECONDS, EVENT_TIMEOUT = 0.005, 30.0
SERVICES = ("expense_service", "budget_service", "notification_service")


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def start_service(running: Children, name: str, env: dict[str, str]) -> str:
    port = free_port()
    running.start(name, [sys.executable, "-m", "uvicorn", "--factory", f"{name}.main:create_app", "--host",
                         "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
                  env={**env, "SERVICE_NAME": name, "MONGODB_DB": f"{env['BENCH_TAG']}_{name}"}, port=port)
    return f"http://127.0.0.1:{port}"


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        deadline = time.monotonic() + 30
        while (await client.get(f"{url}/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit(f"[bench] {url} never became ready")
            await asyncio.sleep(0.1)


async def broker_hop_ms(amqp_url: str, count: int) -> list[float]:
    """One bare hop: publish with confirm on a topic exchange → a consumer's callback, one message at a time."""
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(f"bench.hop.{uuid.uuid4().hex[:8]}", aio_pika.ExchangeType.TOPIC,
                                                  auto_delete=True)
        # durable queue + persistent messages, like the services' queues: the confirm waits for the disk
        queue = await channel.declare_queue(f"bench.hop.{uuid.uuid4().hex[:8]}", durable=True)
        await queue.bind(exchange, routing_key="hop")
        arrived: asyncio.Queue[float] = asyncio.Queue()
        tag = await queue.consume(lambda message: arrived.put(time.perf_counter()), no_ack=True)
        hops = []
        for _ in range(count + WARMUP):
            sent = time.perf_counter()
            await exchange.publish(aio_pika.Message(b"{}", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key="hop")
            hops.append((await asyncio.wait_for(arrived.get(), 10) - sent) * 1000)
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        return hops[WARMUP:]


async def measure(urls: dict[str, str], mongo_url: str, tag: str, key: Ed25519PrivateKey,
                  events: int) -> dict[str, list[float]]:
    notifications = AsyncMongoClient(mongo_url, tz_aware=True)[f"{tag}_notification_service"]["notifications"]
    users = [f"bench-user-{uuid.uuid4().hex[:12]}" for _ in range(events + WARMUP)]
    headers = {}
    async with httpx.AsyncClient(timeout=20) as client:
        for user in users:  # every user's budget first, so set-up never overlaps a measurement
            token, _ = mint_access_token(private_key=key, kid="bench", user_id=user, issuer="expense-tracker",
                                         audience="expense-tracker-api", ttl_seconds=3600)
            headers[user] = {"Authorization": f"Bearer {token}"}
            created = await client.post(f"{urls['budget_service']}/api/budgets", headers=headers[user], json={
                "name": "Everything", "limit_amount": "100.00", "currency": "EUR"})
            if created.status_code != 201:
                raise SystemExit(f"[bench] budget create answered {created.status_code}: {created.text[:300]}")
        figures: dict[str, list[float]] = {"post": [], "stored": [], "created_at": []}
        measured: set[str] = set()
        for index, user in enumerate(users):
            started = time.time()
            answer = await client.post(f"{urls['expense_service']}/api/expenses", headers=headers[user], json={
                "type": "expense", "amount": "85.00", "currency": "EUR", "description": "bench"})
            accepted = time.time()
            if answer.status_code != 201:
                raise SystemExit(f"[bench] POST /api/expenses answered {answer.status_code}: {answer.text[:300]}")
            while (found := await notifications.find_one({"user_id": user, "type": "budget_threshold_80"})) is None:
                if time.time() - accepted > EVENT_TIMEOUT:
                    raise SystemExit(f"[bench] no threshold notification for {user} after {EVENT_TIMEOUT:g} s")
                await asyncio.sleep(POLL_SECONDS)
            stored = time.time()
            if index >= WARMUP:
                measured.add(user)
                figures["post"].append((accepted - started) * 1000)
                figures["stored"].append((stored - accepted) * 1000)
                figures["created_at"].append((found["created_at"].timestamp() - accepted) * 1000)
    figures.update(await stage_breakdown(mongo_url, tag, measured))
    return figures


STAGES = ("expense outbox: event written → published", "broker → budget handler starts",
          "budget handler: start → threshold event written", "budget outbox: commit + relay → published",
          "broker → notification stored")


async def stage_breakdown(mongo_url: str, tag: str, users: set[str]) -> dict[str, list[float]]:
    """Where the time goes, from the services' own records (millisecond timestamps): outboxes, processed events."""
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    expense = {r["envelope"]["user_id"]: r async for r in client[f"{tag}_expense_service"]["outbox"].find(
        {"routing_key": "expense.created"})}
    handled = {r["event_id"]: r["processed_at"] async for r in client[f"{tag}_budget_service"]["processed_events"]
               .find({"handler": "budget_service.handlers.on_expense_created"})}
    alerts = {r["envelope"]["user_id"]: r async for r in client[f"{tag}_budget_service"]["outbox"].find(
        {"routing_key": "budget.threshold_80"})}
    stored = {r["user_id"]: r["created_at"] async for r in client[f"{tag}_notification_service"]["notifications"]
              .find({"type": "budget_threshold_80"})}
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    for user in users:
        if not (user in expense and user in alerts and user in stored and expense[user]["_id"] in handled):
            continue
        marks = [expense[user]["created_at"], expense[user]["sent_at"], handled[expense[user]["_id"]],
                 alerts[user]["created_at"], alerts[user]["sent_at"], stored[user]]
        for name, (start, end) in zip(STAGES, itertools.pairwise(marks), strict=True):
            stages[name].append((end - start).total_seconds() * 1000)
    await client.close()
    return stages


async def delete_broker_objects(amqp_url: str, prefix: str, exchange: str) -> None:
    connection = await aio_pika.connect(amqp_url, timeout=5)
    async with connection:
        for name in [f"{prefix}{s}{suffix}" for s in SERVICES for suffix in ("", ".dlq", *[f".retry.{i}"
                                                                                          for i in range(1, 6)])]:
            channel = await connection.channel()
            try:
                await channel.queue_delete(name)
            except aio_pika.exceptions.AMQPError:
                pass
        channel = await connection.channel()
        for name in (exchange, f"{exchange}.dlx"):
            await channel.exchange_delete(name)


def report(figures: dict[str, list[float]], hops: list[float]) -> str:
    def row(label: str, values: list[float]) -> list[str]:
        return [label, f"{percentile(values, 50):.1f}", f"{percentile(values, 95):.1f}", f"{max(values):.1f}"]

    stored_p50, hop_p50 = percentile(figures["stored"], 50), percentile(hops, 50)
    return "\n".join([
        f"\n=== budget: event latency, accepted POST /api/expenses → stored threshold notification "
        f"({len(figures['stored'])} events, one at a time)",
        table(["measure", "p50 ms", "p95 ms", "max ms"], [
            row("POST /api/expenses (answered 201)", figures["post"]),
            row("accepted → notification visible (poll 5 ms)", figures["stored"]),
            row("accepted → notification created_at", figures["created_at"]),
            row("yardstick: one bare broker hop", hops),
        ]),
        "",
        "where the time goes (services' own timestamps, millisecond resolution):",
        table(["stage", "p50 ms", "p95 ms", "max ms"], [row(name, figures[name]) for name in STAGES
                                                         if figures.get(name)]),
        "",
        f"ratio: path p50 / bare-hop p50 = {stored_p50 / hop_p50:.1f} (the path: 2 hops, 4 transactions, "
        f"2 outbox relays)",
    ])


def run(*, seconds: float = 0.0, events: int = EVENTS) -> None:
    """The section entry point (`seconds` is unused: this section counts events, not time)."""
    amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    if not port_open(*amqp_host_port(amqp_url)):
        raise SystemExit(f"[bench] budget section needs RabbitMQ at {amqp_url}")
    say(f"budget section: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {events} events")
    key = Ed25519PrivateKey.generate()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    tag = f"bench{os.getpid()}budget"
    exchange = f"tracker.events.{tag}"
    with children() as running:
        mongo = SecantusProcess().start()
        running.cleanups.append(mongo.stop)
        running.cleanups.append(lambda: asyncio.run(delete_broker_objects(amqp_url, f"{tag}.", exchange)))
        env = {"ENVIRONMENT": "development", "LOG_LEVEL": "WARNING", "MONGODB_URL": mongo.url, "AMQP_URL": amqp_url,
               "AMQP_EXCHANGE": exchange, "AMQP_QUEUE_PREFIX": f"{tag}.", "JWT_PUBLIC_KEY": public_pem,
               "WEEKLY_REPORT_ENABLED": "false", "BENCH_TAG": tag}
        urls = {name: start_service(running, name, env) for name in SERVICES}

        async def session() -> tuple[dict[str, list[float]], list[float]]:
            for url in urls.values():
                await wait_ready(url)
            hops = await broker_hop_ms(amqp_url, events)
            return await measure(urls, mongo.url, tag, key, events), hops

        started = time.monotonic()
        figures, hops = asyncio.run(session())
    print(report(figures, hops), flush=True)
    say(f"budget section took {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.2f} "
        f"(other work on this machine shares the cores and moves every figure)")


def main() -> None:
    run(events=int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS)


if __name__ == "__main__":
    main()
