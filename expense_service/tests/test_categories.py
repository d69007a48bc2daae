"""Categories: the default set exactly once (lazily or on registration), user-defined ones, rename and delete."""

import asyncio

from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, client, db, publish_event, start
from shared.events import UserRegistered

CATEGORIES = "/api/categories"
DEFAULT_EXPENSE = {"food", "transport", "housing", "utilities", "health", "entertainment", "shopping", "education",
                   "travel", "other"}
DEFAULT_INCOME = {"salary", "freelance", "investment", "gift", "other"}


async def names(api, kind: str) -> set[str]:
    page = (await api.get(CATEGORIES, params={"kind": kind, "limit": 100})).json()
    return {c["name"] for c in page["items"]}


async def test_a_user_never_registered_here_gets_the_defaults_once_even_under_concurrent_first_requests(stack):
    await start(stack)
    api = client(stack, "newcomer")
    first_requests = [api.get(CATEGORIES, params={"limit": 100}) for _ in range(6)]
    first_requests += [api.post(EXPENSES, json={"type": "expense", "amount": "1.00", "category": "food"})
                       for _ in range(3)]
    answers = await asyncio.gather(*first_requests)
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    assert all(r.json()["total"] == 15 for r in answers[:6])
    assert await names(api, "expense") == DEFAULT_EXPENSE and await names(api, "income") == DEFAULT_INCOME
    assert await db(stack)["categories"].count_documents({"user_id": "newcomer"}) == 15
    page = (await api.get(CATEGORIES, params={"limit": 5, "offset": 5})).json()
    assert len(page["items"]) == 5 and page["total"] == 15 and all(c["is_default"] for c in page["items"])


async def test_user_registered_creates_the_defaults_and_they_are_not_duplicated_later(stack):
    await start(stack)
    await publish_event(stack, UserRegistered(user_id="reg", email="r@example.com"), user_id="reg")
    categories = db(stack)["categories"]
    await wait_until(lambda: categories.count_documents({"user_id": "reg"}), message="defaults seeded")
    assert await categories.count_documents({"user_id": "reg"}) == 15
    api = client(stack, "reg")
    assert (await api.get(CATEGORIES)).json()["total"] == 15


async def test_user_categories_create_rename_delete_with_their_rules(stack):
    await start(stack, max_categories_per_user=17)
    api = client(stack, "alice")
    coffee = await api.post(CATEGORIES, json={"kind": "expense", "name": "  Coffee   shops "})
    assert coffee.status_code == 201 and coffee.json()["name"] == "Coffee shops" and not coffee.json()["is_default"]
    coffee = coffee.json()
    taken = await api.post(CATEGORIES, json={"kind": "expense", "name": "coffee SHOPS"})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    assert (await api.post(CATEGORIES, json={"kind": "income", "name": "Coffee shops"})).status_code == 201
    full = await api.post(CATEGORIES, json={"kind": "expense", "name": "One too many"})
    assert full.status_code == 409  # at most 17 in this test
    assert (await api.post(CATEGORIES, json={"kind": "expense", "name": "x" * 65})).status_code == 422
    assert (await api.post(CATEGORIES, json={"kind": "transfer", "name": "x"})).status_code == 422

    # Referencing by name is case-insensitive; renaming keeps the transactions in the category.
    spent = (await api.post(EXPENSES, json={"type": "expense", "amount": "3.20", "category": "COFFEE SHOPS"})).json()
    assert spent["category_id"] == coffee["id"]
    renamed = await api.patch(f"{CATEGORIES}/{coffee['id']}", json={"name": "Cafés"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Cafés"
    assert (await api.get(f"{EXPENSES}/{spent['id']}")).json()["category"] == "Cafés"
    listed = (await api.get(EXPENSES, params={"category": "cafés"})).json()
    assert [t["id"] for t in listed["items"]] == [spent["id"]]
    assert (await api.patch(f"{CATEGORIES}/{coffee['id']}", json={"name": "FOOD"})).status_code == 409

    # Delete is refused while a transaction uses the category, allowed once it is moved.
    refused = await api.delete(f"{CATEGORIES}/{coffee['id']}")
    assert refused.status_code == 409 and "1 transaction" in refused.json()["detail"]
    await api.patch(f"{EXPENSES}/{spent['id']}", json={"category": "food"})
    assert (await api.delete(f"{CATEGORIES}/{coffee['id']}")).status_code == 204
    assert (await api.get(f"{CATEGORIES}/{coffee['id']}")).status_code == 404

    # A deleted default stays deleted (the defaults are created once, not on every request).
    travel = next(c for c in (await api.get(CATEGORIES, params={"kind": "expense", "limit": 100})).json()["items"]
                  if c["name"] == "travel")
    assert (await api.delete(f"{CATEGORIES}/{travel['id']}")).status_code == 204
    assert "travel" not in await names(api, "expense")
    assert (await api.post(EXPENSES, json={"type": "expense", "amount": "1.00", "category": "travel"})
            ).status_code == 422
