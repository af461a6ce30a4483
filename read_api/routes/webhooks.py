"""A business's webhooks (never their secrets) and each webhook's delivery attempts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy import Engine, select

from domain.webhook import WebhookNotFound
from infra.web.deps import ActorDep, ContainerDep
from infra.web.openapi import problems
from infra.webhooks.tables import webhook_attempts, webhook_subscriptions
from read_api.routes.bookings import staff_business

router = APIRouter(tags=["webhooks"])
S, A = webhook_subscriptions, webhook_attempts
SHOWN = (S.c.id, S.c.url, S.c.events, S.c.description, S.c.enabled, S.c.disabled_reason)


def tables(container: Any) -> Engine:
    engine: Engine | None = container.event_store_tables
    assert engine is not None  # every composition root builds it
    return engine


@router.get("/v1/businesses/{business_id}/webhooks", openapi_extra=problems(401, 403, 404))
def list_webhooks(business_id: UUID, actor: ActorDep, container: ContainerDep) -> dict[str, Any]:
    """The business's webhooks as the delivery worker knows them, without their secrets."""
    with container.read_db.reader.connect() as conn:
        staff_business(conn, actor, business_id)
    with tables(container).connect() as conn:
        rows = conn.execute(
            select(*SHOWN, S.c.created_at)
            .where((S.c.business_id == str(business_id)) & ~S.c.deleted)
            .order_by(S.c.created_at, S.c.id)
        )
        items = [{**r._mapping, "created_at": r.created_at} for r in rows]
    return {"items": items, "next_cursor": None}


@router.get("/v1/webhooks/{webhook_id}/deliveries", openapi_extra=problems(400, 401, 403, 404))
def list_deliveries(
    webhook_id: UUID,
    actor: ActorDep,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int | None, Query(ge=1, description="from the previous page")] = None,
) -> dict[str, Any]:
    """Delivery attempts, newest first: event, attempt, time, status code, duration, error."""
    with tables(container).connect() as conn:
        owner = conn.execute(select(S.c.business_id).where(S.c.id == str(webhook_id))).scalar()
        if owner is None:
            raise WebhookNotFound(f"no webhook with id {webhook_id}")
        query = select(A).where(A.c.webhook_id == str(webhook_id))
        if cursor is not None:
            query = query.where(A.c.id < cursor)
        rows = conn.execute(query.order_by(A.c.id.desc()).limit(limit + 1)).all()
    with container.read_db.reader.connect() as conn:
        staff_business(conn, actor, UUID(owner))
    items = [{k: v for k, v in r._mapping.items() if k != "webhook_id"} for r in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_cursor": str(rows[limit - 1].id) if more else None}
