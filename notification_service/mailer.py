"""SMTP through fastapi-mail, and which failures are worth retrying."""

import base64
from email.utils import formataddr
from io import BytesIO

import aiosmtplib
from fastapi_mail import ConnectionConfig, FastMail, MessageSchema, MessageType
from fastapi_mail.errors import ConnectionErrors
from pydantic import SecretStr, ValidationError
from starlette.datastructures import Headers, UploadFile

from .models import EmailRecord
from .settings import Settings

MAX_ERROR_LENGTH = 500


class DeliveryFailed(Exception):
    """A send that did not go through; permanent when retrying cannot help (the address is refused)."""

    def __init__(self, message: str, *, permanent: bool, smtp_code: int | None = None) -> None:
        super().__init__(message[:MAX_ERROR_LENGTH])
        self.permanent, self.smtp_code = permanent, smtp_code


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(exc: Exception) -> DeliveryFailed:
    """Connection and 4xx problems are transient (the relay comes back); a refused recipient or a rejected
    message (5xx) is permanent, and so is an address that is not an email address at all."""
    if isinstance(exc, ValidationError):
        return DeliveryFailed("invalid email address", permanent=True)
    if isinstance(exc, ConnectionErrors):
        return DeliveryFailed(f"SMTP connection failed: {exc.expression}", permanent=False)
    for link in _chain(exc):
        if isinstance(link, aiosmtplib.SMTPRecipientsRefused):
            codes = [r.code for r in link.recipients]
            return DeliveryFailed(f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes),
                                  smtp_code=codes[0] if codes else None)
        if isinstance(link, aiosmtplib.SMTPResponseException):
            rejected = isinstance(link, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError)
            permanent = rejected and link.code >= 500
            return DeliveryFailed(f"SMTP {link.code}: {link.message}", permanent=permanent, smtp_code=link.code)
    return DeliveryFailed(f"{exc.__class__.__name__}: {exc}", permanent=False)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.config = ConnectionConfig(
            MAIL_USERNAME=settings.smtp_username or "",
            MAIL_PASSWORD=settings.smtp_password or SecretStr(""),
            MAIL_SERVER=settings.smtp_host, MAIL_PORT=settings.smtp_port,
            MAIL_STARTTLS=settings.smtp_starttls, MAIL_SSL_TLS=settings.smtp_ssl_tls,
            USE_CREDENTIALS=bool(settings.smtp_username), VALIDATE_CERTS=settings.smtp_validate_certs,
            MAIL_FROM=settings.mail_from, MAIL_FROM_NAME=settings.mail_from_name,
            TIMEOUT=settings.smtp_timeout_seconds, TEMPLATE_FOLDER=None, SUPPRESS_SEND=0,
        )
        self.client = FastMail(self.config)

    @staticmethod
    def message_for(record: EmailRecord) -> MessageSchema:
        attachments = [
            UploadFile(BytesIO(base64.b64decode(a.content_base64)), filename=a.filename,
                       headers=Headers({"content-type": a.content_type}))
            for a in record.attachments
        ]
        return MessageSchema(
            recipients=[formataddr((record.to_name, record.to_address)) if record.to_name else record.to_address],
            subject=record.subject, body=record.body_text, subtype=MessageType.plain,
            reply_to=[record.reply_to] if record.reply_to else [], from_name=record.from_name,
            attachments=attachments, headers={"X-Tracker-Email-Id": str(record.id)},
        )

    async def send(self, record: EmailRecord) -> None:
        """Deliver one email; raises DeliveryFailed."""
        try:
            await self.client.send_message(self.message_for(record))
        except Exception as exc:
            raise classify(exc) from exc
