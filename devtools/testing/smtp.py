"""An SMTP sink that keeps every message: aiosmtpd in tests, also the dev launcher's local mail catcher."""

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        parts = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        return "\n".join(parts)

    def attachments(self) -> list[tuple[str, bytes]]:
        return [(part.get_filename() or "", part.get_payload(decode=True))
                for part in self.message.iter_attachments()]


@dataclass
class MailSink:
    messages: list[CapturedMail] = field(default_factory=list)
    store_dir: Path | None = None
    refuse: bool = False  # tests flip it to simulate an SMTP outage

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "421 service not available, try later"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(CapturedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.store_dir is not None:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            (self.store_dir / f"{len(list(self.store_dir.glob('*.eml'))) + 1:06d}.eml").write_bytes(raw)
        return "250 OK"

    def to(self, address: str) -> list[CapturedMail]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]


class SmtpServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, store_dir: Path | None = None) -> None:
        self.sink = MailSink(store_dir=store_dir)
        from devtools.testing.net import free_port

        self.host, self.port = host, port or free_port()
        self._controller = Controller(self.sink, hostname=host, port=self.port)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
