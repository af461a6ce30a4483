"""The deliverer's queue on SQL: claim each webhook's due head under a lease, record attempts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, insert, or_, select, update

from commands.processes.webhooks.deliverer import DEAD, GONE, PENDING
from commands.processes.webhooks.ports import Answer, Due
from infra.webhooks.tables import webhook_attempts, webhook_deliveries, webhook_subscriptions

D, S = webhook_deliveries, webhook_subscriptions

# Built once: the worker runs them every poll (0.1 s), and building and keying them cost it
# more than running them did.
WITH_WORK = (
    select(S.c.id, S.c.url, S.c.secrets)
    .where(S.c.enabled & ~S.c.deleted)
    .where(select(D.c.id).where((D.c.webhook_id == S.c.id) & (D.c.status == PENDING)).exists())
)
HEAD = (
    select(D)
    .where((D.c.webhook_id == bindparam("webhook_id")) & (D.c.status == PENDING))
    .order_by(D.c.batch_position, D.c.position)
    .limit(1)
)


class SqlDeliveryQueue:
    """`DeliveryQueue` on the event-store database."""

    def __init__(self, engine: Engine, lease_seconds: float = 60.0) -> None:
        self.engine, self.lease = engine, timedelta(seconds=lease_seconds)

    def claim_heads(
        self, now: datetime, busy: set[str], limit: int, only: str | None = None
    ) -> list[Due]:
        with self.engine.begin() as conn:
            heads = self._heads(conn, now, busy, limit, only)
            claimed = []
            for row in heads:
                free = or_(D.c.lease_until.is_(None), D.c.lease_until < now)
                taken = conn.execute(
                    update(D).where((D.c.id == row.id) & free).values(lease_until=now + self.lease)
                )
                if taken.rowcount == 1:
                    claimed.append(_due(row, now))
            return claimed

    def _heads(
        self, conn: Any, now: datetime, busy: set[str], limit: int, only: str | None
    ) -> list[Any]:
        # Each enabled webhook with work, then its head: its first pending delivery in
        # (batch, position) order. Only the head may go: log order per webhook.
        query = WITH_WORK if only is None else WITH_WORK.where(S.c.id == only)
        webhooks = conn.execute(query).all()
        heads: list[_Head] = []
        for webhook in webhooks:
            if webhook.id in busy or len(heads) >= limit:
                continue
            head = conn.execute(HEAD, {"webhook_id": webhook.id}).first()
            leased = head is not None and head.lease_until is not None and head.lease_until >= now
            if head is not None and head.next_attempt_at <= now and not leased:
                heads.append(_Head(head, webhook, now))
        return heads

    def record(
        self,
        due: Due,
        answer: Answer,
        at: datetime,
        status: str,
        next_attempt_at: datetime | None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "attempts": due.attempts + 1,
            "first_attempt_at": due.first_attempt_at or at,
            "lease_until": None,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.engine.begin() as conn:
            row = conn.execute(
                update(D)
                .where(D.c.id == due.delivery_id)
                .values(values)
                .returning(D.c.event_type, D.c.position)
            ).one()
            if status in (GONE, DEAD):  # stop at once; the Disabled event follows
                conn.execute(update(S).where(S.c.id == due.webhook_id).values(enabled=False))
            conn.execute(
                insert(webhook_attempts).values(
                    delivery_id=due.delivery_id,
                    webhook_id=due.webhook_id,
                    event_id=due.event_id,
                    event_type=row.event_type,
                    position=row.position,
                    attempt=due.attempts + 1,
                    at=at,
                    status_code=answer.status,
                    duration_ms=answer.duration_ms,
                    error=answer.error[:2000],
                    outcome=status,
                )
            )


class _Head:
    """A head row with its webhook's address and the secrets valid now."""

    def __init__(self, row: Any, webhook: Any, now: datetime) -> None:
        self.id, self.row, self.webhook, self.now = row.id, row, webhook, now


def _due(head: _Head, now: datetime) -> Due:
    valid = tuple(
        secret_id
        for secret_id, until in head.webhook.secrets
        if until is None or datetime.fromisoformat(until) > now
    )
    row = head.row
    return Due(
        delivery_id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        body=bytes(row.body),
        url=head.webhook.url,
        secret_ids=valid,
        attempts=row.attempts,
        first_attempt_at=row.first_attempt_at,
    )
