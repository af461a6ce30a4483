"""Email through SMTP (smtplib), with the last step before acceptance made visible.

`send` walks the SMTP conversation itself so it can call `committing` right
before the end of DATA: until then the server has accepted nothing, so a
failure is safe to retry; after it, only the server's reply says whether the
message went (see docs/notifications.md, "At most once").
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from commands.processes.notify.ports import Email, Refused, Transient


class SmtpMailer:
    """One connection per message (simple and robust; see the bench for its cost)."""

    def __init__(self, url: str, mail_from: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SLOTWISE_SMTP_URL is smtp://[user:pass@]host:port or smtps://…")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.mail_from, self.timeout = mail_from, timeout
        self.envelope_from = parseaddr(mail_from)[1]

    def send(self, email: Email, committing: Callable[[], None]) -> None:
        data = _message(email, self.mail_from).as_bytes()
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise Transient(f"cannot reach {self.host}:{self.port}: {error}") from error
        with client:
            self._envelope(client, email.to)
            self._data(client, data, committing)

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        client.ehlo_or_helo_if_needed()
        if self.user:
            client.login(self.user, self.password)
        return client

    def _envelope(self, client: smtplib.SMTP, to: str) -> None:
        for reply in (client.mail(self.envelope_from), client.rcpt(to)):
            _check(reply)

    def _data(self, client: smtplib.SMTP, data: bytes, committing: Callable[[], None]) -> None:
        client.putcmd("data")
        _check(client.getreply(), expected=354)
        body = smtplib.quotedata(data.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        client.send(body)
        committing()  # from here the server may accept the message at any moment
        client.send(b".\r\n")
        _check(client.getreply(), expected=250)


def _check(reply: tuple[int, bytes], expected: int = 250) -> None:
    code, text = reply
    if code == expected or (expected == 250 and 200 <= code < 300):
        return
    detail = f"{code} {text.decode('utf-8', 'replace')}"
    if 400 <= code < 500 or code < 0:
        raise Transient(detail)
    raise Refused(detail)


def _message(email: Email, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail_from, email.to, email.subject
    message["Message-ID"], message["Date"] = email.message_id, formatdate(localtime=False)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    message.add_attachment(
        email.ics,
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params={"method": email.ics_method},
    )
    return message
