"""The dispatcher's book on SQL: subscriptions, owners and queued deliveries (one connection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.processes.webhooks.dispatcher import WebhookDispatcher
from commands.processes.webhooks.ports import Subscription
from domain.envelope import Envelope
from infra.envelopes import envelope_to_json
from infra.webhooks.tables import (
    webhook_deliveries,
    webhook_event_owners,
    webhook_subscriptions,
)
from projections.workspace import compiled_upsert
from projections.workspace import upsert as keyed_upsert


def upsert(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    """`row` (every column of `table`) in place of the row with its primary key."""
    if conn.dialect.name != "sqlite":
        conn.execute(keyed_upsert(table, conn.dialect.name), row)
        return
    # SQLAlchemy compiles SQLite's ON CONFLICT for every execution (it has no cache key):
    # with an upsert per new booking, that was most of the dispatcher's time in a pass.
    statement, binds = compiled_upsert(table, conn.dialect)
    values = tuple(process(row[name]) if process else row[name] for name, process in binds)
    conn.exec_driver_sql(statement, values)


def subscription_of(row: Any) -> Subscription:
    secrets = [(s, None if u is None else datetime.fromisoformat(u)) for s, u in row.secrets]
    return Subscription(
        id=row.id,
        business_id=row.business_id,
        url=row.url,
        events=list(row.events),
        description=row.description,
        enabled=row.enabled,
        deleted=row.deleted,
        disabled_reason=row.disabled_reason,
        secrets=secrets,
        created_at=row.created_at,
    )


# Built once: the dispatcher asks them for most events it reads.
SUBSCRIBERS = select(webhook_subscriptions).where(
    (webhook_subscriptions.c.business_id == bindparam("business_id"))
    & ~webhook_subscriptions.c.deleted
)
OWNER = select(webhook_event_owners.c.business_id).where(
    webhook_event_owners.c.subject == bindparam("subject")
)


class SqlDeliveryBook:
    """`DeliveryBook` inside the runtime's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def subscription(self, webhook_id: str) -> Subscription | None:
        query = select(webhook_subscriptions).where(webhook_subscriptions.c.id == webhook_id)
        row = self.conn.execute(query).first()
        return None if row is None else subscription_of(row)

    def save(self, subscription: Subscription) -> None:
        row = {
            "id": subscription.id,
            "business_id": subscription.business_id,
            "url": subscription.url,
            "events": subscription.events,
            "description": subscription.description,
            "enabled": subscription.enabled,
            "deleted": subscription.deleted,
            "disabled_reason": subscription.disabled_reason,
            "secrets": [[s, None if u is None else u.isoformat()] for s, u in subscription.secrets],
            "created_at": subscription.created_at,
        }
        upsert(self.conn, webhook_subscriptions, row)

    def subscribers(self, business_id: str) -> list[Subscription]:
        found = self.conn.execute(SUBSCRIBERS, {"business_id": business_id})
        return [subscription_of(r) for r in found]

    def owner_of(self, subject: str) -> str | None:
        return self.conn.execute(OWNER, {"subject": subject}).scalar()

    def remember_owner(self, subject: str, business_id: str) -> None:
        row = {"subject": subject, "business_id": business_id}
        upsert(self.conn, webhook_event_owners, row)

    def enqueue(self, webhook_id: str, envelope: Envelope, batch_position: int) -> None:
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        row = {
            "id": str(uuid5(UUID(webhook_id), f"{envelope.id}/{batch_position}")),
            "webhook_id": webhook_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "position": envelope.position,
            "batch_position": batch_position,
            "body": envelope_to_json(envelope),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": envelope.occurred_at,
            "created_at": envelope.occurred_at,
        }
        self.conn.execute(insert(webhook_deliveries).values(row).on_conflict_do_nothing())

    def drop_pending(self, webhook_id: str) -> None:
        table = webhook_deliveries
        pending = (table.c.webhook_id == webhook_id) & (table.c.status == "pending")
        self.conn.execute(update(table).where(pending).values(status="dropped"))


class DispatchConsumer:
    """The dispatcher as the consumer runtime sees it (`apply(conn, envelope)`)."""

    name = WebhookDispatcher.name
    tables: Sequence[Table] = ()

    def __init__(self, dispatcher: WebhookDispatcher) -> None:
        self.dispatcher = dispatcher

    def handles(self, event_type: str) -> bool:
        return self.dispatcher.handles(event_type)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.dispatcher.apply(SqlDeliveryBook(conn), envelope)


__all__ = ["DispatchConsumer", "SqlDeliveryBook"]
