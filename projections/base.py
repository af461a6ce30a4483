"""The projector interface: plain code turning envelopes into read-model rows.

A projector never learns how events arrive: the embedded log follower and a
Kafka consumer both feed it through the consumer runtime, which owns
checkpoints, retries and dead letters. Projectors read envelopes only
(`domain.envelope.Envelope`), never event-store library objects.

Handlers change rows in a `Workspace` (`projections.workspace`): `apply_batch`
folds many envelopes into one and writes it back in bulk; `apply`, the live
path, is a batch of one through the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from domain.envelope import Envelope
from projections.workspace import Workspace

Handler = Callable[[Workspace, Envelope], None]


def change_row(ws: Workspace, table: Table, envelope: Envelope, **values: Any) -> None:
    """Change the row of the envelope's aggregate, stamping its version and time."""
    stamp = {"version": envelope.aggregateversion, "updated_at": envelope.occurred_at}
    ws.change(table, (envelope.subject,), **stamp, **values)


class DispatchingProjector:
    """A projector whose `handlers` map envelope types to functions; others are skipped."""

    name = "projector"
    tables: Sequence[Table] = ()
    # Tables keyed by the aggregate id: loaded for a whole batch in one query each.
    by_subject: Sequence[Table] = ()

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def handles(self, event_type: str) -> bool:
        return event_type in self._handlers()

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.apply_batch(conn, [envelope])

    def apply_batch(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """Fold the envelopes, in order, into rows held in memory; write them back in bulk."""
        handlers = self._handlers()
        handled = [(handlers[e.type], e) for e in envelopes if e.type in handlers]
        if not handled:
            return
        ws = Workspace(conn)
        subjects = [(e.subject,) for _, e in handled]
        for table in self.by_subject:
            ws.load(table, subjects)
        for handler, envelope in handled:
            self.fold(ws, handler, envelope)
        ws.flush()

    def fold(self, ws: Workspace, handler: Handler, envelope: Envelope) -> None:
        handler(ws, envelope)

    def _handlers(self) -> dict[str, Handler]:
        cached: dict[str, Handler] | None = self.__dict__.get("_cached_handlers")
        if cached is None:
            cached = self.__dict__["_cached_handlers"] = self.handlers()
        return cached
