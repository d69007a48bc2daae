"""/api/budgets as a user meets it: CRUD, pagination, ownership, validation, periods, rollover, alerts."""

from datetime import datetime, timedelta, timezone

from budget_service.periods import WeeklyPeriod, period_containing
from budget_service.tests.conftest import FOOD, TRANSPORT, USER, BudgetWorld, days_ago, today
from shared.events import UserRegistered


async def test_budgets_are_created_listed_paged_changed_and_deleted(world: BudgetWorld):
    first = await world.create_budget(name="Food", period={"kind": "monthly", "start_day": 25})
    await world.create_budget(name="Transport", category_id=TRANSPORT, period={"kind": "weekly",
                                                                               "start_weekday": "monday"})
    third = await world.create_budget(name="Year", category_id=None, limit_amount="1200",
                                      period={"kind": "yearly", "start_month": 4, "start_day": 6})
    assert first["thresholds"] == [80, 100] and first["rollover"] is False
    assert first["current"]["start_date"][8:] == "25" and first["limit_amount"] == "100.00"
    assert third["limit_amount"] == "1200.00" and third["current"]["start_date"][5:] == "04-06"

    page = (await world.api.get("/api/budgets", params={"limit": 2})).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert [b["name"] for b in page["items"]] == ["Year", "Transport"]
    rest = (await world.api.get("/api/budgets", params={"limit": 2, "offset": 2})).json()
    assert [b["name"] for b in rest["items"]] == ["Food"]
    by_category = (await world.api.get("/api/budgets", params={"category_id": TRANSPORT})).json()
    assert [b["name"] for b in by_category["items"]] == ["Transport"]

    changed = await world.api.patch(f"/api/budgets/{first['id']}", json={"name": "Groceries", "limit_amount": "150",
                                                                         "category_id": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["limit_amount"], changed.json()["category_id"]) == (
        "Groceries", "150.00", None)
    assert (await world.budget(first["id"]))["name"] == "Groceries"

    assert (await world.api.delete(f"/api/budgets/{first['id']}")).status_code == 204
    assert (await world.api.get(f"/api/budgets/{first['id']}")).status_code == 404
    assert (await world.api.get("/api/budgets")).json()["total"] == 2


async def test_another_users_budget_is_not_found_and_ids_are_checked(world: BudgetWorld):
    mine = await world.create_budget()
    stranger = world.client_for("stranger")
    for method, path in [("GET", f"/api/budgets/{mine['id']}"), ("PATCH", f"/api/budgets/{mine['id']}"),
                         ("DELETE", f"/api/budgets/{mine['id']}"), ("GET", f"/api/budgets/{mine['id']}/periods"),
                         ("GET", f"/api/budgets/alerts?budget_id={mine['id']}"), ("GET", "/api/budgets/not-an-id")]:
        response = await stranger.request(method, path, json={"name": "Mine now"} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await stranger.get("/api/budgets")).json()["total"] == 0
    assert (await world.budget(mine["id"]))["name"] == "Food"
    anonymous = world.stack.client("budget_service")
    assert (await anonymous.get("/api/budgets")).status_code == 401


async def test_bad_input_is_a_422_problem_naming_the_field(world: BudgetWorld):
    valid = {"name": "Food", "category_id": FOOD, "limit_amount": "100.00", "currency": "EUR"}
    cases = [
        ({"limit_amount": 100.5}, "limit_amount"),  # a binary float
        ({"limit_amount": "0"}, "limit_amount"),
        ({"limit_amount": "10.005"}, "limit_amount"),  # more decimals than EUR has
        ({"currency": "EURO"}, "currency"),
        ({"name": ""}, "name"),
        ({"category_id": "no spaces please"}, "category_id"),
        ({"thresholds": [80, 80]}, "thresholds"),
        ({"thresholds": [0]}, "thresholds.0"),
        ({"period": {"kind": "monthly", "start_day": 32}}, "period.monthly.start_day"),
        ({"period": {"kind": "fortnightly"}}, "period"),
        ({"period": {"kind": "custom", "start_date": str(today()), "end_date": str(today())}, "rollover": True},
         "rollover"),
        ({"start_date": str(today() + timedelta(days=1))}, "start_date"),
        ({"owner": "someone-else"}, "owner"),
    ]
    for change, field in cases:
        response = await world.api.post("/api/budgets", json=valid | change)
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (change, response.json())
    budget = await world.create_budget()
    for change, field in [({"name": None}, "name"), ({"limit_amount": "1.234"}, "limit_amount")]:
        response = await world.api.patch(f"/api/budgets/{budget['id']}", json=change)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    assert (await world.api.get("/api/budgets", params={"limit": 500})).status_code == 422
    assert (await world.api.get("/api/budgets")).json()["total"] == 1


async def test_rollover_carries_last_periods_unspent_amount_and_past_periods_never_alert(world: BudgetWorld):
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=15)
    rolling = await world.create_budget(name="Rolling", rollover=True, start_date=str(last_month))
    plain = await world.create_budget(name="Plain", limit_amount="50.00", start_date=str(last_month))
    old = await world.feed.created("60.00", on=last_month)
    await world.wait_processed(1)
    state = await world.budget(rolling["id"])
    current = state["current"]
    assert (current["carried_over"], current["effective_limit"], current["remaining"]) == ("40.00", "140.00",
                                                                                          "140.00")
    [past] = state["past_periods"]
    assert (past["spent"], past["effective_limit"], past["status"], state["past_periods_total"]) == (
        "60.00", "100.00", "ok", 1)
    assert (await world.budget(plain["id"]))["past_periods"][0]["status"] == "exceeded"

    await world.feed.created("112.00")  # 80 % of 140, not of 100
    await world.wait_spent(rolling["id"], "112.00")
    warnings = {e["data"]["budget_id"]: e["data"] for e in await world.published("budget.threshold_80", 2)}
    assert warnings[rolling["id"]]["limit_amount"] == "140.00"
    assert warnings[plain["id"]]["period_start"] == state["current"]["start_date"]  # not last month's
    exceeded = await world.published("budget.exceeded", 1)  # Plain: 112 of 50 this month; last month never alerts
    assert exceeded[0]["data"]["budget_id"] == plain["id"]

    await world.feed.deleted(old.id)  # last month unspent → the whole 100 carries over: 112 of 200
    await world.wait_processed(3)
    await world.wait_spent(rolling["id"], "112.00")
    current = (await world.budget(rolling["id"]))["current"]
    assert (current["effective_limit"], current["status"]) == ("200.00", "ok")


async def test_past_periods_are_listed_newest_first_and_paged(world: BudgetWorld):
    weekly = WeeklyPeriod(kind="weekly", start_weekday="monday")
    budget = await world.create_budget(period=weekly.model_dump(), start_date=str(days_ago(21)))
    await world.feed.created("7.00", on=period_containing(weekly, days_ago(21)).end)  # the first week's last day
    await world.wait_processed(1)
    state = await world.budget(budget["id"])
    assert state["past_periods_total"] == 3
    assert [p["spent"] for p in state["past_periods"]] == ["0.00", "0.00", "7.00"]
    page = (await world.api.get(f"/api/budgets/{budget['id']}/periods", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 3 and [p["spent"] for p in page["items"]] == ["0.00", "7.00"]
    assert page["items"][0]["end_date"] < state["current"]["start_date"]


async def test_custom_thresholds_and_a_custom_date_range(world: BudgetWorld):
    trip = await world.create_budget(name="Trip", category_id=None, thresholds=[120, 50, 80],
                                     period={"kind": "custom", "start_date": str(days_ago(3)),
                                             "end_date": str(today() + timedelta(days=3))})
    assert trip["thresholds"] == [50, 80, 120]
    assert (trip["current"]["start_date"], trip["current"]["end_date"]) == (str(days_ago(3)),
                                                                            str(today() + timedelta(days=3)))
    await world.feed.created("55.00")
    await world.feed.created("500.00", on=days_ago(4))  # before the range: does not count
    await world.wait_spent(trip["id"], "55.00")
    await world.wait_processed(2)
    await world.feed.created("30.00")
    await world.wait_spent(trip["id"], "85.00")
    await world.feed.created("40.00")
    await world.wait_spent(trip["id"], "125.00")
    await world.published("budget.threshold_80", 1)
    [exceeded] = await world.published("budget.exceeded", 1)
    assert exceeded["data"]["threshold_percent"] == 120
    alerts = (await world.api.get("/api/budgets/alerts", params={"budget_id": trip["id"], "limit": 2})).json()
    assert alerts["total"] == 3
    assert [(a["threshold_percent"], a["event_type"]) for a in alerts["items"]] == [
        (120, "budget.exceeded"), (80, "budget.threshold_80")]
    oldest = (await world.api.get("/api/budgets/alerts", params={"offset": 2})).json()["items"]
    assert [(a["threshold_percent"], a["event_type"]) for a in oldest] == [(50, None)]  # in-app only


async def test_a_retried_create_with_the_same_idempotency_key_creates_one_budget(world: BudgetWorld):
    body = {"name": "Food", "limit_amount": "100.00", "currency": "EUR"}
    key = {"Idempotency-Key": "create-food-1"}
    first = await world.api.post("/api/budgets", json=body, headers=key)
    again = await world.api.post("/api/budgets", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert (await world.api.get("/api/budgets")).json()["total"] == 1

    other = await world.api.post("/api/budgets", json={**body, "limit_amount": "200.00"}, headers=key)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    malformed = await world.api.post("/api/budgets", json=body, headers={"Idempotency-Key": "k" * 256})
    assert malformed.status_code == 422
    # Deleted since: the retry creates nothing again, and says why.
    assert (await world.api.delete(f"/api/budgets/{first.json()['id']}")).status_code == 204
    gone = await world.api.post("/api/budgets", json=body, headers=key)
    assert gone.status_code == 409 and "deleted" in gone.json()["detail"]
    assert (await world.api.get("/api/budgets")).json()["total"] == 0


async def test_today_is_the_users_own_day_once_user_events_tell_their_timezone(world: BudgetWorld):
    # At any moment one of these zones is on another calendar day than UTC (UTC+14 from 10:00 UTC on,
    # UTC-12 before 12:00 UTC).
    zone, shift = ("Pacific/Kiritimati", 1) if datetime.now(timezone.utc).hour >= 10 else ("Etc/GMT+12", -1)
    await world.feed.send(UserRegistered(user_id=USER, email="u@example.com", timezone=zone), user_id=USER)
    await world.wait_processed(1)
    weekly = await world.create_budget(period={"kind": "weekly"})  # starts on the user's today
    assert weekly["start_date"] == str(today() + timedelta(days=shift)), zone
