"""Transactions over real HTTP: CRUD with its events, Idempotency-Key, isolation between users, bad input."""

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, client, db, publish_event, start
from shared.events import UserProfileUpdated, UserRegistered

LUNCH = {"type": "expense", "amount": "12.50", "currency": "USD", "category": "Food", "description": "Lunch",
         "occurred_date": "2024-03-05", "payment_method": "card", "tags": ["Work", "work", "team"], "notes": "n"}


async def test_create_update_delete_publish_created_updated_deleted_events(stack):
    await start(stack)
    spy = await stack.spy("expense.*")
    api = client(stack, "alice")

    r = await api.post(EXPENSES, json=LUNCH)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{EXPENSES}/{created['id']}"
    assert created["amount"] == "12.50" and created["currency"] == "USD"
    assert created["category"] == "food" and created["category_id"]
    assert created["tags"] == ["work", "team"]  # lower-cased, duplicates dropped
    assert (await api.get(f"{EXPENSES}/{created['id']}")).json() == created

    [event] = await spy.wait_for("expense.created")
    assert event["user_id"] == "alice" and event["producer"] == "expense_service"
    snap = event["data"]["expense"]
    assert snap["id"] == created["id"] and snap["amount"] == "12.50" and snap["category_name"] == "food"
    assert snap["occurred_date"] == "2024-03-05" and snap["timezone"] == "UTC" and snap["type"] == "expense"
    assert snap["revision"] == 1 and snap["updated_at"] == created["updated_at"]

    r = await api.patch(f"{EXPENSES}/{created['id']}", json={"amount": "20", "category": "transport",
                                                              "payment_method": None})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["amount"] == "20.00" and updated["category"] == "transport" and updated["payment_method"] is None
    assert updated["updated_at"] > created["updated_at"] and updated["created_at"] == created["created_at"]
    [event] = await spy.wait_for("expense.updated")
    before, after = event["data"]["before"], event["data"]["after"]
    assert (before["amount"], before["category_name"], before["payment_method"]) == ("12.50", "food", "card")
    assert (after["amount"], after["category_name"], after["payment_method"]) == ("20.00", "transport", None)
    assert (before["revision"], after["revision"]) == (1, 2) and after["updated_at"] > before["updated_at"]

    # A PATCH that changes nothing publishes nothing.
    assert (await api.patch(f"{EXPENSES}/{created['id']}", json={"amount": "20.00"})).status_code == 200

    assert (await api.delete(f"{EXPENSES}/{created['id']}")).status_code == 204
    [event] = await spy.wait_for("expense.deleted")
    assert event["data"]["expense"]["id"] == created["id"] and event["data"]["expense"]["amount"] == "20.00"
    assert event["data"]["expense"]["revision"] == 3  # a delete is the transaction's last change
    assert (await api.get(f"{EXPENSES}/{created['id']}")).status_code == 404
    assert (await api.delete(f"{EXPENSES}/{created['id']}")).status_code == 404
    assert len(spy.of_type("expense.updated")) == 1 and len(spy.of_type("expense.created")) == 1


async def test_retried_create_with_idempotency_key_returns_the_original_and_creates_once(stack):
    await start(stack)
    spy = await stack.spy("expense.created")
    api = client(stack, "alice")

    first = await api.post(EXPENSES, json=LUNCH, headers={"Idempotency-Key": "pay-2024-03-05-lunch"})
    retry = await api.post(EXPENSES, json=LUNCH, headers={"Idempotency-Key": "pay-2024-03-05-lunch"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"

    # Concurrent retries of a new key: one transaction, every answer the same.
    racing = await asyncio.gather(*[api.post(EXPENSES, json={**LUNCH, "amount": "3.00"},
                                             headers={"Idempotency-Key": "race"}) for _ in range(5)])
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["id"] for r in racing}) == 1

    other_body = await api.post(EXPENSES, json={**LUNCH, "amount": "99.00"},
                                headers={"Idempotency-Key": "pay-2024-03-05-lunch"})
    assert other_body.status_code == 422
    assert other_body.headers["content-type"] == "application/problem+json"
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"

    # Keys belong to their user: bob's identical key creates bob's own transaction.
    bob = await client(stack, "bob").post(EXPENSES, json=LUNCH, headers={"Idempotency-Key": "pay-2024-03-05-lunch"})
    assert bob.status_code == 201 and bob.json()["id"] != first.json()["id"]

    listed = (await api.get(EXPENSES)).json()
    assert listed["total"] == 2
    assert {t["id"] for t in listed["items"]} == {first.json()["id"], racing[0].json()["id"]}
    await spy.wait_for("expense.created", 3)
    sentinel = (await api.post(EXPENSES, json={**LUNCH, "description": "sentinel"})).json()
    events = await spy.wait_for("expense.created", 4)
    await wait_until(lambda: any(e["data"]["expense"]["id"] == sentinel["id"] for e in spy.of_type("expense.created")))
    assert len(events) == 4  # alice's two, bob's one, the sentinel: no retry published twice
    assert sum(1 for e in events if e["data"]["expense"]["id"] == first.json()["id"]) == 1

    too_long = await api.post(EXPENSES, json=LUNCH, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 422


async def test_another_users_or_malformed_ids_are_404_and_identity_headers_are_ignored(stack):
    await start(stack)
    alice, bob = client(stack, "alice"), client(stack, "bob")
    expense = (await alice.post(EXPENSES, json=LUNCH)).json()
    category = (await alice.post("/api/categories", json={"kind": "expense", "name": "Coffee"})).json()

    for path in (f"{EXPENSES}/{expense['id']}", f"/api/categories/{category['id']}",
                 f"{EXPENSES}/not-an-id", "/api/categories/123", f"{EXPENSES}/{'f' * 24}"):
        assert (await bob.get(path)).status_code == 404, path
        assert (await bob.patch(path, json={"name": "x"} if "categories" in path else {"amount": "1"})
                ).status_code == 404, path
        assert (await bob.delete(path)).status_code == 404, path
    assert (await alice.get(f"{EXPENSES}/{expense['id']}")).json()["amount"] == "12.50"  # untouched
    assert (await alice.get(f"/api/categories/{category['id']}")).json()["name"] == "Coffee"

    # Bob cannot file his expense under alice's category id.
    r = await bob.post(EXPENSES, json={**LUNCH, "category": category["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category"

    # Identity comes from the token only: a forged X-User-Id changes nothing.
    forged = {"X-User-Id": "alice", "X-User": "alice"}
    assert (await bob.get(EXPENSES, headers=forged)).json()["total"] == 0
    assert (await bob.get(f"{EXPENSES}/{expense['id']}", headers=forged)).status_code == 404
    made = (await bob.post(EXPENSES, json=LUNCH, headers=forged)).json()
    assert (await alice.get(EXPENSES)).json()["total"] == 1
    assert (await bob.get(f"{EXPENSES}/{made['id']}")).status_code == 200

    anonymous = stack.client("expense_service")
    assert (await anonymous.get(EXPENSES, headers={"X-User-Id": "alice"})).status_code == 401


async def test_bad_input_is_a_422_problem_naming_the_field(stack):
    await start(stack)
    api = client(stack, "alice")
    cases = [
        ({"amount": "12.345"}, "amount"),  # EUR has 2 decimals
        ({"amount": 12.5}, "amount"),  # a binary float
        ({"amount": "1.5", "currency": "JPY"}, "amount"),
        ({"amount": "0"}, "amount"), ({"amount": "-5.00"}, "amount"), ({"amount": "NaN"}, "amount"),
        ({"amount": "1e20"}, "amount"), ({"amount": "twelve"}, "amount"),
        ({"currency": "ABC"}, "currency"), ({"currency": 978}, "currency"),
        ({"surprise": True}, "surprise"),
        ({"description": "x" * 501}, "description"), ({"notes": "x" * 2001}, "notes"),
        ({"payment_method": "p" * 51}, "payment_method"),
        ({"type": "transfer"}, "type"), ({"occurred_date": "2024-02-30"}, "occurred_date"),
        ({"occurred_date": "1066-10-14"}, "occurred_date"),
        ({"tags": ["t"] * 21}, "tags"), ({"tags": ["a,b"]}, "tags.0"), ({"tags": ["x" * 41]}, "tags.0"),
        ({"category": "no such category"}, "category"), ({"category": "salary"}, "category"),
        ({"category": "c" * 65}, "category"),
    ]
    base = {"type": "expense", "amount": "10.00", "currency": "EUR"}
    for override, field in cases:
        r = await api.post(EXPENSES, json={**base, **override})
        assert r.status_code == 422, (override, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (override, r.json())
    r = await api.post(EXPENSES, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422

    expense = (await api.post(EXPENSES, json={**base, "amount": "10.50"})).json()
    patches = [({"amount": None}, "amount"), ({"type": "income"}, "category"), ({"currency": "JPY"}, "amount"),
               ({"id": "x"}, "id"), ({"description": "x" * 501}, "description")]
    for body, field in patches:
        r = await api.patch(f"{EXPENSES}/{expense['id']}", json=body)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    assert (await api.get(f"{EXPENSES}/{expense['id']}")).json()["amount"] == "10.50"

    for params, field in [({"amount_min": "abc"}, "amount_min"), ({"limit": 1000}, "limit"),
                          ({"sort": "rand"}, "sort"), ({"date_from": "2024-13-01"}, "date_from"),
                          ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_to"),
                          ({"category": "unknown"}, "category"), ({"q": "q" * 101}, "q")]:
        r = await api.get(EXPENSES, params=params)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (params, r.text)
    for params in ({"amount_min": "1e-6000"}, {"amount_max": "1." + "1" * 40}, {"q": "[(*+?"},
                   {"date_from": "0001-01-01", "date_to": "9999-12-31"}):
        assert (await api.get(EXPENSES, params=params)).status_code == 200, params


async def test_a_currency_sent_as_a_json_array_or_object_is_a_422_naming_it_not_a_500(stack):
    await start(stack)
    api = client(stack, "alice")
    expense = (await api.post(EXPENSES, json={"type": "expense", "amount": "10.00"})).json()
    for currency in ([], ["EUR"], {}, {"$ne": ""}):
        for method, path, body in [("POST", EXPENSES, {"type": "expense", "amount": "1.00", "currency": currency}),
                                   ("PATCH", f"{EXPENSES}/{expense['id']}", {"currency": currency}),
                                   ("POST", "/api/groups", {"name": "Trip", "currency": currency})]:
            r = await api.request(method, path, json=body)
            assert r.status_code == 422, (method, path, currency, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["currency"], r.text


async def test_default_currency_and_timezone_follow_the_newest_profile_event(stack):
    await start(stack)
    spy = await stack.spy("expense.created")
    api = client(stack, "kenji")
    # Unknown user: the configured fallback.
    r = await api.post(EXPENSES, json={"type": "expense", "amount": "5.00"})
    assert r.json()["currency"] == "EUR"

    registered = await publish_event(stack, UserRegistered(user_id="kenji", email="k@example.com",
                                                           default_currency="JPY", timezone="Asia/Tokyo"),
                                     user_id="kenji")
    profiles = db(stack)["profiles"]
    await wait_until(lambda: profiles.count_documents({"user_id": "kenji", "default_currency": "JPY"}),
                     message="profile stored")
    r = await api.post(EXPENSES, json={"type": "expense", "amount": "1500"})
    assert r.status_code == 201 and r.json()["currency"] == "JPY"
    assert r.json()["occurred_date"] == datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert (await api.post(EXPENSES, json={"type": "expense", "amount": "12.50"})).status_code == 422
    events = await spy.wait_for("expense.created", 2)
    assert events[-1]["data"]["expense"]["timezone"] == "Asia/Tokyo"

    await publish_event(stack, UserProfileUpdated(user_id="kenji", email="k@example.com", default_currency="USD",
                                                  timezone="Europe/Paris"), user_id="kenji")
    await wait_until(lambda: profiles.count_documents({"user_id": "kenji", "default_currency": "USD"}),
                     message="profile updated")
    # The older registration delivered again (as a new message): the newer profile stays.
    stale = registered.model_copy(update={"event_id": "redelivered-registration"})
    await publish_event(stack, UserRegistered(user_id="kenji", email="k@example.com"), user_id="kenji",
                        envelope=stale)
    processed = db(stack)["processed_events"]
    await wait_until(lambda: processed.count_documents({"event_id": "redelivered-registration"}),
                     message="stale event handled")
    r = await api.post(EXPENSES, json={"type": "expense", "amount": "12.50"})
    assert r.status_code == 201 and r.json()["currency"] == "USD"
