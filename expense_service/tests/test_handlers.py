"""Events this service consumes: user.deleted erases the user's data; invoice.paid records income exactly once."""

from datetime import date
from decimal import Decimal

from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, client, db, publish_event, start
from shared.events import InvoicePaid, UserDeleted, UserRegistered


def paid_invoice(invoice_id: str = "inv-7", number: str = "INV-2024-007") -> InvoicePaid:
    return InvoicePaid(invoice_id=invoice_id, number=number, client_id="c1", client_name="ACME GmbH",
                       currency="EUR", total=Decimal("1250.00"), balance_due=Decimal("0"),
                       issue_date=date(2024, 3, 1), due_date=date(2024, 3, 31), paid_date=date(2024, 3, 20))


async def test_user_deleted_erases_that_users_transactions_categories_and_profile(stack):
    await start(stack)
    alice, bob = client(stack, "alice"), client(stack, "bob")
    await publish_event(stack, UserRegistered(user_id="alice", email="a@example.com", default_currency="USD"),
                        user_id="alice")
    await wait_until(lambda: db(stack)["profiles"].count_documents({"user_id": "alice"}), message="profile")
    await alice.post("/api/categories", json={"kind": "expense", "name": "Pets"})
    for amount in ("1.00", "2.00", "3.00"):
        r = await alice.post(EXPENSES, json={"type": "expense", "amount": amount, "category": "pets"},
                             headers={"Idempotency-Key": f"k{amount}"})
        assert r.status_code == 201
    await bob.post(EXPENSES, json={"type": "income", "amount": "9.00"})

    await publish_event(stack, UserDeleted(user_id="alice"), user_id="alice")
    store = db(stack)

    async def alice_gone() -> bool:
        counts = [await store[name].count_documents({"user_id": "alice"})
                  for name in ("transactions", "categories", "profiles", "idempotency_keys")]
        return counts == [0, 0, 0, 0]

    await wait_until(alice_gone, message="alice's data erased")
    assert (await bob.get(EXPENSES)).json()["total"] == 1
    assert await store["categories"].count_documents({"user_id": "bob"}) == 15


async def test_invoice_paid_delivered_twice_records_one_income_transaction(stack):
    await start(stack)
    spy = await stack.spy("expense.created")
    event = paid_invoice()
    first = await publish_event(stack, event, user_id="freelancer")
    await publish_event(stack, event, user_id="freelancer", envelope=first)  # the same message redelivered
    second = await publish_event(stack, event, user_id="freelancer")  # the same fact under a new event_id
    processed = db(stack)["processed_events"]

    async def all_handled() -> bool:
        return await processed.count_documents({"event_id": {"$in": [first.event_id, second.event_id]}}) == 2

    await wait_until(all_handled, message="both invoice.paid events handled")
    api = client(stack, "freelancer")
    page = (await api.get(EXPENSES)).json()
    assert page["total"] == 1
    [income] = page["items"]
    assert income["type"] == "income" and income["amount"] == "1250.00" and income["currency"] == "EUR"
    assert income["category"] == "freelance" and income["invoice_id"] == "inv-7"
    assert income["occurred_date"] == "2024-03-20" and income["description"] == "Invoice INV-2024-007 — ACME GmbH"
    assert page["totals"] == [{"currency": "EUR", "income": "1250.00", "expense": "0.00", "net": "1250.00",
                               "count": 1}]

    [created] = await spy.wait_for("expense.created")
    assert created["data"]["expense"]["invoice_id"] == "inv-7" and created["user_id"] == "freelancer"
    # Exactly one event was written for it (the outbox is the source of every published event).
    outbox = db(stack)["outbox"]
    assert await outbox.count_documents({"routing_key": "expense.created"}) == 1

    # Another invoice of the same user is its own income.
    await publish_event(stack, paid_invoice("inv-8", "INV-2024-008"), user_id="freelancer")
    await spy.wait_for("expense.created", 2)
    assert (await api.get(EXPENSES)).json()["total"] == 2
