"""Notification service settings: SMTP, the email sender's retry policy, the weekly report schedule."""

from pydantic import EmailStr, SecretStr, model_validator

from shared.settings import PLACEHOLDER_SECRETS, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notification_service"

    # SMTP through fastapi-mail. Credentials are optional (a local relay or Mailpit needs none).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # a secret in production, whenever a username is set
    smtp_starttls: bool = False
    smtp_ssl_tls: bool = False
    smtp_validate_certs: bool = True
    smtp_timeout_seconds: int = 15
    mail_from: EmailStr = "no-reply@tracker.example"
    mail_from_name: str = "Expense Tracker"
    app_base_url: str = "http://localhost:5173"  # links in emails point at the SPA

    # The background sender: SMTP outages delay mail, never lose it.
    email_poll_seconds: float = 1.0
    email_retry_base_seconds: float = 5.0  # back-off doubles from here on every failed attempt ...
    email_retry_max_seconds: float = 900.0  # ... up to this cap
    email_max_attempts: int = 12  # then the email is marked permanently failed
    email_send_concurrency: int = 4
    email_retention_days: int = 30  # sent and failed records are purged after this
    read_notification_retention_days: int = 180  # unread in-app notifications are kept until read

    # The weekly report: each user's last ISO week, sent once per user per week.
    weekly_report_enabled: bool = True
    weekly_report_check_seconds: float = 300.0
    weekly_report_send_hour: int = 8  # local hour on Monday from which last week's report goes out
    weekly_report_top_categories: int = 5

    @property
    def email_lease_seconds(self) -> float:
        """How long a sender owns a claimed email: well beyond one SMTP exchange, so no other instance
        sends it meanwhile, yet short enough that a crashed sender's email is picked up again."""
        return max(30.0, self.smtp_timeout_seconds * 4.0)

    @model_validator(mode="after")
    def _smtp_password_is_a_real_secret(self) -> "Settings":
        if self.environment == "production" and self.smtp_username:
            password = self.smtp_password.get_secret_value() if self.smtp_password else ""
            if password.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("SMTP_PASSWORD must be set to a real secret in production when SMTP_USERNAME is")
        return self
