"""What each notification says: in-app title and body, email subject and text. Plain text, no secrets logged."""

from dataclasses import dataclass
from urllib.parse import quote

from shared.events import (
    BudgetExceeded,
    BudgetThreshold80,
    GroupExpenseAdded,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceSent,
    PasswordResetRequested,
)

from .schemas import WeeklyReport


@dataclass(frozen=True)
class Message:
    title: str  # in-app title, also the email subject
    body: str  # in-app body
    email_text: str


def _hello(name: str) -> str:
    return f"Hello {name}," if name else "Hello,"


def welcome(name: str, app_url: str) -> Message:
    body = "Your Expense Tracker account is ready: record expenses, set budgets and send invoices."
    return Message("Welcome to Expense Tracker", body,
                   f"{_hello(name)}\n\n{body}\n\nSign in at {app_url}\n\nThe Expense Tracker team\n")


def password_reset(event: PasswordResetRequested, app_url: str) -> Message:
    link = f"{app_url}/reset-password?token={quote(event.reset_token)}"
    expires = event.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = (f"{_hello(event.name)}\n\nSomeone (hopefully you) asked to reset your password.\n\n"
            f"Reset it here: {link}\n\nOr enter this reset code: {event.reset_token}\n\n"
            f"The code works once and expires at {expires}. If you did not ask for it, ignore this email: "
            "your password stays as it is.\n")
    return Message("Reset your password", "A password reset was requested.", text)


def budget_alert(event: BudgetThreshold80 | BudgetExceeded, name: str) -> Message:
    scope = f" ({event.category_name})" if event.category_name else ""
    amounts = f"{event.spent} {event.currency} of {event.limit_amount} {event.currency}"
    period = f"{event.period_start.isoformat()} – {event.period_end.isoformat()}"
    if isinstance(event, BudgetExceeded):
        title = f"Budget exceeded: {event.budget_name}"
        body = f"You have spent {amounts} in budget {event.budget_name}{scope} for {period}: over the limit."
    else:
        title = f"Budget at {event.threshold_percent} %: {event.budget_name}"
        body = (f"You have spent {amounts} in budget {event.budget_name}{scope} for {period} "
                f"({event.threshold_percent} % of the limit).")
    return Message(title, body, f"{_hello(name)}\n\n{body}\n")


def group_expense(event: GroupExpenseAdded, *, recipient_id: str, recipient_name: str, added_by_name: str) -> Message:
    who = added_by_name or "A group member"
    share = next((s.share for s in event.shares if s.user_id == recipient_id), None)
    body = f"{who} added “{event.description}” ({event.amount} {event.currency}) in {event.group_name}."
    if share is not None:
        body += f" Your share: {share} {event.currency}."
    return Message(f"New expense in {event.group_name}", body, f"{_hello(recipient_name)}\n\n{body}\n")


def invoice_to_client(event: InvoiceSent) -> Message:
    sender = event.sender_name or "Your supplier"
    text = (f"{_hello(event.client_name)}\n\n{sender} sent you invoice {event.number}: "
            f"{event.balance_due} {event.currency} due on {event.due_date.isoformat()} "
            f"(total {event.total} {event.currency}, issued {event.issue_date.isoformat()}).\n\n"
            + ("The invoice is attached as a PDF.\n" if event.pdf_base64 else "")
            + f"\nRegards,\n{sender}\n")
    return Message(f"Invoice {event.number} from {sender}", f"Invoice {event.number} sent.", text)


def invoice_paid(event: InvoicePaid, name: str) -> Message:
    body = (f"{event.client_name} paid invoice {event.number} ({event.total} {event.currency}) "
            f"on {event.paid_date.isoformat()}.")
    return Message(f"Invoice {event.number} paid", body, f"{_hello(name)}\n\n{body}\n")


def invoice_overdue(event: InvoiceOverdue, name: str) -> Message:
    body = (f"Invoice {event.number} to {event.client_name} was due on {event.due_date.isoformat()}; "
            f"{event.balance_due} {event.currency} is still outstanding.")
    return Message(f"Invoice {event.number} is overdue", body, f"{_hello(name)}\n\n{body}\n")


def weekly_report(report: WeeklyReport, name: str) -> Message:
    period = f"{report.start_date.isoformat()} – {report.end_date.isoformat()}"
    lines = [f"{_hello(name)}", "", f"Your week {report.week} ({period}):", ""]
    for totals in report.totals:
        lines.append(f"  {totals.currency}: income {totals.income}, spending {totals.spending}, "
                     f"net {totals.net} ({totals.transactions} transactions)")
    if report.top_categories:
        lines += ["", "Top spending categories:"]
        lines += [f"  {c.category_name}: {c.amount} {c.currency}" for c in report.top_categories]
    if report.budgets:
        lines += ["", "Budget alerts this week:"]
        for b in report.budgets:
            state = "over the limit" if b.status == "exceeded" else "at 80 %"
            lines.append(f"  {b.budget_name}: {b.spent} of {b.limit_amount} {b.currency} ({state})")
    summary = "; ".join(f"{t.currency} spent {t.spending}, earned {t.income}" for t in report.totals)
    body = summary or f"{len(report.budgets)} budget alert(s) last week."
    return Message(f"Your weekly report, {report.week}", body, "\n".join(lines) + "\n")
