"""The invoice events as their consumers read them: notification_service emails the client the PDF,
expense_service records the paid invoice as income. Real services, broker, SMTP."""

from devtools.testing.waiting import wait_until
from invoice_service.tests.helpers import pdf_text, sent_invoice


async def test_sent_invoice_reaches_the_client_by_email_and_paid_invoice_becomes_income(stack, smtp_server):
    await stack.start("invoice_service", "notification_service", "expense_service")
    invoices = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    expenses = stack.client("expense_service", headers=stack.auth("freelancer-1"))

    invoice = await sent_invoice(invoices)

    [mail] = await wait_until(lambda: smtp_server.sink.to("billing@acme.example"), timeout=20,
                              message="the invoice email to the client")
    [(filename, attachment)] = [(name, data) for name, data in mail.attachments() if name.endswith(".pdf")]
    assert "INV-2026-0001" in filename
    assert "1,234.40" in pdf_text(attachment)

    paid = await invoices.post(f"/api/invoices/{invoice['id']}/payments",
                               json={"amount": "1234.40", "paid_date": "2026-03-25"})
    assert paid.status_code == 201

    async def income() -> list[dict]:
        response = await expenses.get("/api/expenses", params={"type": "income"})
        return [t for t in response.json()["items"] if t.get("invoice_id") == invoice["id"]]

    [transaction] = await wait_until(income, timeout=20, message="the income transaction for the paid invoice")
    assert (transaction["amount"], transaction["currency"], transaction["occurred_date"]) == (
        "1234.40", "EUR", "2026-03-25")
