"""What each event makes users (and their clients) receive."""

import base64
import logging
from datetime import date, datetime, timedelta, timezone

from devtools.testing.waiting import wait_until
from shared.events import (
    BudgetExceeded,
    ExpenseCreated,
    GroupExpenseAdded,
    GroupShare,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceSent,
    PasswordResetRequested,
    TransactionSnapshot,
    UserDeleted,
    UserProfileUpdated,
    UserRegistered,
)

from .conftest import seed_user, start

INVOICE = dict(invoice_id="inv-1", number="2026/0042", client_id="c-1", client_name="Globex", currency="EUR",
               total="1200.00", balance_due="1200.00", issue_date=date(2026, 11, 1), due_date=date(2026, 11, 15))


async def test_registration_sends_a_welcome_email_and_remembers_the_user(notifications, publisher):
    n = notifications
    await publisher.publish(UserRegistered(user_id="u1", email="ada@example.com", name="Ada Lovelace",
                                           timezone="Europe/London"), user_id="u1")
    [mail] = await n.mails_to("ada@example.com")
    assert mail.subject == "Welcome to Expense Tracker"
    assert "Hello Ada Lovelace" in mail.text()
    assert "Ada Lovelace" in str(mail.message["To"])
    contact = await n.db["user_directory"].find_one({"user_id": "u1"})
    assert contact["email"] == "ada@example.com" and contact["timezone"] == "Europe/London"


async def test_password_reset_email_carries_the_token_which_is_never_logged_nor_kept(stack, smtp_server, publisher):
    captured: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record.getMessage() + str(record.__dict__))

    n = await start(stack, smtp_server, publisher, log_level="DEBUG")
    handler = Capture(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        token = "rst_Zq8vN3kP1yW7tX0bL5mC"
        await publisher.publish(PasswordResetRequested(
            user_id="u1", email="ada@example.com", name="Ada", reset_token=token,
            expires_at=datetime.now(timezone.utc) + timedelta(minutes=30)), user_id="u1")
        [mail] = await n.mails_to("ada@example.com")
        assert token in mail.text()
        assert f"/reset-password?token={token}" in mail.text()

        async def scrubbed() -> dict | None:
            doc = await n.db["emails"].find_one({"user_id": "u1", "status": "sent"})
            return doc if doc and token not in doc["body_text"] else None

        await wait_until(scrubbed, message="the delivered reset email's body scrubbed of the token")
        assert not any(token in line for line in captured)
        assert await n.db["notifications"].count_documents({"user_id": "u1"}) == 0  # email only
    finally:
        logging.getLogger().removeHandler(handler)


async def test_an_expired_reset_token_is_not_emailed(stack, smtp_server, publisher):
    n = await start(stack, smtp_server, publisher)
    smtp_server.sink.refuse = True  # the relay is down until after the token expires
    await publisher.publish(PasswordResetRequested(
        user_id="u1", email="ada@example.com", reset_token="rst_short_lived",
        expires_at=datetime.now(timezone.utc) + timedelta(seconds=1)), user_id="u1")

    async def given_up() -> dict | None:
        return await n.db["emails"].find_one({"user_id": "u1", "status": "failed"})

    doc = await wait_until(given_up, timeout=10, message="the expired reset email given up")
    smtp_server.sink.refuse = False
    assert doc["attempts"][-1]["error"] == "expired before it could be sent"
    assert "rst_short_lived" not in doc["body_text"]


async def test_invoice_sent_emails_the_client_with_the_pdf_attached(notifications, publisher):
    n = notifications
    await seed_user(n, "owner", "owner@example.com", "Olivia")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    await publisher.publish(InvoiceSent(**INVOICE, client_email="billing@globex.example.com", sender_name="Olivia Ltd",
                                        pdf_base64=base64.b64encode(pdf).decode()), user_id="owner")
    [mail] = await n.mails_to("billing@globex.example.com")
    assert mail.attachments() == [("invoice-2026-0042.pdf", pdf)]
    assert "2026/0042" in mail.subject and "1200.00 EUR due on 2026-11-15" in mail.text()
    assert "owner@example.com" in str(mail.message["Reply-To"])
    assert "Olivia Ltd via Expense Tracker" in str(mail.message["From"])
    assert n.smtp.sink.to("owner@example.com") == []


async def test_invoice_paid_and_overdue_reach_the_owner_in_app_and_by_email(notifications, publisher):
    n = notifications
    await seed_user(n, "owner", "owner@example.com", "Olivia")
    await publisher.publish(InvoiceOverdue(**INVOICE), user_id="owner")
    await publisher.publish(InvoicePaid(**INVOICE, paid_date=date(2026, 11, 20)), user_id="owner")
    mails = await n.mails_to("owner@example.com", count=2)
    assert sorted(m.subject for m in mails) == ["Invoice 2026/0042 is overdue", "Invoice 2026/0042 paid"]
    await n.count("notifications", {"user_id": "owner"}, at_least=2)
    kinds = {d["type"]: d["data"] async for d in n.db["notifications"].find({"user_id": "owner"})}
    assert set(kinds) == {"invoice_paid", "invoice_overdue"}
    assert kinds["invoice_paid"]["invoice_id"] == "inv-1"


async def test_group_expense_tells_every_other_participant_but_not_the_one_who_added_it(notifications, publisher):
    n = notifications
    for user, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
        await seed_user(n, user, f"{user}@example.com", name)
    await publisher.publish(GroupExpenseAdded(
        group_id="g1", group_name="Lisbon trip", group_expense_id="ge1", description="Dinner", amount="90.00",
        currency="EUR", payer_id="alice", added_by="alice", occurred_date=date(2026, 11, 18),
        shares=[GroupShare(user_id=u, share="30.00") for u in ("alice", "bob", "carol")]), user_id="alice")
    for user in ("bob", "carol"):
        [mail] = await n.mails_to(f"{user}@example.com")
        assert "Alice added “Dinner” (90.00 EUR) in Lisbon trip. Your share: 30.00 EUR." in mail.text()
    await n.count("notifications", {"type": "group_expense_added"}, at_least=2)
    assert await n.db["notifications"].count_documents({"user_id": "alice"}) == 0
    assert n.smtp.sink.to("alice@example.com") == []


async def test_profile_update_changes_the_address_later_mail_goes_to(stack, smtp_server, publisher):
    n = await start(stack, smtp_server, publisher, amqp_prefetch=1)  # events handled one by one, in order
    await seed_user(n, "u1", "old@example.com")
    await seed_user(n, "u1", "new@example.com")
    stale = UserProfileUpdated(user_id="u1", email="stale@example.com")
    await publisher.publish(stale, user_id="u1", occurred_at=datetime.now(timezone.utc) - timedelta(hours=1))
    await publisher.publish(InvoiceOverdue(**INVOICE), user_id="u1")
    await n.mails_to("new@example.com")
    assert n.smtp.sink.to("old@example.com") == [] and n.smtp.sink.to("stale@example.com") == []


async def test_user_deleted_erases_their_data_and_later_events_bring_nothing_back(stack, smtp_server, publisher):
    n = await start(stack, smtp_server, publisher, amqp_prefetch=1)  # events handled one by one, in order
    await seed_user(n, "u1", "ada@example.com", "Ada")
    await publisher.publish(BudgetExceeded(budget_id="b1", budget_name="Fun", period_start=date(2026, 11, 1),
                                           period_end=date(2026, 11, 30), threshold_percent=100,
                                           limit_amount="100.00", spent="120.00", currency="EUR"), user_id="u1")
    await n.mails_to("ada@example.com")
    await n.api("u1").put("/api/notifications/preferences", json={"types": {"welcome": {"email": False}}})
    await publisher.publish(ExpenseCreated(expense=TransactionSnapshot(
        id="e1", user_id="u1", type="expense", amount="5.00", currency="EUR", occurred_date=date(2026, 11, 18))),
        user_id="u1")
    await n.count("daily_rollups", {"user_id": "u1"})

    await publisher.publish(UserDeleted(user_id="u1"), user_id="u1")
    await wait_until(lambda: n.db["user_directory"].count_documents({"user_id": "u1", "deleted_at": {"$ne": None}}),
                     message="the user erased")
    for collection in ("notifications", "preferences", "emails", "daily_rollups", "budget_alerts"):
        assert await n.db[collection].count_documents({"user_id": "u1"}) == 0, collection
    tombstone = await n.db["user_directory"].find_one({"user_id": "u1"})
    assert tombstone["email"] is None and tombstone["name"] == ""

    # A late event for the erased user (then a marker for someone else, handled after it) recreates nothing.
    await publisher.publish(UserProfileUpdated(user_id="u1", email="ada@example.com"), user_id="u1")
    await publisher.publish(InvoiceOverdue(**INVOICE), user_id="u1")
    await seed_user(n, "marker", "marker@example.com")
    await publisher.publish(InvoiceOverdue(**INVOICE), user_id="marker")
    await n.mails_to("marker@example.com")
    assert await n.db["notifications"].count_documents({"user_id": "u1"}) == 0
    assert (await n.db["user_directory"].find_one({"user_id": "u1"}))["email"] is None
