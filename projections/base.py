"""The projector interface: plain code turning envelopes into read-model rows.

A projector never learns how events arrive: the embedded log follower and a
Kafka consumer both feed it through the consumer runtime, which owns
checkpoints, retries and dead letters. Projectors read envelopes only
(`domain.envelope.Envelope`), never event-store library objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, update

from domain.envelope import Envelope

Handler = Callable[[Connection, Envelope], None]


def change_row(conn: Connection, table: Table, envelope: Envelope, **values: Any) -> None:
    """Update the row of the envelope's aggregate, stamping its version and time."""
    conn.execute(
        update(table)
        .where(table.c.id == envelope.subject)
        .values(version=envelope.aggregateversion, updated_at=envelope.occurred_at, **values)
    )


class DispatchingProjector:
    """A projector whose `handlers` map envelope types to functions; others are skipped."""

    name = "projector"
    tables: Sequence[Table] = ()

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def handles(self, event_type: str) -> bool:
        return event_type in self._handlers()

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        handler = self._handlers().get(envelope.type)
        if handler is not None:
            handler(conn, envelope)

    def _handlers(self) -> dict[str, Handler]:
        cached: dict[str, Handler] | None = self.__dict__.get("_cached_handlers")
        if cached is None:
            cached = self.__dict__["_cached_handlers"] = self.handlers()
        return cached
