"""The ledger fed by expense events: updates and deletes correct exactly what they should, out-of-order and
redelivered events change nothing they should not, poison goes to the dead-letter queue, users are erased."""

from datetime import datetime, timedelta, timezone

import aio_pika

from budget_service.tests.conftest import FOOD, TRANSPORT, USER, BudgetWorld, days_ago
from devtools.testing.waiting import wait_until
from shared.events import ExpenseCreated, ExpenseDeleted, ExpenseUpdated, UserDeleted


async def test_an_update_moves_spending_between_categories_amounts_and_dates(world: BudgetWorld):
    food = await world.create_budget(name="Food", category_id=FOOD)
    transport = await world.create_budget(name="Transport", category_id=TRANSPORT)
    await world.feed.created("50.00", category=FOOD)
    ticket = await world.feed.created("30.00", category=TRANSPORT)
    await world.wait_spent(transport["id"], "30.00")

    await world.feed.updated(ticket.id, category_id=FOOD, category_name="Food", amount="35.00")
    await world.wait_spent(transport["id"], "0.00")
    await world.wait_spent(food["id"], "85.00")
    [alert] = await world.published("budget.threshold_80", 1)  # moving it into Food crossed 80 %
    assert alert["data"]["budget_id"] == food["id"]

    await world.feed.updated(ticket.id, occurred_date=days_ago(400))  # into a long-past period
    await world.wait_spent(food["id"], "50.00")
    await world.feed.updated(ticket.id, occurred_date=days_ago(0), currency="USD")  # a currency Food does not count
    await world.wait_processed(5)
    assert (await world.budget(food["id"]))["current"]["spent"] == "50.00"


async def test_a_budget_created_mid_period_counts_earlier_expenses_in_its_currency_and_never_income(
        world: BudgetWorld):
    await world.feed.created("40.00", category=FOOD)
    await world.feed.created("1000.00", category=FOOD, type_="income")
    await world.feed.created("25.00", category=FOOD, currency="USD")
    await world.feed.created("10.00", category=TRANSPORT)
    await world.feed.created("15.00", category=FOOD, on=days_ago(400))
    await world.wait_processed(5)

    food = await world.create_budget(category_id=FOOD, limit_amount="100.00")
    assert (food["current"]["spent"], food["current"]["remaining"], food["current"]["status"]) == (
        "40.00", "60.00", "ok")
    everything = await world.create_budget(name="All spending", category_id=None, limit_amount="55.00")
    assert (everything["current"]["spent"], everything["current"]["status"]) == ("50.00", "warning")
    # 50 of 55 is past 80 % from the start: the budget alerts as soon as it exists.
    [alert] = await world.published("budget.threshold_80", 1)
    assert (alert["data"]["budget_id"], alert["data"]["category_id"]) == (everything["id"], None)


async def test_out_of_order_and_stale_events_leave_the_newest_state(world: BudgetWorld):
    budget = await world.create_budget()
    t0 = datetime.now(timezone.utc)
    first = world.feed.snapshot("20.00")
    changed = world.feed.revise(first, amount="70.00")
    # The update overtakes its create.
    await world.feed.send(ExpenseUpdated(before=first, after=changed), at=t0 + timedelta(seconds=2))
    await world.wait_processed(1)
    await world.feed.send(ExpenseCreated(expense=first), at=t0)
    await world.wait_processed(2)
    assert (await world.budget(budget["id"]))["current"]["spent"] == "70.00"
    # A stale update (emitted before the newest one) arrives late.
    stale = world.feed.revise(first, amount="10.00", category_id=TRANSPORT)
    await world.feed.send(ExpenseUpdated(before=first, after=stale), at=t0 + timedelta(seconds=1))
    await world.wait_processed(3)
    assert (await world.budget(budget["id"]))["current"]["spent"] == "70.00"
    # After a delete nothing older brings it back.
    await world.feed.send(ExpenseDeleted(expense=changed), at=t0 + timedelta(seconds=3))
    await world.wait_spent(budget["id"], "0.00")
    await world.feed.send(ExpenseUpdated(before=first, after=changed), at=t0 + timedelta(seconds=2, milliseconds=500))
    await world.feed.send(ExpenseCreated(expense=first), at=t0 + timedelta(microseconds=10))
    await world.wait_processed(6)
    assert (await world.budget(budget["id"]))["current"]["spent"] == "0.00"
    await world.published("budget.threshold_80", 0)


async def test_revisions_order_updates_delivered_in_reverse_whatever_their_clocks_say(world: BudgetWorld):
    budget = await world.create_budget()
    t0 = datetime.now(timezone.utc)
    first = world.feed.revise(world.feed.snapshot("20.00"), revision=1)
    second = world.feed.revise(first, amount="30.00", revision=2)
    third = world.feed.revise(first, amount="85.00", revision=3)
    await world.feed.send(ExpenseCreated(expense=first), at=t0)
    await world.wait_spent(budget["id"], "20.00")
    # The producer's clock stepped back between the updates (revision 3 says t0+1s, revision 2 says t0+2s),
    # and they arrive newest first.
    await world.feed.send(ExpenseUpdated(before=second, after=third), at=t0 + timedelta(seconds=1))
    await world.wait_spent(budget["id"], "85.00")
    await world.feed.send(ExpenseUpdated(before=first, after=second), at=t0 + timedelta(seconds=2))
    await world.wait_processed(3)
    assert (await world.budget(budget["id"]))["current"]["spent"] == "85.00"
    await world.published("budget.threshold_80", 1)
    # The delete carries the next revision: it wins over its older clock, and a late revision 3 stays out.
    await world.feed.send(ExpenseDeleted(expense=world.feed.revise(third, revision=4)),
                          at=t0 + timedelta(milliseconds=500))
    await world.wait_spent(budget["id"], "0.00")
    await world.feed.send(ExpenseUpdated(before=second, after=third), at=t0 + timedelta(seconds=9))
    await world.wait_processed(5)
    assert (await world.budget(budget["id"]))["current"]["spent"] == "0.00"
    await world.published("budget.threshold_80", 1)


async def test_a_redelivered_event_changes_nothing(world: BudgetWorld):
    budget = await world.create_budget()
    envelope = await world.feed.send(ExpenseCreated(expense=world.feed.snapshot("85.00")))
    await world.wait_spent(budget["id"], "85.00")
    await world.published("budget.threshold_80", 1)

    await world.feed.send_envelope(envelope)  # the broker delivers it again: same event_id
    await world.feed.created("1.00")
    await world.wait_spent(budget["id"], "86.00")
    assert await world.db["processed_events"].count_documents({"event_id": envelope.event_id}) == 1
    await world.published("budget.threshold_80", 1)
    assert (await world.api.get("/api/budgets/alerts")).json()["total"] == 1


async def test_a_poison_message_is_dead_lettered_and_the_queue_keeps_flowing(world: BudgetWorld):
    budget = await world.create_budget()
    await world.feed.bus.publish("expense.created", b"{not json", message_id="poison-1")
    bad = world.feed.snapshot("10.00").model_dump(mode="json") | {"amount": "ten euros"}
    await world.feed.bus.publish("expense.created", (
        '{"event_id": "poison-2", "type": "expense.created", "producer": "expense_service", '
        f'"data": {{"expense": {__import__("json").dumps(bad)}}}}}').encode(), message_id="poison-2")

    connection = await aio_pika.connect(world.stack.amqp_url)
    async with connection:
        channel = await connection.channel()

        async def dead_lettered() -> bool:
            queue = await channel.declare_queue(f"{world.stack.queue_prefix}budget_service.dlq", passive=True)
            return queue.declaration_result.message_count >= 2

        await wait_until(dead_lettered, message="both poison messages in the dead-letter queue")

    await world.feed.created("42.00")
    await world.wait_spent(budget["id"], "42.00")


async def test_user_deleted_erases_budgets_ledger_and_alerts_and_turns_away_late_events(world: BudgetWorld):
    other = world.client_for("someone-else")
    kept = (await other.post("/api/budgets", json={"name": "Theirs", "limit_amount": "10.00", "currency": "EUR"}))
    assert kept.status_code == 201
    budget = await world.create_budget()
    await world.feed.created("90.00")
    await world.feed.created("5.00", user_id="someone-else", category=None)
    await world.wait_spent(budget["id"], "90.00")
    await world.published("budget.threshold_80", 1)

    await world.feed.send(UserDeleted(user_id=USER), user_id=USER)

    async def erased() -> bool:
        return sum([await world.db[name].count_documents({"user_id": USER})
                    for name in ("budgets", "ledger", "alerts", "period_states")]) == 0

    await wait_until(erased, message="the user's budget data erased")
    assert (await world.api.get("/api/budgets")).json()["total"] == 0
    assert (await world.api.get(f"/api/budgets/{budget['id']}")).status_code == 404

    await world.feed.created("12.00")  # a late event for the erased user
    await world.wait_processed(4)
    assert await world.db["ledger"].count_documents({"user_id": USER}) == 0
    theirs = (await other.get(f"/api/budgets/{kept.json()['id']}")).json()
    assert theirs["current"]["spent"] == "5.00"
