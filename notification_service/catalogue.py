"""The notification types users receive, the channels each can use, and which channel cannot be turned off."""

from dataclasses import dataclass

EMAIL, IN_APP = "email", "in_app"


@dataclass(frozen=True)
class NotificationType:
    name: str
    description: str
    channels: tuple[str, ...] = (EMAIL, IN_APP)
    always_on: tuple[str, ...] = ()  # channels the user cannot turn off


WELCOME = NotificationType("welcome", "Welcome message after registration")
PASSWORD_RESET = NotificationType("password_reset", "Password reset code (security: always emailed)",
                                  channels=(EMAIL,), always_on=(EMAIL,))
BUDGET_THRESHOLD_80 = NotificationType("budget_threshold_80", "A budget reached 80 % of its limit")
BUDGET_EXCEEDED = NotificationType("budget_exceeded", "A budget went over its limit")
GROUP_EXPENSE_ADDED = NotificationType("group_expense_added", "Someone added an expense in a group you share")
INVOICE_PAID = NotificationType("invoice_paid", "A client paid one of your invoices")
INVOICE_OVERDUE = NotificationType("invoice_overdue", "One of your invoices is overdue")
WEEKLY_REPORT = NotificationType("weekly_report", "Your weekly income and spending report")

# Emails sent on the user's behalf to someone else (their client); not a preference of the recipient.
INVOICE_SENT_KIND = "invoice_sent"

NOTIFICATION_TYPES: dict[str, NotificationType] = {
    t.name: t for t in (WELCOME, PASSWORD_RESET, BUDGET_THRESHOLD_80, BUDGET_EXCEEDED, GROUP_EXPENSE_ADDED,
                        INVOICE_PAID, INVOICE_OVERDUE, WEEKLY_REPORT)
}
