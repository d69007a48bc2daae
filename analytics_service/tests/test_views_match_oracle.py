"""1,000 random transactions through the real broker: every view equals a brute-force oracle.

Two users in two timezones, two currencies (EUR with cents, JPY without), several categories, edits and
deletes, a few future-dated and a few outsized expenses. Events are published concurrently through the
real broker (some through a producer's outbox, some as hand-made envelopes sent newest first) and a
tenth are redelivered; once the read model has caught up, every view is compared whole.
"""

import asyncio
import itertools
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from analytics_service.tests.conftest import Producer, processed_count, snapshot
from analytics_service.tests.oracle import Oracle, first_of_month
from devtools.testing.waiting import wait_until
from shared.events import (
    Envelope,
    Event,
    ExpenseCreated,
    ExpenseDeleted,
    ExpenseUpdated,
    TransactionSnapshot,
    UserRegistered,
)

USERS = {"user-auckland": "Pacific/Auckland", "user-la": "America/Los_Angeles"}
CATEGORIES = [("c-groceries", "Groceries"), ("c-rent", "Rent"), ("c-dining", "Dining"), ("c-travel", "Travel"),
              ("c-health", "Health"), ("c-salary", "Salary"), (None, "")]
TRANSACTIONS = 1000
HISTORY_DAYS = 125


def today_in(zone: str) -> date:
    return datetime.now(timezone.utc).astimezone(ZoneInfo(zone)).date()


def random_state(rng: random.Random, user_id: str, zone: str, today: date, base: TransactionSnapshot | None = None,
                 outlier: bool = False) -> TransactionSnapshot:
    currency = rng.choice(["EUR", "EUR", "JPY"])
    amount = Decimal(rng.randint(1, 30_000)) / 100 if currency == "EUR" else Decimal(rng.randint(1, 30_000))
    if outlier:
        amount *= 40
    category_id, name = rng.choice(CATEGORIES)
    day = today - timedelta(days=rng.randint(-3, HISTORY_DAYS))  # a few future-dated ones too
    fields = {"amount": str(amount), "currency": currency, "type": "income" if rng.random() < 0.2 else "expense",
              "category_id": category_id, "category_name": name, "occurred_date": day, "timezone_name": zone,
              "description": rng.choice(["", "weekly shop", "=cmd|' /C calc'!A0", "taxi"])}
    if outlier:
        fields.update(type="expense", occurred_date=today - timedelta(days=rng.randint(0, 80)))
    return snapshot(user_id, id=base.id if base else None, **fields)


def lifecycle(rng: random.Random, user_id: str, zone: str, today: date, outlier: bool) -> list[tuple[Event, bool]]:
    """(event, is the final state deleted) in the order they happened."""
    states = [random_state(rng, user_id, zone, today, outlier=outlier)]
    for _ in range(rng.choices([0, 1, 2], weights=[75, 20, 5])[0]):
        changed = random_state(rng, user_id, zone, today, base=states[0])
        # Often only one field changes, like a real edit.
        keep = rng.choice(["amount", "category", "date", None])
        if keep == "amount":
            changed = states[-1].model_copy(update={"amount": changed.amount, "currency": changed.currency})
        elif keep == "category":
            changed = states[-1].model_copy(update={"category_id": changed.category_id,
                                                    "category_name": changed.category_name})
        elif keep == "date":
            changed = states[-1].model_copy(update={"occurred_date": changed.occurred_date})
        states.append(changed)
    events: list[Event] = [ExpenseCreated(expense=states[0])]
    events += [ExpenseUpdated(before=a, after=b) for a, b in itertools.pairwise(states)]
    if rng.random() < 0.12:
        events.append(ExpenseDeleted(expense=states[-1]))
    return events


def final_state(events: list[Event]) -> TransactionSnapshot | None:
    last = events[-1]
    if isinstance(last, ExpenseDeleted):
        return None
    return last.after if isinstance(last, ExpenseUpdated) else last.expense


async def publish_everything(producer: Producer, histories: list[tuple[str, list[Event]]],
                             rng: random.Random) -> list[Envelope]:
    """Every transaction's events in its own task, all at once. A fifth go through the producer's outbox
    (a transaction each, like expense_service); the rest straight onto the broker with confirms, since
    the outbox relay of a single producer, not this service, would set the pace; a seventh are hand-made
    envelopes a millisecond apart, sent newest first. Then a tenth of everything is sent again."""
    mode = {i: rng.choice(["outbox", "direct", "direct", "direct", "scrambled"]) for i in range(len(histories))}
    sent: list[Envelope] = []
    gate = asyncio.Semaphore(24)

    async def in_order(user_id: str, events: list[Event], through_outbox: bool) -> None:
        async with gate:
            for event in events:
                if through_outbox:
                    sent.append(await producer.publish(event, user_id))
                else:
                    envelope = Envelope.wrap(event, producer="expense_service", user_id=user_id)
                    await producer.publish_raw(envelope)
                    sent.append(envelope)

    async def newest_first(user_id: str, events: list[Event]) -> None:
        start = datetime.now(timezone.utc)
        envelopes = [Envelope.wrap(event, producer="expense_service", user_id=user_id).model_copy(
            update={"occurred_at": start + timedelta(milliseconds=i)}) for i, event in enumerate(events)]
        async with gate:
            for envelope in reversed(envelopes):
                await producer.publish_raw(envelope)
        sent.extend(envelopes)

    await asyncio.gather(*[
        newest_first(user_id, events) if mode[i] == "scrambled" else in_order(user_id, events, mode[i] == "outbox")
        for i, (user_id, events) in enumerate(histories)])
    for envelope in rng.sample(sent, k=len(sent) // 10):  # redelivered copies: same event_id
        await producer.publish_raw(envelope)
    return sent


async def test_every_view_equals_brute_force_over_1000_random_transactions(analytics, producer):
    stack, rng = analytics, random.Random(20240601)
    for user_id, zone in USERS.items():
        await producer.publish(UserRegistered(user_id=user_id, email=f"{user_id}@example.com", timezone=zone), user_id)
    histories = []
    for i in range(TRANSACTIONS):
        user_id = rng.choice(list(USERS))
        zone = USERS[user_id]
        histories.append((user_id, lifecycle(rng, user_id, zone, today_in(zone), outlier=i % 97 == 0)))
    sent = await publish_everything(producer, histories, rng)
    expected_events = len({e.event_id for e in sent}) + len(USERS)

    async def caught_up() -> bool:
        return await processed_count(stack) >= expected_events

    await wait_until(caught_up, timeout=240, interval=0.25, message=f"{expected_events} events applied")

    for user_id, zone in USERS.items():
        live = [s for u, events in histories if u == user_id if (s := final_state(events)) is not None]
        today = today_in(zone)
        oracle = Oracle(live, today, zone)
        api = stack.client("analytics_service", headers=stack.auth(user_id))

        async def get(path: str, api=api, **params: object) -> dict:
            response = await api.get(f"/api/analytics/{path}", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        everything = (today - timedelta(days=HISTORY_DAYS), today + timedelta(days=3))
        month = (first_of_month(today), first_of_month(today, 1) - timedelta(days=1))
        # Whole months in the middle, loose days at both edges.
        ragged = (first_of_month(today, -3) + timedelta(days=9), today - timedelta(days=12))
        for start, end in (everything, month, ragged, (today - timedelta(days=5),) * 2):
            params = {"from": start.isoformat(), "to": end.isoformat()}
            assert await get("summary", **params) == oracle.summary(start, end)
            assert await get("categories", **params) == oracle.categories(start, end)
            assert await get("patterns", **params) == oracle.patterns(start, end)
            assert await get("top", limit=7, **params) == oracle.top(7, start, end)
            for granularity in ("day", "week", "month"):
                assert await get("trends", granularity=granularity, **params) == oracle.trends(granularity, start, end)
        # Defaults judge "this month" and "today" in the user's own timezone.
        assert await get("summary") == oracle.summary(*month)
        assert await get("top") == oracle.top(10, *month)
        insights = await get("insights")
        assert insights["as_of_date"] == today.isoformat() and insights["timezone"] == zone
        assert [(i["currency"], i["kind"], i["numbers"]) for i in insights["insights"]] == oracle.insights()
        kinds = {i["kind"] for i in insights["insights"]}
        assert {"top_category", "category_change", "weekend_vs_weekday", "unusual_day",
                "month_end_projection"} <= kinds, kinds  # the data set is built to trigger every rule

    stranger = stack.client("analytics_service", headers=stack.auth("user-stranger"))
    everything = {"from": (date.today() - timedelta(days=400)).isoformat(), "to": date.today().isoformat()}
    for path in ("summary", "categories", "patterns", "top"):
        assert (await stranger.get(f"/api/analytics/{path}", params=everything)).json()["currencies"] == []
    assert (await stranger.get("/api/analytics/trends", params=everything)).json()["series"] == []
    assert (await stranger.get("/api/analytics/insights")).json()["insights"] == []
