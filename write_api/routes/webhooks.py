"""Commands on webhooks: create (the secret is shown once), change, rotate, replay, delete."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field, StrictBool, StrictInt, StrictStr

from commands.messages import Done
from commands.webhook_messages import (
    ChangeWebhook,
    CreateWebhook,
    DeleteWebhook,
    ReplayWebhook,
    RotateWebhookSecret,
)
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.gateway import GatewayDep
from write_api.schemas import Strict

router = APIRouter(tags=["webhooks"])
ON_WEBHOOK = problems(401, 403, 404, 409)
Patterns = list[StrictStr]


class WebhookCreate(Strict):
    """An endpoint and the event types it receives (`slotwise.booking.*`)."""

    url: StrictStr = Field(min_length=8, max_length=2000, examples=["https://example.com/hook"])
    events: Patterns = Field(min_length=1, max_length=50, examples=[["slotwise.booking.*"]])
    description: StrictStr = Field(default="", max_length=500)


class WebhookPatch(Strict):
    """Only the fields sent change."""

    url: StrictStr | None = Field(default=None, min_length=8, max_length=2000)
    events: Patterns | None = Field(default=None, min_length=1, max_length=50)
    enabled: StrictBool | None = None


class WebhookReplay(Strict):
    """Deliver again every subscribed event after this log position."""

    after_position: StrictInt = Field(default=0, ge=0)


def webhook_location(done: Done) -> str:
    return f"/v1/webhooks/{done.id}/deliveries"


@router.post("/v1/businesses/{business_id}/webhooks", status_code=201, openapi_extra=ON_WEBHOOK)
def create_webhook(
    business_id: UUID, body: WebhookCreate, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Subscribe an endpoint; the answer's `secret` (`whsec_…`) is shown this once."""
    command = CreateWebhook(actor, business_id, body.url, tuple(body.events), body.description)
    return gateway.send(command, status=201, location=webhook_location)


@router.patch("/v1/webhooks/{webhook_id}", openapi_extra=ON_WEBHOOK)
def change_webhook(
    webhook_id: UUID, body: WebhookPatch, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Change the URL, the event types, or turn the webhook on or off."""
    events = None if body.events is None else tuple(body.events)
    return gateway.send(ChangeWebhook(actor, webhook_id, body.url, events, body.enabled))


@router.delete("/v1/webhooks/{webhook_id}", openapi_extra=ON_WEBHOOK)
def delete_webhook(webhook_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Delete the webhook; nothing more is delivered to it."""
    return gateway.send(DeleteWebhook(actor, webhook_id))


@router.post("/v1/webhooks/{webhook_id}/rotate-secret", openapi_extra=ON_WEBHOOK)
def rotate_secret(webhook_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """A new secret (shown once); the old one also signs for 24 hours."""
    return gateway.send(RotateWebhookSecret(actor, webhook_id))


@router.post("/v1/webhooks/{webhook_id}/replay", openapi_extra=ON_WEBHOOK)
def replay(webhook_id: UUID, body: WebhookReplay, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Queue again, in order, every subscribed event after `after_position`."""
    return gateway.send(ReplayWebhook(actor, webhook_id, body.after_position))
