"""Event handlers. Each runs once per event inside a transaction (ctx.session): they only write records —
in-app notifications, queued emails, rollups — and the background sender does the SMTP work."""

import logging
import re

from shared.consumer import HandlerContext
from shared.events import (
    BudgetExceeded,
    BudgetThreshold80,
    ExpenseCreated,
    ExpenseDeleted,
    ExpenseUpdated,
    GroupExpenseAdded,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceSent,
    PasswordResetRequested,
    UserDeleted,
    UserProfileUpdated,
    UserRegistered,
)

from . import messages
from .catalogue import (
    BUDGET_EXCEEDED,
    BUDGET_THRESHOLD_80,
    GROUP_EXPENSE_ADDED,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_SENT_KIND,
    PASSWORD_RESET,
    WELCOME,
)
from .service import contact_of, forget_user, is_erased, notify, remember_user
from .service_email import EmailDraft, pdf_attachment, queue_email
from .service_reports import apply_transaction, record_budget_alert
from .settings import Settings

log = logging.getLogger("notification_service.handlers")


def _settings(ctx: HandlerContext) -> Settings:
    return ctx.services["settings"]


# --- users ----------------------------------------------------------------------------------------

async def remember_registered_user(event: UserRegistered, ctx: HandlerContext) -> None:
    await remember_user(session=ctx.session, user_id=event.user_id, email=event.email, name=event.name,
                        timezone=event.timezone, occurred_at=ctx.envelope.occurred_at)


async def send_welcome(event: UserRegistered, ctx: HandlerContext) -> None:
    message = messages.welcome(event.name, _settings(ctx).app_base_url)
    await notify(session=ctx.session, user_id=event.user_id, kind=WELCOME.name, message=message,
                 draft=EmailDraft(subject=message.title, text=message.email_text, to_address=event.email,
                                  to_name=event.name),
                 event_id=ctx.envelope.event_id)


async def follow_profile_update(event: UserProfileUpdated, ctx: HandlerContext) -> None:
    await remember_user(session=ctx.session, user_id=event.user_id, email=event.email, name=event.name,
                        timezone=event.timezone, occurred_at=ctx.envelope.occurred_at)


async def erase_user(event: UserDeleted, ctx: HandlerContext) -> None:
    await forget_user(session=ctx.session, user_id=event.user_id)


async def send_password_reset(event: PasswordResetRequested, ctx: HandlerContext) -> None:
    # The token is only in the queued email (scrubbed once sent); never in a log line or an in-app record.
    message = messages.password_reset(event, _settings(ctx).app_base_url)
    await notify(session=ctx.session, user_id=event.user_id, kind=PASSWORD_RESET.name, message=message,
                 draft=EmailDraft(subject=message.title, text=message.email_text, to_address=event.email,
                                  to_name=event.name, sensitive=True, expires_at=event.expires_at),
                 event_id=ctx.envelope.event_id)


# --- budgets --------------------------------------------------------------------------------------

async def send_budget_alert(event: BudgetThreshold80 | BudgetExceeded, ctx: HandlerContext) -> None:
    user_id = ctx.envelope.user_id
    if not user_id:
        log.warning("budget event %s without a user; ignored", ctx.envelope.event_id)
        return
    if await is_erased(user_id, ctx.session):
        return
    await record_budget_alert(session=ctx.session, user_id=user_id, event=event,
                              raised_at=ctx.envelope.occurred_at)
    contact = await contact_of(user_id, ctx.session)
    kind = BUDGET_EXCEEDED if isinstance(event, BudgetExceeded) else BUDGET_THRESHOLD_80
    await notify(session=ctx.session, user_id=user_id, kind=kind.name,
                 message=messages.budget_alert(event, contact.name if contact else ""),
                 data={"budget_id": event.budget_id, "period_start": event.period_start.isoformat(),
                       "period_end": event.period_end.isoformat()},
                 event_id=ctx.envelope.event_id)


# --- groups ---------------------------------------------------------------------------------------

async def tell_group_members(event: GroupExpenseAdded, ctx: HandlerContext) -> None:
    """Everyone in the expense (payer and sharers) hears of it, except the member who added it."""
    recipients = ({share.user_id for share in event.shares} | {event.payer_id}) - {event.added_by}
    adder = await contact_of(event.added_by, ctx.session)
    for user_id in sorted(recipients):
        contact = await contact_of(user_id, ctx.session)
        message = messages.group_expense(event, recipient_id=user_id, recipient_name=contact.name if contact else "",
                                         added_by_name=adder.name if adder and not adder.deleted_at else "")
        await notify(session=ctx.session, user_id=user_id, kind=GROUP_EXPENSE_ADDED.name, message=message,
                     data={"group_id": event.group_id, "group_expense_id": event.group_expense_id},
                     event_id=ctx.envelope.event_id)


# --- invoices -------------------------------------------------------------------------------------

def _pdf_filename(number: str) -> str:
    return f"invoice-{re.sub(r'[^A-Za-z0-9._-]+', '-', number).strip('-') or 'document'}.pdf"


async def email_invoice_to_client(event: InvoiceSent, ctx: HandlerContext) -> None:
    owner_id = ctx.envelope.user_id
    if not event.client_email:
        log.info("invoice %s has no client email; nothing to send", event.invoice_id)
        return
    if owner_id and await is_erased(owner_id, ctx.session):
        return
    owner = await contact_of(owner_id, ctx.session) if owner_id else None
    settings = _settings(ctx)
    message = messages.invoice_to_client(event)
    attachments = [pdf_attachment(_pdf_filename(event.number), event.pdf_base64)] if event.pdf_base64 else []
    draft = EmailDraft(subject=message.title, text=message.email_text, to_name=event.client_name,
                       reply_to=owner.email if owner and owner.email else None,
                       from_name=f"{event.sender_name} via {settings.mail_from_name}" if event.sender_name else None,
                       attachments=attachments)
    await queue_email(session=ctx.session, user_id=owner_id, kind=INVOICE_SENT_KIND, to_address=event.client_email,
                      draft=draft, source_event_id=ctx.envelope.event_id)


async def tell_invoice_owner(event: InvoicePaid | InvoiceOverdue, ctx: HandlerContext) -> None:
    owner_id = ctx.envelope.user_id
    if not owner_id:
        log.warning("invoice event %s without a user; ignored", ctx.envelope.event_id)
        return
    contact = await contact_of(owner_id, ctx.session)
    name = contact.name if contact else ""
    if isinstance(event, InvoicePaid):
        kind, message = INVOICE_PAID, messages.invoice_paid(event, name)
    else:
        kind, message = INVOICE_OVERDUE, messages.invoice_overdue(event, name)
    await notify(session=ctx.session, user_id=owner_id, kind=kind.name, message=message,
                 data={"invoice_id": event.invoice_id, "client_id": event.client_id},
                 event_id=ctx.envelope.event_id)


# --- expenses: the weekly report's rollup ---------------------------------------------------------

async def count_created(event: ExpenseCreated, ctx: HandlerContext) -> None:
    if not await is_erased(event.expense.user_id, ctx.session):
        await apply_transaction(session=ctx.session, snapshot=event.expense, sign=+1)


async def count_updated(event: ExpenseUpdated, ctx: HandlerContext) -> None:
    if not await is_erased(event.after.user_id, ctx.session):
        await apply_transaction(session=ctx.session, snapshot=event.before, sign=-1)
        await apply_transaction(session=ctx.session, snapshot=event.after, sign=+1)


async def count_deleted(event: ExpenseDeleted, ctx: HandlerContext) -> None:
    if not await is_erased(event.expense.user_id, ctx.session):
        await apply_transaction(session=ctx.session, snapshot=event.expense, sign=-1)


EVENT_HANDLERS = {
    UserRegistered: [remember_registered_user, send_welcome],
    UserProfileUpdated: [follow_profile_update],
    UserDeleted: [erase_user],
    PasswordResetRequested: [send_password_reset],
    BudgetThreshold80: [send_budget_alert],
    BudgetExceeded: [send_budget_alert],
    GroupExpenseAdded: [tell_group_members],
    InvoiceSent: [email_invoice_to_client],
    InvoicePaid: [tell_invoice_owner],
    InvoiceOverdue: [tell_invoice_owner],
    ExpenseCreated: [count_created],
    ExpenseUpdated: [count_updated],
    ExpenseDeleted: [count_deleted],
}
