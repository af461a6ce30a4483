"""Online payment: a business's settings, a booking's PaymentIntent, and Stripe's webhook."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from commands.messages import CommandContext
from commands.payment_messages import ConfigurePayments, RecordStripeEvent
from domain.actor import system_actor
from domain.booking import BookingStatus
from domain.errors import PaymentProviderUnavailable, PaymentsNotConfigured
from domain.payment import PaymentSettings
from infra.payments import webhook
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from infra.web.problems import problem
from write_api.answers import PaidBookingAnswer
from write_api.gateway import GatewayDep, consistency_token
from write_api.ports import CommandBusDep, EventLogDep, PaymentsDep
from write_api.schemas import CommandResult, PaymentsUpdate, WebhookReceipt

router = APIRouter(tags=["payments"])
RESULT = {"model": CommandResult}
WEBHOOK = system_actor("stripe-webhook")
MAX_WEBHOOK_BYTES = 512 * 1024


@router.put(
    "/v1/businesses/{business_id}/payments",
    responses={200: RESULT},
    openapi_extra=problems(401, 403, 404, 409),
)
def configure_payments(
    business_id: UUID,
    body: PaymentsUpdate,
    actor: ActorDep,
    gateway: GatewayDep,
    payments: PaymentsDep,
) -> Response:
    """Take payment online for priced services; a slot waits `hold_minutes` for its payment."""
    if body.enabled and not payments.configured:
        raise PaymentsNotConfigured(
            "this server has no Stripe key (SLOTWISE_STRIPE_API_KEY)", field="enabled"
        )
    settings = PaymentSettings(body.enabled, body.hold_minutes)
    return gateway.send(ConfigurePayments(actor, business_id, settings))


@router.post(
    "/v1/bookings/{booking_id}/payment",
    response_model=PaidBookingAnswer,
    openapi_extra=problems(401, 403, 404, 409),
)
def open_payment(
    booking_id: UUID, request: Request, actor: ActorDep, payments: PaymentsDep, log: EventLogDep
) -> dict[str, Any]:
    """The booking's PaymentIntent and client secret (created now if Stripe was down before)."""
    correlation_id = getattr(request.state, "correlation_id", None) or "-"
    view = payments.checkout.open_for(actor, booking_id, correlation_id)
    waiting = view.booking.status is BookingStatus.PENDING_PAYMENT
    if waiting and view.client_secret is None:
        raise PaymentProviderUnavailable(
            "Stripe cannot be reached; the booking stays held and SlotWise keeps trying"
        )
    return {
        "id": str(booking_id),
        "version": view.booking.version,
        # Covers whatever this request (or anyone before it) wrote about the booking.
        "consistency_token": consistency_token(log.max_notification_id() or 0),
        **view.body(),
    }


@router.post(
    "/v1/payments/stripe/webhook",
    responses={200: {"model": WebhookReceipt}},
    openapi_extra=problems(400, 409, 413),
)
async def stripe_webhook(request: Request, payments: PaymentsDep, bus: CommandBusDep) -> Response:
    """Stripe's events: verified, recorded once per Stripe event id, acted on by the saga."""
    secrets = payments.webhook_secrets
    if not secrets:
        raise PaymentsNotConfigured(
            "this server has no webhook secret (SLOTWISE_STRIPE_WEBHOOK_SECRET)"
        )
    declared = request.headers.get("content-length", "")
    too_large = problem(
        413, "body-too-large", "Body too large", "a webhook body is at most 512 KiB"
    )
    if declared.isdecimal() and int(declared) > MAX_WEBHOOK_BYTES:
        return too_large  # before reading it
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        return too_large
    event = webhook.verify(payload, request.headers.get(webhook.HEADER), secrets)
    notice = webhook.notice_of(event)
    if notice is None:  # an event type or object SlotWise does not act on
        return _ok({"received": True, "recorded": False})
    correlation_id = getattr(request.state, "correlation_id", None) or notice.stripe_event_id
    context = CommandContext.replayable_as(
        webhook.command_id_for(notice.stripe_event_id), correlation_id
    )
    done = await run_in_threadpool(bus.handle, RecordStripeEvent(WEBHOOK, notice, context=context))
    return _ok({"received": True, "recorded": True, "id": str(done.id)})


def _ok(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
