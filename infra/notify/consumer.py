"""The notifier on the consumer runtime: its reactions write intents with its checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.processes.notify.ports import Intent
from commands.processes.notify.reactions import NotifyReactions
from commands.processes.notify.rules import REMINDER
from domain.envelope import Envelope
from infra.notify.tables import notify_outbox

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

    def plan(self, intent: Intent, cause: str) -> None:
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        now = self.clock()
        row = {
            **intent.__dict__,
            "id": intent_id(intent),
            "cause": cause,
            "status": PLANNED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        self.conn.execute(insert(notify_outbox).values(row).on_conflict_do_nothing())

    def drop_reminders(self, booking_id: str, why: str) -> None:
        self.conn.execute(
            update(notify_outbox)
            .where(
                (notify_outbox.c.booking_id == booking_id)
                & notify_outbox.c.kind.startswith(REMINDER)
                & (notify_outbox.c.status == PLANNED)
            )
            .values(status=SKIPPED, last_error=why, updated_at=self.clock())
        )


class NotifyConsumer:
    """`apply(conn, envelope)` for the runtime, around the pure reactions."""

    name = "notifier"
    tables: Sequence[Table] = (notify_outbox,)

    def __init__(self, reactions: NotifyReactions, clock: Callable[[], datetime]) -> None:
        self.reactions, self.clock = reactions, clock

    def handles(self, event_type: str) -> bool:
        return self.reactions.handles(event_type)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.reactions.react(SqlOutbox(conn, self.clock), envelope)
