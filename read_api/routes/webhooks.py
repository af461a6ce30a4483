"""A business's webhooks (never their secrets) and each webhook's delivery attempts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from domain.webhook import WebhookNotFound
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api.ports import ReadDbDep, WebhooksDep
from read_api.routes.bookings import staff_business

router = APIRouter(tags=["webhooks"])


@router.get("/v1/businesses/{business_id}/webhooks", openapi_extra=problems(401, 403, 404))
def list_webhooks(
    business_id: UUID, actor: ActorDep, read_db: ReadDbDep, webhooks: WebhooksDep
) -> dict[str, Any]:
    """The business's webhooks as the delivery worker knows them, without their secrets."""
    with read_db.reader.connect() as conn:
        staff_business(conn, actor, business_id)
    return {"items": webhooks.subscriptions(str(business_id)), "next_cursor": None}


@router.get("/v1/webhooks/{webhook_id}/deliveries", openapi_extra=problems(400, 401, 403, 404))
def list_deliveries(
    webhook_id: UUID,
    actor: ActorDep,
    read_db: ReadDbDep,
    webhooks: WebhooksDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int | None, Query(ge=1, description="from the previous page")] = None,
) -> dict[str, Any]:
    """Delivery attempts, newest first: event, attempt, time, status code, duration, error."""
    owner = webhooks.owner(str(webhook_id))
    if owner is None:
        raise WebhookNotFound(f"no webhook with id {webhook_id}")
    with read_db.reader.connect() as conn:
        staff_business(conn, actor, UUID(owner))
    rows = webhooks.attempts(str(webhook_id), limit + 1, cursor)
    more = len(rows) > limit
    return {"items": rows[:limit], "next_cursor": str(rows[limit - 1]["id"]) if more else None}
