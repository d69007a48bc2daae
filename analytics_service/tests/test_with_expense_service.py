"""Against the real expense_service: its events feed the read model, and a rebuild reads its list API.

The read model's summary must agree with expense_service's own per-currency totals for the same range,
after creates, edits and deletes made through expense_service's API, and again after the read model is
lost and rebuilt from that API with the caller's token.
"""

import random
from datetime import date, timedelta

from analytics_service.tests.conftest import processed_count
from devtools.testing.waiting import wait_until

CATEGORIES = {"expense": ["food", "transport", "housing", "travel"], "income": ["salary", "gift"]}


def as_totals(summary: dict) -> dict[str, tuple[str, str, str, int]]:
    return {c["currency"]: (c["income"], c["expense"], c["net"], c["count"]) for c in summary["currencies"]}


async def test_read_model_agrees_with_expense_service_before_and_after_a_rebuild(stack):
    await stack.start("expense_service", "analytics_service")
    rng, today = random.Random(11), date.today()
    expenses = stack.client("expense_service", headers=stack.auth("u1"))
    analytics = stack.client("analytics_service", headers=stack.auth("u1"))
    created, events = [], 0
    for _ in range(40):
        kind = rng.choice(["expense", "expense", "expense", "income"])
        response = await expenses.post("/api/expenses", json={
            "type": kind, "amount": f"{rng.randint(100, 90000) / 100:.2f}", "currency": rng.choice(["EUR", "USD"]),
            "category": rng.choice(CATEGORIES[kind]), "description": "e2e",
            "occurred_date": (today - timedelta(days=rng.randint(0, 70))).isoformat()})
        assert response.status_code == 201, response.text
        created.append(response.json())
        events += 1
    for item in created[:8]:
        response = await expenses.patch(f"/api/expenses/{item['id']}", json={"amount": "1234.56"})
        assert response.status_code == 200, response.text
        events += 1
    for item in created[8:14]:
        assert (await expenses.delete(f"/api/expenses/{item['id']}")).status_code == 204
        events += 1

    async def applied() -> bool:
        return await processed_count(stack) >= events

    await wait_until(applied, timeout=30, message=f"{events} expense events applied")
    span = {"from": (today - timedelta(days=70)).isoformat(), "to": today.isoformat()}
    listed = (await expenses.get("/api/expenses", params={"date_from": span["from"], "date_to": span["to"],
                                                          "limit": 1})).json()
    truth = {t["currency"]: (t["income"], t["expense"], t["net"], t["count"]) for t in listed["totals"]}
    assert listed["total"] == 34
    assert as_totals((await analytics.get("/api/analytics/summary", params=span)).json()) == truth

    # The read model is lost; a rebuild from expense_service's list restores it.
    db = stack.runtime("analytics_service").database.db
    for collection in ("rollups", "transactions"):
        await db[collection].delete_many({"user_id": "u1"})
    assert (await analytics.get("/api/analytics/summary", params=span)).json()["currencies"] == []
    response = await analytics.post("/api/analytics/rebuild")
    assert response.status_code == 200, response.text
    assert response.json()["transactions"] == 34
    assert as_totals((await analytics.get("/api/analytics/summary", params=span)).json()) == truth
