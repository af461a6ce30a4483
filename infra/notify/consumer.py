"""The notifier on the consumer runtime: its reactions write intents with its checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.processes.notify.ports import Intent, Upcoming
from commands.processes.notify.reactions import NotifyReactions
from commands.processes.notify.rules import REMINDER
from domain.envelope import Envelope
from infra.notify.tables import notify_bookings, notify_outbox

PLANNED, SENDING, SENT = "planned", "sending", "sent"
SKIPPED, FAILED, UNCONFIRMED = "skipped", "failed", "unconfirmed"


def intent_id(intent: Intent) -> str:
    """The key of at-most-once: one row per booking, kind, version, channel and audience."""
    parts = (intent.booking_id, intent.kind, str(intent.version), intent.channel, intent.audience)
    return "/".join(parts)


class SqlOutbox:
    """The `Outbox` port on one connection (the runtime's transaction)."""

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn, self.clock = conn, clock

    def _insert(self, table: Table) -> Any:
        """INSERT with ON CONFLICT, in the connection's dialect."""
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        return insert(table)

    def _row(self, intent: Intent, cause: str) -> dict[str, object]:
        now = self.clock()
        return {
            **intent.__dict__,
            "id": intent_id(intent),
            "cause": cause,
            "status": PLANNED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }

    def plan(self, intent: Intent, cause: str) -> None:
        row = self._row(intent, cause)
        self.conn.execute(self._insert(notify_outbox).values(row).on_conflict_do_nothing())

    def replan(self, intent: Intent, cause: str) -> None:
        row = self._row(intent, cause)
        insert = self._insert(notify_outbox).values(row)
        # Only a skipped row comes back (it never reached `sending`, so at most once holds);
        # planned, sent, failed and unconfirmed ones stay as they are.
        again = {
            "status": PLANNED,
            "due_at": insert.excluded.due_at,
            "cause": insert.excluded.cause,
            "attempts": 0,
            "last_error": None,
            "lease_until": None,
            "updated_at": insert.excluded.updated_at,
        }
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=[notify_outbox.c.id],
                set_=again,
                where=notify_outbox.c.status == SKIPPED,
            )
        )

    def drop_reminders(self, booking_id: str, why: str, keep: frozenset[str] = frozenset()) -> None:
        which = (
            (notify_outbox.c.booking_id == booking_id)
            & notify_outbox.c.kind.startswith(REMINDER)
            & (notify_outbox.c.status == PLANNED)
        )
        if keep:
            which &= notify_outbox.c.kind.not_in(sorted(keep))
        self.conn.execute(
            update(notify_outbox)
            .where(which)
            .values(status=SKIPPED, last_error=why, updated_at=self.clock())
        )

    def track(self, booking: Upcoming) -> None:
        row = booking.__dict__
        insert = self._insert(notify_bookings).values(row)
        changed = {"start": insert.excluded.start, "version": insert.excluded.version}
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=[notify_bookings.c.booking_id], set_=changed
            )
        )

    def untrack(self, booking_id: str) -> None:
        self.conn.execute(delete(notify_bookings).where(notify_bookings.c.booking_id == booking_id))

    def upcoming(self, business_id: str, after: datetime) -> list[Upcoming]:
        table = notify_bookings
        mine = table.c.business_id == business_id
        self.conn.execute(delete(table).where(mine & (table.c.start <= after)))
        rows = self.conn.execute(
            select(table).where(mine).order_by(table.c.start, table.c.booking_id)
        )
        return [Upcoming(r.booking_id, r.business_id, r.start, r.version) for r in rows]


class NotifyConsumer:
    """`apply(conn, envelope)` for the runtime, around the pure reactions."""

    name = "notifier"
    tables: Sequence[Table] = (notify_outbox, notify_bookings)

    def __init__(self, reactions: NotifyReactions, clock: Callable[[], datetime]) -> None:
        self.reactions, self.clock = reactions, clock

    def handles(self, event_type: str) -> bool:
        return self.reactions.handles(event_type)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.reactions.react(SqlOutbox(conn, self.clock), envelope)
