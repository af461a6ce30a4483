"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepted."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """Accepts every message; `messages` in arrival order, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.peers: list[Any] = []  # each message's client address: one per connection
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.peers.append(session.peer)
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


def start_mailbox(box: Mailbox | None = None, port: int = 0) -> tuple[Controller, Mailbox]:
    box = box or Mailbox()
    if not port:
        with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, box


def smtp_url(controller: Controller) -> str:
    return f"smtp://127.0.0.1:{controller.port}"


def calendar_part(message: EmailMessage) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no text/calendar part")


def text_part(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
