"""Pure rules, without servers: back-off, which SMTP failures are permanent, when a weekly report is due."""

from datetime import datetime, timezone

import aiosmtplib
import pytest
from fastapi_mail.errors import ConnectionErrors
from pydantic import ValidationError

from notification_service.mailer import classify
from notification_service.service_email import retry_delay
from notification_service.service_reports import week_bounds
from notification_service.service_weekly import due_week
from notification_service.settings import Settings
from shared.errors import Problem


def test_retry_delay_doubles_from_the_base_up_to_the_cap():
    settings = Settings(email_retry_base_seconds=5, email_retry_max_seconds=60)
    assert [retry_delay(settings, n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_refused_recipients_and_rejected_messages_are_permanent_outages_are_not():
    assert classify(aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.com")).permanent
    assert classify(aiosmtplib.SMTPDataError(554, "message rejected")).permanent
    assert not classify(aiosmtplib.SMTPDataError(421, "try later")).permanent
    assert not classify(ConnectionErrors("connection refused")).permanent
    assert not classify(aiosmtplib.SMTPSenderRefused(553, "relay denied", "no-reply@tracker.example")).permanent
    try:
        raise aiosmtplib.SMTPRecipientRefused(550, "unknown", "x@example.com")
    except aiosmtplib.SMTPRecipientRefused:
        try:  # the error fastapi-mail's QUIT raises on the way out hides the first one
            raise aiosmtplib.SMTPServerDisconnected("gone") from None
        except aiosmtplib.SMTPServerDisconnected as outer:
            assert classify(outer).permanent


@pytest.mark.parametrize(("now", "tz", "expected"), [
    (datetime(2026, 11, 9, 6, 59, tzinfo=timezone.utc), "Europe/Berlin", None),  # Monday 07:59 in Berlin
    (datetime(2026, 11, 9, 7, 0, tzinfo=timezone.utc), "Europe/Berlin", "2026-W45"),  # 08:00
    (datetime(2026, 11, 9, 4, 0, tzinfo=timezone.utc), "America/New_York", "2026-W44"),  # Sunday 23:00 there
    (datetime(2026, 11, 9, 7, 0, tzinfo=timezone.utc), "America/New_York", None),  # Monday 02:00 there
    (datetime(2026, 11, 15, 23, 0, tzinfo=timezone.utc), "UTC", "2026-W45"),  # Sunday night
    (datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc), "UTC", "2026-W53"),  # a 53-week year
    (datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc), "Not/AZone", "2026-W45"),  # unknown zone: UTC
])
def test_last_weeks_report_is_due_from_monday_morning_in_the_users_timezone(now, tz, expected):
    assert due_week(now, tz, send_hour=8) == expected


def test_week_bounds_and_impossible_weeks():
    assert [d.isoformat() for d in week_bounds("2026-W53")] == ["2026-12-28", "2027-01-03"]
    with pytest.raises(Problem) as refused:
        week_bounds("2025-W53")
    assert refused.value.status == 422


def test_production_refuses_a_placeholder_smtp_password_but_allows_no_credentials():
    production = dict(environment="production", amqp_url="amqp://tracker:s3cret@rabbitmq:5672/")
    assert Settings(**production).smtp_username is None
    with pytest.raises(ValidationError, match="SMTP_PASSWORD"):
        Settings(**production, smtp_username="mailer", smtp_password="changeme")
    assert Settings(**production, smtp_username="mailer", smtp_password="x9$Lq2!v").smtp_password is not None
    with pytest.raises(ValidationError):
        Settings(mail_from="not-an-address")
