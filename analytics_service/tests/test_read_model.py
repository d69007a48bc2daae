"""The read model against the real broker: ordering, redelivery, erasure, and whose "today" counts."""

import asyncio
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from analytics_service.rollups_top import TOP_KEPT, TOP_SERVED
from analytics_service.tests.conftest import processed_count, snapshot
from analytics_service.tests.oracle import Oracle
from devtools.testing.waiting import wait_until
from shared.events import (
    Envelope,
    Event,
    ExpenseCreated,
    ExpenseDeleted,
    ExpenseUpdated,
    UserDeleted,
    UserProfileUpdated,
    UserRegistered,
)


def envelope_at(event: Event, user_id: str, moment: datetime) -> Envelope:
    return Envelope.wrap(event, producer="expense_service", user_id=user_id).model_copy(update={"occurred_at": moment})


async def summary_of(api, day: date) -> dict:
    response = await api.get("/api/analytics/summary", params={"from": day.isoformat(), "to": day.isoformat()})
    assert response.status_code == 200, response.text
    return response.json()


async def caught_up(stack, count: int) -> None:
    async def enough() -> bool:
        return await processed_count(stack) >= count

    await wait_until(enough, timeout=20, message=f"{count} events applied")


async def test_stale_and_out_of_order_events_cannot_revert_or_resurrect(analytics, producer):
    stack, day = analytics, date.today() - timedelta(days=2)
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    created = snapshot("u1", amount="10.00", occurred_date=day)
    edited = created.model_copy(update={"amount": created.amount + 5})
    t0 = datetime.now(timezone.utc)
    # A transaction edited then deleted, delivered newest first; another edited, delivered edit first.
    gone = [envelope_at(ExpenseCreated(expense=created), "u1", t0),
            envelope_at(ExpenseUpdated(before=created, after=edited), "u1", t0 + timedelta(seconds=1)),
            envelope_at(ExpenseDeleted(expense=edited), "u1", t0 + timedelta(seconds=2))]
    kept_before = snapshot("u1", amount="3.00", occurred_date=day, category_id="c-bus", category_name="Bus")
    kept_after = kept_before.model_copy(update={"amount": kept_before.amount * 7})
    kept = [envelope_at(ExpenseCreated(expense=kept_before), "u1", t0),
            envelope_at(ExpenseUpdated(before=kept_before, after=kept_after), "u1", t0 + timedelta(seconds=1))]
    for envelope in [*reversed(gone), *reversed(kept)]:
        await producer.publish_raw(envelope)
    await caught_up(stack, 5)
    for envelope in gone + kept:  # and every one of them redelivered
        await producer.publish_raw(envelope)
    # A marker event published after the redeliveries: once it is applied, they have been handled too.
    marker = snapshot("u1", amount="1.00", occurred_date=day - timedelta(days=1))
    await producer.publish(ExpenseCreated(expense=marker), "u1")
    await caught_up(stack, 6)

    [eur] = (await summary_of(api, day))["currencies"]
    assert (eur["expense"], eur["expense_count"]) == ("21.00", 1)
    assert eur["categories"] == [{"category_id": "c-bus", "category_name": "Bus", "amount": "21.00", "count": 1,
                                  "share": "1.0000"}]
    top = (await api.get("/api/analytics/top", params={"from": day.isoformat(), "to": day.isoformat()})).json()
    assert [item["id"] for item in top["currencies"][0]["items"]] == [kept_before.id]


async def test_revisions_order_a_transactions_events_even_when_their_clocks_disagree(analytics, producer):
    stack, day = analytics, date.today() - timedelta(days=3)
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    created = snapshot("u1", amount="10.00", occurred_date=day).model_copy(update={"revision": 1})
    second = created.model_copy(update={"amount": Decimal("20.00"), "revision": 2})
    third = created.model_copy(update={"amount": Decimal("30.00"), "category_id": "c-bus", "category_name": "Bus",
                                       "revision": 3})
    t0 = datetime.now(timezone.utc)
    # The producer's clock stepped back between the two updates, and they arrive in reverse order.
    await producer.publish_raw(envelope_at(ExpenseCreated(expense=created), "u1", t0))
    await caught_up(stack, 1)
    await producer.publish_raw(envelope_at(ExpenseUpdated(before=second, after=third), "u1", t0 + timedelta(seconds=1)))
    await caught_up(stack, 2)
    await producer.publish_raw(envelope_at(ExpenseUpdated(before=created, after=second), "u1",
                                           t0 + timedelta(seconds=2)))
    await caught_up(stack, 3)
    [eur] = (await summary_of(api, day))["currencies"]
    assert (eur["expense"], eur["expense_count"], [c["category_name"] for c in eur["categories"]]) == (
        "30.00", 1, ["Bus"])

    # The delete carries the next revision: it wins over its own older clock, and a late revision 3 stays out.
    gone = third.model_copy(update={"revision": 4})
    await producer.publish_raw(envelope_at(ExpenseDeleted(expense=gone), "u1", t0 + timedelta(milliseconds=500)))
    await caught_up(stack, 4)
    assert (await summary_of(api, day))["currencies"] == []
    await producer.publish_raw(envelope_at(ExpenseUpdated(before=second, after=third), "u1", t0 + timedelta(seconds=9)))
    await caught_up(stack, 5)
    assert (await summary_of(api, day))["currencies"] == []


async def test_an_edit_moves_money_between_days_categories_currencies_and_types(analytics, producer):
    stack, day, other_day = analytics, date(2024, 3, 31), date(2024, 4, 1)
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    before = snapshot("u1", amount="40.00", occurred_date=day)
    after = before.model_copy(update={"occurred_date": other_day, "currency": "USD", "type": "income",
                                      "category_id": "c-salary", "category_name": "Salary"})
    await producer.publish(ExpenseCreated(expense=before), "u1")
    await producer.publish(ExpenseUpdated(before=before, after=after), "u1")
    await caught_up(stack, 2)
    assert (await summary_of(api, day))["currencies"] == []
    [usd] = (await summary_of(api, other_day))["currencies"]
    assert (usd["currency"], usd["income"], usd["expense"], usd["categories"]) == ("USD", "40.00", "0.00", [])
    months = await api.get("/api/analytics/trends", params={"granularity": "month", "from": "2024-03-01",
                                                            "to": "2024-04-30"})
    [series] = months.json()["series"]
    assert [(p["period"], p["income"], p["expense"]) for p in series["points"]] == [
        ("2024-03", "0.00", "0.00"), ("2024-04", "40.00", "0.00")]


async def test_user_deleted_erases_everything_and_late_events_stay_out(analytics, producer):
    stack, day = analytics, date.today()
    mine = snapshot("gone", amount="9.99", occurred_date=day)
    theirs = snapshot("stays", amount="5.00", occurred_date=day)
    await producer.publish(ExpenseCreated(expense=mine), "gone")
    await producer.publish(ExpenseCreated(expense=theirs), "stays")
    await producer.publish(UserDeleted(user_id="gone"), "gone")
    late = snapshot("gone", amount="1.00", occurred_date=day)
    await producer.publish(ExpenseCreated(expense=late), "gone")
    await caught_up(stack, 4)

    db = stack.runtime("analytics_service").database.db
    for collection in ("rollups", "transactions"):
        assert await db[collection].count_documents({"user_id": "gone"}) == 0
    gone = stack.client("analytics_service", headers=stack.auth("gone"))
    assert (await summary_of(gone, day))["currencies"] == []
    stays = stack.client("analytics_service", headers=stack.auth("stays"))
    assert (await summary_of(stays, day))["currencies"][0]["expense"] == "5.00"


async def test_today_and_this_month_are_judged_in_the_users_timezone(analytics, producer):
    stack = analytics
    # Kiritimati is UTC+14, Pago Pago UTC-11: at most hours of the day their calendars disagree.
    await producer.publish(UserRegistered(user_id="u1", email="u1@example.com", timezone="Pacific/Kiritimati"), "u1")
    kiritimati_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    await producer.publish(ExpenseCreated(expense=snapshot("u1", amount="2.00", occurred_date=kiritimati_today,
                                                           timezone_name="Pacific/Kiritimati")), "u1")
    await caught_up(stack, 2)
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    insights = (await api.get("/api/analytics/insights")).json()
    assert (insights["as_of_date"], insights["timezone"]) == (kiritimati_today.isoformat(), "Pacific/Kiritimati")
    summary = (await api.get("/api/analytics/summary")).json()
    assert summary["from_date"] == kiritimati_today.replace(day=1).isoformat()
    assert summary["currencies"][0]["expense"] == "2.00"

    await producer.publish(UserProfileUpdated(user_id="u1", email="u1@example.com", timezone="Pacific/Pago_Pago"),
                           "u1")
    await caught_up(stack, 3)
    insights = (await api.get("/api/analytics/insights")).json()
    pago_today = datetime.now(ZoneInfo("Pacific/Pago_Pago")).date()
    assert (insights["as_of_date"], insights["timezone"]) == (pago_today.isoformat(), "Pacific/Pago_Pago")

    # Without a profile event, the timezone the transactions carry is used.
    await producer.publish(ExpenseCreated(expense=snapshot("u2", amount="1.00", occurred_date=pago_today,
                                                           timezone_name="Asia/Kolkata")), "u2")
    await caught_up(stack, 4)
    other = stack.client("analytics_service", headers=stack.auth("u2"))
    assert (await other.get("/api/analytics/insights")).json()["timezone"] == "Asia/Kolkata"


async def test_weekly_trends_across_an_iso_year_with_53_weeks_equal_brute_force(analytics, producer):
    stack = analytics
    days = [date(2026, 12, 27), date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 3), date(2027, 1, 4),
            date(2027, 1, 10), date(2027, 1, 13)]
    live = [snapshot("u1", amount=f"{n + 1}.25", occurred_date=day, type="income" if n == 3 else "expense")
            for n, day in enumerate(days)]
    for item in live:
        await producer.publish(ExpenseCreated(expense=item), "u1")
    await caught_up(stack, len(live))
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    for start, end in ((date(2026, 12, 23), date(2027, 1, 12)), (date(2026, 12, 28), date(2027, 1, 10))):
        response = await api.get("/api/analytics/trends", params={"granularity": "week", "from": start.isoformat(),
                                                                  "to": end.isoformat()})
        assert response.json() == Oracle(live, date.today(), "UTC").trends("week", start, end)


async def test_top_stays_exact_for_a_busy_month_after_its_largest_expenses_are_deleted(analytics, producer):
    stack, month = analytics, date(2024, 7, 1)
    live = [snapshot("u1", amount=f"{n + 1}.00", occurred_date=month + timedelta(days=n % 31))
            for n in range(TOP_KEPT + 20)]
    await asyncio.gather(*[producer.publish_raw(Envelope.wrap(ExpenseCreated(expense=item), producer="expense_service",
                                                              user_id="u1")) for item in live])
    await caught_up(stack, len(live))
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    ranges = ((date(2024, 7, 1), date(2024, 7, 31), 100), (date(2024, 6, 20), date(2024, 7, 3), 20),
              (date(2024, 7, 10), date(2024, 8, 5), 100))

    async def top_equals_brute_force() -> None:
        oracle = Oracle(live, date.today(), "UTC")
        for start, end, limit in ranges:
            response = await api.get("/api/analytics/top", params={"from": start.isoformat(), "to": end.isoformat(),
                                                                   "limit": limit})
            assert response.json() == oracle.top(limit, start, end), (start, end, limit)

    # The list holds the 150 largest of 170: July 1-3 has only 15 of them listed, so those days are read.
    await top_equals_brute_force()
    # Delete the 71 largest: the month's list falls below 100 while the month has more, and is refilled.
    largest = sorted(live, key=lambda item: -item.amount)[:TOP_KEPT - TOP_SERVED + 21]
    for item in largest:
        await producer.publish_raw(Envelope.wrap(ExpenseDeleted(expense=item), producer="expense_service",
                                                 user_id="u1"))
    await caught_up(stack, len(live) + len(largest))
    live = [item for item in live if item not in largest]
    await top_equals_brute_force()
    # Refilled, the month's list again holds all its (now 99) expenses: /top needs no transaction reads.
    stored = await stack.runtime("analytics_service").database.db["rollups"].find_one({"_id": "u1|top|2024-07"})
    assert stored["expense_counts"] == [len(live)] and len(stored["transaction_ids"]) == len(live)
