"""The SMTP adapter keeps one connection across messages and replaces a dropped one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from commands.processes.notify.ports import Email
from infra.notify.smtp import SmtpMailer
from tests.notify.mailbox import Mailbox, smtp_url, start_mailbox


def email(n: int) -> Email:
    return Email(
        message_id=f"<m{n}@salon.example>",
        to=f"c{n}@example.com",
        subject=f"Booking {n}",
        text="Hello",
        html="<p>Hello</p>",
        ics=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        ics_method="REQUEST",
    )


@pytest.fixture
def server() -> Iterator[tuple[Controller, Mailbox]]:
    controller, box = start_mailbox()
    yield controller, box
    controller.stop()


def test_a_batch_of_emails_goes_through_one_connection(
    server: tuple[Controller, Mailbox],
) -> None:
    controller, box = server
    mailer = SmtpMailer(smtp_url(controller), "Salon <bookings@salon.example>")
    marks: list[int] = []
    for n in range(5):
        mailer.send(email(n), lambda n=n: marks.append(n))  # type: ignore[misc]
    mailer.close()
    assert [m["To"] for m in box.wait_for(5)] == [f"c{n}@example.com" for n in range(5)]
    assert marks == [0, 1, 2, 3, 4]  # each marked before the server could accept it
    assert len(set(box.peers)) == 1


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_message() -> None:
    controller, box = start_mailbox()
    mailer = SmtpMailer(smtp_url(controller), "Salon <bookings@salon.example>")
    mailer.send(email(0), lambda: None)
    controller.stop()  # the server goes away while the mailer holds its connection
    again, _ = start_mailbox(box, controller.port)
    try:
        mailer.send(email(1), lambda: None)
        mailer.close()
    finally:
        again.stop()
    assert [m["To"] for m in box.wait_for(2)] == ["c0@example.com", "c1@example.com"]
    assert len(set(box.peers)) == 2


def test_a_failure_at_the_commit_point_sends_nothing_and_the_next_one_goes(
    server: tuple[Controller, Mailbox],
) -> None:
    controller, box = server
    mailer = SmtpMailer(smtp_url(controller), "Salon <bookings@salon.example>")

    def refuse() -> None:
        raise RuntimeError("lease lost")

    with pytest.raises(RuntimeError):
        mailer.send(email(0), refuse)
    mailer.send(email(1), lambda: None)
    mailer.close()
    assert [m["To"] for m in box.wait_for(1)] == ["c1@example.com"]


def test_the_connection_sends_without_waiting_for_acknowledgements(
    server: tuple[Controller, Mailbox],
) -> None:
    """The final "." of each message is a write of its own: with Nagle's algorithm on, it waits
    for the server's delayed ACK (about 40 ms a message; bench/notify_delay.py measures it)."""
    controller, box = server
    mailer = SmtpMailer(smtp_url(controller), "Salon <bookings@salon.example>")
    for n in range(3):
        mailer.send(email(n), lambda: None)
    client = mailer._client  # the connection the next message will use
    assert client is not None and client.sock is not None
    assert client.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    mailer.close()
    assert len(box.wait_for(3)) == 3
    assert len(set(box.peers)) == 1
