"""Expense-list section: GET /api/expenses through the gateway as a ratio of calling expense_service directly.

A real user (registered and logged in through user_service), 300 transactions over a year, the first page of
20 with its per-currency totals: the list a client opens most. Every service runs as its own process on
SecantusDB; wrk loads them from outside, direct and gateway rounds interleaved.
"""

import json
import os
import random
import secrets
import uuid
from datetime import date, timedelta

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.gateway import _delete_exchanges, _pem, median_of
from bench.tools import Children, WrkResult, children, ensure_binaries, run_wrk, say, table
from devtools.testing.infra import LOCAL_AMQP_URL, SecantusProcess

PATH = "/api/expenses?limit=20&sort=date&order=desc"
CONNECTIONS = (8, 32)
ROUNDS = 3
TRANSACTIONS = 300


def start_services(running: Children) -> tuple[dict[str, str], str]:
    mongo = SecantusProcess().start()
    running.cleanups.append(mongo.stop)
    amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    tag = f"benchlist{os.getpid()}"
    running.cleanups.append(lambda: _delete_exchanges(amqp_url, f"tracker.events.{tag}"))
    common = {"LOG_LEVEL": "WARNING", "ENVIRONMENT": "development", "MONGODB_URL": mongo.url, "AMQP_URL": amqp_url,
              "AMQP_EXCHANGE": f"tracker.events.{tag}", "AMQP_QUEUE_PREFIX": f"{tag}."}
    user = running.uvicorn("user_service", "user_service.main:create_app", env={
        **common, "SERVICE_NAME": "user_service", "MONGODB_DB": f"{tag}_user",
        "JWT_PRIVATE_KEY": _pem(Ed25519PrivateKey.generate(), private=True), "JWT_KEY_ID": "bench-1"})
    jwks = f"{user}/.well-known/jwks.json"
    expense = running.uvicorn("expense_service", "expense_service.main:create_app", env={
        **common, "SERVICE_NAME": "expense_service", "MONGODB_DB": f"{tag}_expense", "JWKS_URL": jwks})
    gateway = running.uvicorn("gateway", "gateway.main:create_app", env={
        "SERVICE_NAME": "gateway", "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development", "JWKS_URL": jwks,
        "SERVICE_URLS": json.dumps({"user_service": user, "expense_service": expense})})
    credentials = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                   "password": f"Bench-{secrets.token_urlsafe(12)}-9!"}
    with httpx.Client(timeout=20) as client:
        client.post(f"{user}/api/auth/register", json={**credentials, "name": "Bench"}).raise_for_status()
        token = client.post(f"{user}/api/auth/login", json=credentials).raise_for_status().json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(7)
        categories = ["food", "transport", "housing", "utilities", "entertainment", "shopping"]
        for i in range(TRANSACTIONS):
            client.post(f"{expense}/api/expenses", headers=headers, json={
                "type": "income" if i % 15 == 0 else "expense",
                "amount": f"{rng.randint(100, 250000) / 100:.2f}", "currency": rng.choice(["EUR", "EUR", "USD"]),
                "category": "salary" if i % 15 == 0 else rng.choice(categories),
                "description": f"purchase {i}",
                "occurred_date": str(date.today() - timedelta(days=rng.randint(0, 365))),
            }).raise_for_status()
    return {"direct": expense, "gateway": gateway}, token


def run(*, seconds: float = 6.0) -> None:
    binaries = ensure_binaries("wrk")
    with children() as running:
        urls, token = start_services(running)
        headers = {"Authorization": f"Bearer {token}"}
        for url in urls.values():
            run_wrk(binaries["wrk"], url + PATH, connections=8, seconds=1, headers=headers)  # warm-up
        results: dict[tuple[int, str], WrkResult] = {}
        for connections in CONNECTIONS:
            rounds: dict[str, list[WrkResult]] = {target: [] for target in urls}
            for _ in range(ROUNDS):
                for target, url in urls.items():
                    rounds[target].append(run_wrk(binaries["wrk"], url + PATH, connections=connections,
                                                  seconds=seconds / ROUNDS, headers=headers,
                                                  pid=running.pids.get(url)))
            for target in urls:
                results[(connections, target)] = median_of(rounds[target])
        rows = [[c, t, f"{r.requests_per_second:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.failures]
                for (c, t), r in results.items()]
        ratios = [[c, f"{results[(c, 'gateway')].requests_per_second / results[(c, 'direct')].requests_per_second:.2f}",
                   f"{results[(c, 'gateway')].p99_ms - results[(c, 'direct')].p99_ms:+.2f}"] for c in CONNECTIONS]
        print(f"\n=== expense list: GET {PATH} ({TRANSACTIONS} transactions, page of 20 with totals)\n"
              + table(["conns", "target", "req/s", "p50 ms", "p99 ms", "errors"], rows) + "\n\n"
              + table(["conns", "gateway/direct throughput", "added p99 ms"], ratios)
              + f"\nmedian of {ROUNDS} interleaved rounds per point; load average {os.getloadavg()[0]:.2f}",
              flush=True)
        if any(r.failures for r in results.values()):
            say("WARNING: some requests failed (errors column): those figures are not comparable")


if __name__ == "__main__":
    run()
