"""Sends due intents at most once: claim a batch under a lease, mark `sending`, send, mark `sent`.

A failure the server states (SMTP 4xx, a 5xx from the SMS API) is retried
with doubling backoff up to `max_attempts`, then the intent is parked as
`failed`; a refusal (SMTP 5xx, SMS 4xx) fails at once. An intent found
`sending` after its lease ran out was interrupted at the commit point: the
server may have taken it, so it is never sent again (`unconfirmed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

from commands.processes.notify.deliver import Skip, Sms, prepare
from commands.processes.notify.ports import (
    BookingFacts,
    BusinessFacts,
    Directory,
    Intent,
    Mailer,
    Refused,
    Texter,
    Transient,
    WebhookFacts,
)
from domain.notify import NotificationSettings
from infra.notify.consumer import FAILED, PLANNED, SENDING, SENT, SKIPPED, UNCONFIRMED
from infra.notify.tables import notify_outbox as outbox
from infra.tasks import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy(Backoff):
    lease_seconds: float = 30.0
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 300.0
    max_attempts: int = 8


class Lost(Exception):
    """Our lease on the intent ran out and another worker took it: leave it to them."""


class _BatchDirectory:
    """The directory read once per booking (and business) for one batch."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._bookings: dict[tuple[str, int], BookingFacts | None] = {}
        self._businesses: dict[str, BusinessFacts | None] = {}

    def business(self, business_id: str) -> BusinessFacts | None:
        if business_id not in self._businesses:
            self._businesses[business_id] = self.directory.business(business_id)
        return self._businesses[business_id]

    def booking(self, booking_id: str, version: int) -> BookingFacts | None:
        key = (booking_id, version)
        if key not in self._bookings:
            self._bookings[key] = self.directory.booking(booking_id, version)
        return self._bookings[key]

    def business_of(self, booking_id: str) -> str | None:
        return self.directory.business_of(booking_id)

    def webhook(self, webhook_id: str, version: int) -> WebhookFacts | None:
        return self.directory.webhook(webhook_id, version)

    def settings_at(self, business_id: str, version: int) -> NotificationSettings | None:
        return self.directory.settings_at(business_id, version)


class Deliveries:
    """The outbox worked through by one or more notification workers.

    Per batch: one commit claims it; per message, `sending` is committed right
    before the server can accept and `sent` on its 250 (the at-most-once rule);
    outcomes that need no commit of their own (skips, retries, failures) ride
    along with the next of those commits, or one at the end of the batch.
    """

    def __init__(
        self,
        engine: Engine,
        directory: Directory,
        mailer: Mailer | None,
        texter: Texter | None,
        clock: Callable[[], datetime],
        mail_domain: str = "slotwise.invalid",
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self.engine, self.directory, self.clock = engine, directory, clock
        self.mailer, self.texter, self.mail_domain = mailer, texter, mail_domain
        self.policy = policy or DeliveryPolicy()
        self._pending: list[tuple[str, dict[str, Any]]] = []

    def run_due(self, limit: int = 50) -> int:
        """Send what is due now; returns how many intents were handled."""
        self._give_up_interrupted()
        lease, claimed = self._claim(limit)
        directory = _BatchDirectory(self.directory)
        try:
            for n, row in enumerate(claimed):
                if self.clock() >= lease:  # too slow for our lease: let the rest be reclaimed
                    self._release([r.id for r in claimed[n:]], lease)
                    return n
                self._deliver(row, lease, directory)
        finally:
            self._flush()
        return len(claimed)

    def _deliver(self, row: Any, lease: datetime, directory: Directory) -> None:
        intent = _intent(row)
        try:
            message = prepare(
                intent,
                row.id,
                directory,
                self.clock(),
                self.mail_domain,
                self.texter is not None,
            )
        except Exception as error:  # a bug or a database hiccup: counted, retried, parked
            log.exception("notification %s could not be prepared", row.id)
            self._retry(row, f"{type(error).__name__}: {error}")
            return
        if isinstance(message, Skip):
            log.info("notification %s skipped: %s", row.id, message.why)
            self._finish(row.id, SKIPPED, message.why)
            return
        if isinstance(message, Sms):
            if self.texter is None:
                self._finish(row.id, SKIPPED, "SMS is not configured")
                return
            texter = self.texter
            self._send(row, lease, None, lambda mark: texter.send(message.to, message.body, mark))
            return
        if self.mailer is None:
            self._finish(row.id, SKIPPED, "email is not configured (SLOTWISE_SMTP_URL)")
            return
        mailer = self.mailer
        self._send(row, lease, message.message_id, lambda mark: mailer.send(message, mark))

    def _send(
        self,
        row: Any,
        lease: datetime,
        message_id: str | None,
        send: Callable[[Callable[[], None]], None],
    ) -> None:
        marked: list[bool] = []

        def mark_sending() -> None:
            self._mark_sending(row.id, lease, message_id)
            marked.append(True)

        try:
            send(mark_sending)
        except Lost:
            log.warning("notification %s was taken by another worker; not sent here", row.id)
        except Refused as error:
            log.error("notification %s refused: %s", row.id, error)
            self._finish(row.id, FAILED, f"refused: {error}")
        except Transient as error:
            self._retry(row, str(error))
        except Exception as error:
            if marked:  # lost at the commit point: the server may have it; never resend
                log.error("notification %s unconfirmed: %s", row.id, error)
                self._finish(row.id, UNCONFIRMED, f"interrupted at the commit point: {error}")
            else:
                self._retry(row, f"{type(error).__name__}: {error}")
        else:
            self._finish(row.id, SENT, "")
            self._flush()  # `sent` on the server's 250, message by message

    def _retry(self, row: Any, note: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.policy.max_attempts:
            log.error("notification %s parked after %d attempts: %s", row.id, attempts, note)
            self._finish(row.id, FAILED, note, attempts=attempts)
            return
        due = self.clock() + self.policy.backoff(attempts)
        log.warning("notification %s will retry at %s: %s", row.id, due.isoformat(), note)
        self._finish(row.id, PLANNED, note, attempts=attempts, due_at=due)

    def _claim(self, limit: int) -> tuple[datetime, list[Any]]:
        """Lease up to `limit` due intents in one statement; another worker skips them."""
        now = self.clock()
        free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        due = (outbox.c.status == PLANNED) & (outbox.c.due_at <= now) & free
        lease = now + timedelta(seconds=self.policy.lease_seconds)
        oldest = (
            select(outbox.c.id)
            .where(due)
            .order_by(outbox.c.due_at, outbox.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        )
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(oldest.scalar_subquery()) & due)
                .values(lease_until=lease)
                .returning(*outbox.c)
            ).all()
        return lease, sorted(rows, key=lambda r: (r.due_at, r.seq))

    def _release(self, ids: list[str], lease: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids) & (outbox.c.lease_until == lease))
                .values(lease_until=None)
            )

    def _mark_sending(self, intent_id: str, lease: datetime, message_id: str | None) -> None:
        """Commit `sending` (and the outcomes waiting) while the lease is still ours."""
        mine = (
            (outbox.c.id == intent_id)
            & (outbox.c.status == PLANNED)
            & (outbox.c.lease_until == lease)
        )
        with self.engine.begin() as conn:
            self._write_pending(conn)
            taken = conn.execute(
                update(outbox)
                .where(mine)
                .values(status=SENDING, message_id=message_id, updated_at=self.clock())
            )
        if taken.rowcount != 1:
            raise Lost(intent_id)

    def _finish(self, intent_id: str, status: str, note: str, **values: Any) -> None:
        """Note an outcome; it is committed with the next commit (see `_flush`)."""
        row = {"status": status, "last_error": note[:2000] or None, "lease_until": None}
        self._pending.append((intent_id, {**row, "updated_at": self.clock(), **values}))

    def _flush(self) -> None:
        if self._pending:
            with self.engine.begin() as conn:
                self._write_pending(conn)

    def _write_pending(self, conn: Connection) -> None:
        # Safe to defer: until written, a skipped or retried row is still `planned`
        # under our lease (redone once it runs out), and a `sending` one becomes
        # `unconfirmed` (never resent).
        pending, self._pending = self._pending, []
        for intent_id, values in pending:
            conn.execute(update(outbox).where(outbox.c.id == intent_id).values(**values))

    def _give_up_interrupted(self) -> None:
        """`sending` rows whose worker died: the server may have taken them; never resend."""
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where((outbox.c.status == SENDING) & (outbox.c.lease_until < now))
                .values(
                    status=UNCONFIRMED,
                    lease_until=None,
                    updated_at=now,
                    last_error="the worker stopped at the commit point; not sent again",
                )
            )


def _intent(row: Any) -> Intent:
    return Intent(
        row.booking_id,
        row.business_id,
        row.kind,
        row.version,
        row.channel,
        row.audience,
        row.due_at,
    )
