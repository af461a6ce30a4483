"""What the read API shows of webhooks: a business's subscriptions (never their secrets) and
each one's delivery attempts, from the tables in the event-store database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from infra.webhooks.tables import webhook_attempts, webhook_subscriptions

S, A = webhook_subscriptions, webhook_attempts
SHOWN = (S.c.id, S.c.url, S.c.events, S.c.description, S.c.enabled, S.c.disabled_reason)


class WebhookReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def subscriptions(self, business_id: str) -> list[dict[str, Any]]:
        """The business's webhooks as the delivery worker knows them, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*SHOWN, S.c.created_at)
                .where((S.c.business_id == business_id) & ~S.c.deleted)
                .order_by(S.c.created_at, S.c.id)
            )
            return [{**r._mapping, "created_at": r.created_at} for r in rows]

    def owner(self, webhook_id: str) -> str | None:
        """The business the webhook belongs to (None: no such webhook)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(S.c.business_id).where(S.c.id == webhook_id)).scalar()
        return None if found is None else str(found)

    def attempts(self, webhook_id: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        """Up to `limit` delivery attempts, newest first, below attempt id `before` if given."""
        query = select(A).where(A.c.webhook_id == webhook_id)
        if before is not None:
            query = query.where(A.c.id < before)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(A.c.id.desc()).limit(limit)).all()
        return [{k: v for k, v in r._mapping.items() if k != "webhook_id"} for r in rows]
