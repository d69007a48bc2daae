"""The weekly report: numbers from the expense events, the budget alerts of the week, sent once per user and
ISO week even when scheduling passes race."""

import asyncio
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from notification_service.service_weekly import run_weekly_report_pass
from shared.events import (
    BudgetExceeded,
    BudgetThreshold80,
    ExpenseCreated,
    ExpenseDeleted,
    ExpenseUpdated,
    TransactionSnapshot,
)

from .conftest import seed_user


def tx(id_: str, day: str, amount: str, *, user: str = "u1", type_: str = "expense", currency: str = "EUR",
       category: tuple[str, str] | None = None) -> TransactionSnapshot:
    return TransactionSnapshot(id=id_, user_id=user, type=type_, amount=amount, currency=currency,
                               category_id=category[0] if category else None,
                               category_name=category[1] if category else "", occurred_date=date.fromisoformat(day))


GROCERIES, UTILITIES, COFFEE, SALARY = ("c1", "Groceries"), ("c2", "Utilities"), ("c3", "Coffee"), ("c9", "Salary")


def alert(cls, budget_id: str, spent: str):
    return cls(budget_id=budget_id, budget_name=f"Budget {budget_id}", category_name="Groceries",
               period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
               threshold_percent=100 if cls is BudgetExceeded else 80, limit_amount="200.00", spent=spent,
               currency="EUR")


async def publish_week_45(n, publisher) -> int:
    """A known week (2026-W45: Monday 2 to Sunday 8 November) for u1 in Berlin; returns the events published."""
    created = [tx("i1", "2026-11-02", "2000.00", type_="income", category=SALARY),
               tx("e1", "2026-11-03", "50.00", category=GROCERIES), tx("e2", "2026-11-05", "30.25", category=GROCERIES),
               tx("e3", "2026-11-04", "80.00", category=UTILITIES), tx("e4", "2026-11-08", "15.00", category=COFFEE),
               tx("e5", "2026-11-09", "99.00", category=COFFEE),  # next week
               tx("e6", "2026-11-06", "10.00", currency="USD", category=GROCERIES),
               tx("e7", "2026-11-04", "40.00", category=UTILITIES),  # deleted below
               tx("e8", "2026-11-07", "25.00", category=COFFEE),  # updated below
               tx("e9", "2026-11-06", "5.00"),  # uncategorised
               tx("x1", "2026-11-04", "70.00", user="u2", category=GROCERIES)]  # someone else
    events = [ExpenseCreated(expense=t) for t in created]
    events += [ExpenseDeleted(expense=created[7]),
               ExpenseUpdated(before=created[8], after=tx("e8", "2026-11-07", "35.00", category=GROCERIES))]
    for event in events:
        owner = event.after.user_id if isinstance(event, ExpenseUpdated) else event.expense.user_id
        await publisher.publish(event, user_id=owner)
    alerts = [(alert(BudgetThreshold80, "b1", "165.00"), datetime(2026, 11, 4, 10, tzinfo=timezone.utc)),
              (alert(BudgetExceeded, "b1", "215.25"), datetime(2026, 11, 6, 10, tzinfo=timezone.utc)),
              # 00:30 on Monday in Berlin: inside the week; 00:30 on the next Monday: outside.
              (alert(BudgetThreshold80, "b2", "170.00"), datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc)),
              (alert(BudgetExceeded, "b3", "250.00"), datetime(2026, 11, 8, 23, 30, tzinfo=timezone.utc))]
    for event, at in alerts:
        await publisher.publish(event, user_id="u1", occurred_at=at)
    return len(events) + len(alerts)


async def test_preview_reports_income_spending_top_categories_and_budget_alerts_of_the_week(
        notifications, publisher):
    n = notifications
    await seed_user(n, "u1", "ada@example.com", "Ada", timezone="Europe/Berlin")
    published = await publish_week_45(n, publisher)
    await n.count("processed_events", {"handler": {"$regex": "count_|send_budget_alert"}}, at_least=published)

    r = await n.api("u1").post("/api/notifications/reports/weekly/preview", json={"week": "2026-W45"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["week"], report["start_date"], report["end_date"], report["timezone"]) == (
        "2026-W45", "2026-11-02", "2026-11-08", "Europe/Berlin")
    assert report["totals"] == [
        {"currency": "EUR", "income": "2000.00", "spending": "215.25", "net": "1784.75", "transactions": 7},
        {"currency": "USD", "income": "0", "spending": "10.00", "net": "-10.00", "transactions": 1}]
    assert [(c["category_name"], c["currency"], c["amount"], c["transactions"]) for c in report["top_categories"]] == [
        ("Groceries", "EUR", "115.25", 3), ("Utilities", "EUR", "80.00", 1), ("Coffee", "EUR", "15.00", 1),
        ("Uncategorised", "EUR", "5.00", 1), ("Groceries", "USD", "10.00", 1)]
    assert [(b["budget_id"], b["status"], b["spent"]) for b in report["budgets"]] == [
        ("b2", "threshold_80", "170.00"), ("b1", "exceeded", "215.25")]

    # Nobody else's money shows; a week without activity is empty; the default is last week.
    other = (await n.api("u2").post("/api/notifications/reports/weekly/preview", json={"week": "2026-W45"})).json()
    assert other["totals"] == [{"currency": "EUR", "income": "0", "spending": "70.00", "net": "-70.00",
                                "transactions": 1}] and other["budgets"] == []
    empty = (await n.api("u1").post("/api/notifications/reports/weekly/preview", json={"week": "2026-W40"})).json()
    assert empty["totals"] == [] and empty["top_categories"] == [] and empty["budgets"] == []
    default = (await n.api("u1").post("/api/notifications/reports/weekly/preview")).json()
    today_in_berlin = datetime.now(ZoneInfo("Europe/Berlin")).date()
    last_sunday = date.fromisoformat(default["end_date"])
    assert last_sunday.isoweekday() == 7 and last_sunday < today_in_berlin <= last_sunday + timedelta(days=7)


async def test_preview_refuses_a_malformed_or_impossible_week(notifications):
    api = notifications.api("u1")
    for body in ({"week": "2026-W54"}, {"week": "2026-45"}, {"week": "2026-W45", "extra": True}):
        r = await api.post("/api/notifications/reports/weekly/preview", json=body)
        assert r.status_code == 422, body
    assert (await notifications.stack.client("notification_service").post(
        "/api/notifications/reports/weekly/preview")).status_code == 401


async def test_preview_refuses_weeks_at_the_ends_of_the_calendar_with_a_422_not_a_500(notifications):
    # 9999-W52 ends after date.max; 0001-W01 starts before UTC's year 1 for a user east of Greenwich.
    await seed_user(notifications, "u1", "ada@example.com", timezone="Asia/Tokyo")
    for week in ("0001-W01", "9999-W52"):
        r = await notifications.api("u1").post("/api/notifications/reports/weekly/preview", json={"week": week})
        assert r.status_code == 422, (week, r.text)
        assert r.json()["errors"][0]["field"] == "week"


async def test_racing_scheduling_passes_send_one_report_per_user_per_week(notifications, publisher):
    n = notifications
    published = await publish_week_45(n, publisher)
    await n.count("processed_events", {"handler": {"$regex": "count_|send_budget_alert"}}, at_least=published)
    await seed_user(n, "u1", "ada@example.com", "Ada", timezone="Europe/Berlin")
    await seed_user(n, "u2", "bob@example.com", "Bob", timezone="America/Los_Angeles")
    await seed_user(n, "u3", "quiet@example.com", "Quiet")  # no activity: no report
    budget_mails = len(n.smtp.sink.to("ada@example.com"))

    # Monday 10:00 in Berlin, 01:00 in Los Angeles: u1's report is due, u2's only from 08:00 local.
    monday_morning = datetime(2026, 11, 9, 9, 0, tzinfo=timezone.utc)
    queued = await asyncio.gather(*(run_weekly_report_pass(n.runtime, now=monday_morning) for _ in range(3)))
    assert sum(queued) == 1
    [report] = [m for m in await n.mails_to("ada@example.com", count=budget_mails + 1) if "weekly" in m.subject]
    assert report.subject == "Your weekly report, 2026-W45"
    assert "EUR: income 2000.00, spending 215.25, net 1784.75 (7 transactions)" in report.text()
    assert "Groceries: 115.25 EUR" in report.text()
    assert "Budget b1: 215.25 of 200.00 EUR (over the limit)" in report.text()
    assert n.smtp.sink.to("bob@example.com") == []

    later = datetime(2026, 11, 11, 12, 0, tzinfo=timezone.utc)  # Wednesday: u2 is due now, u1 is done
    queued = await asyncio.gather(*(run_weekly_report_pass(n.runtime, now=later) for _ in range(3)))
    assert sum(queued) == 1
    [bob] = await n.mails_to("bob@example.com")
    assert "EUR: income 0, spending 70.00" in bob.text()
    assert sum(await asyncio.gather(*(run_weekly_report_pass(n.runtime, now=later) for _ in range(2)))) == 0

    runs = {(r["user_id"], r["week"]): r["outcome"] async for r in n.db["weekly_reports"].find()}
    assert runs == {("u1", "2026-W45"): "queued", ("u2", "2026-W45"): "queued", ("u3", "2026-W45"): "no_activity"}
    assert len([m for m in n.smtp.sink.to("ada@example.com") if "weekly" in m.subject]) == 1
    assert await n.db["notifications"].count_documents({"type": "weekly_report"}) == 2
