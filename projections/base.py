"""The projector interface and the runner that applies events with exactly-once effects.

A projector is plain code: `apply(conn, event, position)` changes its tables.
It never learns how events arrive: the embedded follower and (later) a Kafka
consumer both hand the runner `(domain event, position)` pairs. The runner
writes each projector's tracking in the same transaction as its changes, so a
redelivered event is skipped and a crash loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, insert, select, update

from projections.tables import metadata, projection_tracking

Delivery = tuple[Any, int]  # (domain event, global position)
Handler = Callable[[Connection, Any, int], None]


def event_name(event: Any) -> str:
    """'Booking.Placed' for a Booking.Placed event: what projectors dispatch on."""
    return type(event).__qualname__


def change_row(conn: Connection, table: Table, event: Any, **values: Any) -> None:
    """Update the row of the event's aggregate, stamping its version and time."""
    conn.execute(
        update(table)
        .where(table.c.id == str(event.originator_id))
        .values(version=event.originator_version, updated_at=event.timestamp, **values)
    )


class Projector(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> Sequence[Table]: ...

    def apply(self, conn: Connection, event: Any, position: int) -> None: ...


class DispatchingProjector:
    """A projector whose `handlers` map event names to functions; others are skipped."""

    name = "projector"
    tables: Sequence[Table] = ()

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def apply(self, conn: Connection, event: Any, position: int) -> None:
        handler = self._handlers().get(event_name(event))
        if handler is not None:
            handler(conn, event, position)

    def _handlers(self) -> dict[str, Handler]:
        cached: dict[str, Handler] | None = self.__dict__.get("_cached_handlers")
        if cached is None:
            cached = self.__dict__["_cached_handlers"] = self.handlers()
        return cached


class ProjectionRunner:
    """Applies deliveries to each projector, tracking positions transactionally."""

    def __init__(self, engine: Engine, projectors: Iterable[Projector]) -> None:
        self.engine = engine
        self.projectors = list(projectors)

    def setup(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            known = set(conn.scalars(select(projection_tracking.c.projector)))
            for projector in self.projectors:
                if projector.name not in known:
                    conn.execute(
                        insert(projection_tracking).values(projector=projector.name, position=0)
                    )

    def positions(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(projection_tracking)).all()
        return {row.projector: row.position for row in rows}

    def low_water_mark(self) -> int:
        """The position every projector has reached: reads reflect all writes up to it."""
        positions = self.positions()
        return min((positions.get(p.name, 0) for p in self.projectors), default=0)

    def handle(self, deliveries: Sequence[Delivery]) -> None:
        for projector in self.projectors:
            self._handle_one(projector, deliveries)

    def _handle_one(self, projector: Projector, deliveries: Sequence[Delivery]) -> None:
        with self.engine.begin() as conn:
            current = conn.execute(
                select(projection_tracking.c.position)
                .where(projection_tracking.c.projector == projector.name)
                .with_for_update()
            ).scalar_one()
            last = current
            for event, position in deliveries:
                if position > last:
                    projector.apply(conn, event, position)
                    last = position
            if last != current:
                conn.execute(
                    update(projection_tracking)
                    .where(projection_tracking.c.projector == projector.name)
                    .values(position=last)
                )

    def reset(self, projector: Projector) -> None:
        """Empty a projector's tables and tracking, ready to rebuild from position 0."""
        with self.engine.begin() as conn:
            for table in projector.tables:
                conn.execute(table.delete())
            conn.execute(
                update(projection_tracking)
                .where(projection_tracking.c.projector == projector.name)
                .values(position=0)
            )
