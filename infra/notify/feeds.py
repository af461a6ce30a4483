"""Calendar feed keys (only their hashes are stored) and the business's notification log."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from commands.processes.notify.rules import WEBHOOK_DISABLED
from infra.notify.tables import calendar_feeds, notify_outbox

SHOWN = ("planned", "sent", "failed", "unconfirmed", "skipped")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CalendarFeeds:
    """One secret key per business; a rotation replaces it, so the old URL stops working."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def rotate(self, business_id: str) -> str:
        key = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(delete(calendar_feeds).where(calendar_feeds.c.business_id == business_id))
            row = {"business_id": business_id, "key_hash": _hash(key), "created_at": self.clock()}
            conn.execute(insert(calendar_feeds).values(row))
        return key

    def business_of(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(calendar_feeds.c.business_id).where(calendar_feeds.c.key_hash == _hash(key))
            ).scalar()
        return str(found) if found is not None else None


class NotificationLog:
    """The business's notification log, page by page (the read API's view of the outbox)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(
        self, business_id: str, limit: int, after: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        return notification_log(self.engine, business_id, limit, after)


def notification_log(
    engine: Engine, business_id: str, limit: int, after: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """The business's messages, newest first; no addresses (they are personal data)."""
    table = notify_outbox
    query = select(table).where(table.c.business_id == business_id)
    if after is not None:
        query = query.where(table.c.seq < after)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(table.c.seq.desc()).limit(limit + 1)).all()
    items = [_shown(row) for row in rows[:limit]]
    return items, (rows[limit - 1].seq if len(rows) > limit else None)


def _shown(row: Any) -> dict[str, Any]:
    about_webhook = row.kind == WEBHOOK_DISABLED  # its subject is the webhook
    return {
        "booking_id": None if about_webhook else row.booking_id,
        "webhook_id": row.booking_id if about_webhook else None,
        "kind": row.kind,
        "version": row.version,
        "channel": row.channel,
        "audience": row.audience,
        "status": row.status,
        "attempts": row.attempts,
        "due_at": row.due_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "error": row.last_error,
    }
