"""The payment saga's task book in SQL, and the saga as a consumer of the runtime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.processes.payment.saga import OPEN, SKIPPED, PaymentSaga, task_id
from domain.envelope import Envelope
from infra.payments.tables import payment_tasks


class SqlTaskBook:
    """`TaskBook` on the `payment_tasks` table, inside the consumer runtime's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schedule(
        self,
        trigger: Envelope,
        kind: str,
        booking_id: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        now = trigger.occurred_at
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(
            insert(payment_tasks)
            .values(
                id=task_id(trigger.id, kind),
                kind=kind,
                booking_id=booking_id,
                payload=payload or {},
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

    def close(self, booking_id: str, kinds: Sequence[str], why: str) -> None:
        self.conn.execute(
            update(payment_tasks)
            .where(
                (payment_tasks.c.booking_id == booking_id)
                & payment_tasks.c.kind.in_(kinds)
                & (payment_tasks.c.status == OPEN)
            )
            .values(status=SKIPPED, last_error=why)
        )

    def has_tasks(self, booking_id: str) -> bool:
        found = self.conn.execute(
            select(payment_tasks.c.id).where(payment_tasks.c.booking_id == booking_id).limit(1)
        )
        return found.first() is not None


class SagaConsumer:
    """The saga as the consumer runtime sees it: its checkpoint and tasks in one transaction."""

    tables: Sequence[Table] = (payment_tasks,)

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.saga = PaymentSaga(clock)
        self.name = self.saga.name

    def handles(self, event_type: str) -> bool:
        return self.saga.handles(event_type)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.saga.react(SqlTaskBook(conn), envelope)
