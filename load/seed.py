"""Data a scenario needs before the clock starts (not measured): a year of transactions per account.

Imported as CSV through expense_service (one request per account); analytics_service builds its read model
from the resulting expense.created events, so its seeding waits (with a deadline) until the model caught up.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import httpx

from load.accounts import Account
from load.data import csv_rows

SEED_ROWS = {"expense_service": 60, "analytics_service": 80, "gateway": 30}
EVENTS_PER_SECOND_AT_LEAST = 10  # the whole event path (outbox, broker, consumer) on a 2-core dev machine


def _auth(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


async def import_transactions(expense_url: str, accounts: list[Account], rows: int) -> int:
    """A year of transactions per account through POST /api/expenses/import; returns the rows imported each."""
    async with httpx.AsyncClient(base_url=expense_url, timeout=120) as client:
        async def one(account: Account) -> int:
            response = await client.post("/api/expenses/import", content=csv_rows(rows).encode(),
                                         headers={**_auth(account), "Content-Type": "text/csv"})
            if response.status_code != 200:
                raise RuntimeError(f"seeding failed: {response.status_code} {response.text[:300]}")
            return response.json()["imported"]
        imported = await asyncio.gather(*(one(a) for a in accounts))
    return min(imported)


async def wait_for_analytics(analytics_url: str, accounts: list[Account], expected: int) -> float:
    """Seconds until every account's read model holds `expected` transactions; raises at the deadline."""
    start = (date.today() - timedelta(days=400)).isoformat()
    started = time.monotonic()
    deadline = max(60.0, expected * len(accounts) / EVENTS_PER_SECOND_AT_LEAST)
    pending = list(accounts)
    async with httpx.AsyncClient(base_url=analytics_url, timeout=30) as client:
        while pending:
            still = []
            for account in pending:
                response = await client.get("/api/analytics/summary", params={"from": start}, headers=_auth(account))
                count = sum(c["count"] for c in response.json().get("currencies", [])) if response.is_success else 0
                if count < expected:
                    still.append(account)
            pending = still
            if pending and time.monotonic() - started > deadline:
                raise RuntimeError(f"analytics_service had not caught up after {deadline:.0f} s "
                                   f"({len(pending)} of {len(accounts)} accounts behind)")
            if pending:
                await asyncio.sleep(0.5)  # polling interval, bounded by the deadline above
    return time.monotonic() - started


async def _seed_expenses(urls: dict[str, str], accounts: list[Account], service: str) -> str:
    imported = await import_transactions(urls["expense_service"], accounts, SEED_ROWS[service])
    return f"seeded {imported} transactions per account through expense_service"


async def _seed_analytics(urls: dict[str, str], accounts: list[Account], service: str) -> str:
    imported = await import_transactions(urls["expense_service"], accounts, SEED_ROWS[service])
    waited = await wait_for_analytics(urls["analytics_service"], accounts, imported)
    return f"seeded {imported} transactions per account; analytics_service's read model caught up in {waited:.1f} s"


Seeder = Callable[[dict[str, str], list[Account], str], Awaitable[str]]
# service → (the services needed besides the target and user_service, the seeder)
SEEDERS: dict[str, tuple[tuple[str, ...], Seeder]] = {
    "expense_service": ((), _seed_expenses),
    "analytics_service": (("expense_service",), _seed_analytics),
    # Through the gateway, every service its scenario reads must be up.
    "gateway": (("expense_service", "budget_service", "notification_service", "analytics_service"), _seed_expenses),
}
