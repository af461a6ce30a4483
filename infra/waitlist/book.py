"""The waitlist process manager's book in SQL, and the process as a consumer of the runtime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, Engine, Table, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.processes.waitlist.process import OPEN, SKIPPED, SWEEP, WaitlistProcess, task_id
from domain.envelope import Envelope
from infra.waitlist.tables import waitlist_tasks, waitlist_watch


class SqlWaitlistBook:
    """`WaitlistBook` on the process's tables, inside the consumer runtime's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert

    def schedule(self, trigger: Envelope, kind: str, key: str, due_at: datetime) -> None:
        if kind == SWEEP and self._sweep_waiting(key):
            return  # it will run after this event was recorded, and see what it did
        now = trigger.occurred_at
        self.conn.execute(
            self.insert(waitlist_tasks)
            .values(
                id=task_id(trigger.id, kind),
                kind=kind,
                key=key,
                causation_id=trigger.id,
                correlation_id=trigger.correlationid,
                due_at=due_at,
                status=OPEN,
                attempts=0,
                failures=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )

    def _sweep_waiting(self, key: str) -> bool:
        t = waitlist_tasks.c
        unclaimed = (t.key == key) & (t.kind == SWEEP) & (t.status == OPEN)
        found = self.conn.execute(select(t.id).where(unclaimed & t.lease_until.is_(None)).limit(1))
        return found.first() is not None

    def close(self, key: str, kinds: Sequence[str], why: str) -> None:
        t = waitlist_tasks.c
        self.conn.execute(
            update(waitlist_tasks)
            .where((t.key == key) & t.kind.in_(kinds) & (t.status == OPEN))
            .values(status=SKIPPED, last_error=why)
        )

    def watch(self, entry_id: str, business_id: str, service_id: str, first_day: date) -> None:
        row = {
            "entry_id": entry_id,
            "business_id": business_id,
            "service_id": service_id,
            "first_day": first_day,
        }
        self.conn.execute(self.insert(waitlist_watch).values(row).on_conflict_do_nothing())

    def unwatch(self, entry_id: str) -> None:
        self.conn.execute(delete(waitlist_watch).where(waitlist_watch.c.entry_id == entry_id))

    def anyone_waiting(self) -> bool:
        return bool(self.conn.execute(select(exists().select_from(waitlist_watch))).scalar())

    def businesses_waited_at(
        self, business_id: str | None = None, service_id: str | None = None
    ) -> list[str]:
        w = waitlist_watch.c
        where = w.business_id == business_id if business_id else w.service_id == service_id
        found = self.conn.execute(select(w.business_id).where(where).distinct())
        return sorted(found.scalars())


class WaitingDaysInTable:
    """`WaitingDays` on the watch list: the UTC days where a business's line starts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, business_id: str) -> list[date]:
        w = waitlist_watch.c
        query = select(w.first_day).where(w.business_id == business_id).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())


class WaitlistConsumer:
    """The process as the consumer runtime sees it: its checkpoint and tasks in one
    transaction."""

    tables: Sequence[Table] = (waitlist_tasks, waitlist_watch)

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.process = WaitlistProcess(clock)
        self.name = self.process.name

    def handles(self, event_type: str) -> bool:
        return self.process.handles(event_type)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.process.react(SqlWaitlistBook(conn), envelope)
