"""Email through SMTP (smtplib), with the last step before acceptance made visible.

`send` walks the SMTP conversation itself so it can call `committing` right
before the end of DATA: until then the server has accepted nothing, so a
failure is safe to retry; after it, only the server's reply says whether the
message went (see docs/notifications.md, "At most once"). One connection is
kept open across messages (a batch costs one greeting, not one per message);
a connection the server dropped while idle is replaced once, before anything
of the message was sent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from commands.processes.notify.ports import Email, Refused, Transient


class SmtpMailer:
    """One kept-open connection, replaced after an error or `idle_seconds` unused."""

    def __init__(
        self, url: str, mail_from: str, timeout: float = 10.0, idle_seconds: float = 30.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SLOTWISE_SMTP_URL is smtp://[user:pass@]host:port or smtps://…")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.mail_from, self.timeout, self.idle_seconds = mail_from, timeout, idle_seconds
        self.envelope_from = parseaddr(mail_from)[1]
        self._client: smtplib.SMTP | None = None
        self._used = 0.0
        self._lock = threading.Lock()

    def send(self, email: Email, committing: Callable[[], None]) -> None:
        data = _message(email, self.mail_from).as_bytes()
        with self._lock:
            reused = self._client is not None and time.monotonic() - self._used < self.idle_seconds
            if not reused:
                self._close()
            try:
                try:
                    client = self._open()
                    self._envelope(client, email.to)
                except (OSError, smtplib.SMTPServerDisconnected):
                    if not reused:
                        raise
                    self._drop()  # dropped while idle: nothing of this message went yet
                    client = self._open()
                    self._envelope(client, email.to)
                self._data(client, data, committing)
            except (Transient, Refused):
                self._reset()  # the server answered: the connection may serve the next one
                raise
            except BaseException:
                self._drop()  # cut off mid-conversation: hang up, no QUIT (it would be data)
                raise
            self._used = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _open(self) -> smtplib.SMTP:
        if self._client is None:
            try:
                self._client = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                raise Transient(f"cannot reach {self.host}:{self.port}: {error}") from error
        return self._client

    def _reset(self) -> None:
        if self._client is None:
            return
        try:
            code, _ = self._client.rset()
        except (OSError, smtplib.SMTPException):
            code = -1
        if code != 250:
            self._drop()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        # The final "." follows the body in a write of its own (the `sending` commit
        # is between them): without NODELAY, Nagle holds it until the server's
        # delayed ACK, about 40 ms a message.
        if client.sock is not None:
            client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
    if email.ics:  # none for a waitlist offer (no appointment yet) or a webhook notice
        message.add_attachment(
            email.ics,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": email.ics_method},
        )
    return message
