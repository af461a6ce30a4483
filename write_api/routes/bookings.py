"""Commands on bookings: place, and move through the lifecycle."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import (
    BookingCommand,
    CancelBooking,
    CheckInBooking,
    CompleteBooking,
    ConfirmBooking,
    Done,
    MarkNoShow,
    PlaceBooking,
    RescheduleBooking,
)
from domain.personal import Contact
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.answers import BookingAnswer, PaidBookingAnswer
from write_api.gateway import GatewayDep
from write_api.schemas import BookingCancel, BookingCreate, BookingReschedule

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])
RESULT = {"model": BookingAnswer}
ON_BOOKING = problems(401, 403, 404, 409)


def booking_location(done: Done) -> str:
    return f"/v1/bookings/{done.id}"


@router.post(
    "", status_code=201, responses={201: {"model": PaidBookingAnswer}}, openapi_extra=ON_BOOKING
)
def place_booking(body: BookingCreate, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Book a slot: confirmed at once, pending when the business confirms bookings, or
    pending_payment with a Stripe PaymentIntent to pay when the service is paid online."""
    contact = Contact(**body.contact.model_dump()) if body.contact else None
    command = PlaceBooking(
        actor, body.service_id, body.start, body.notes, body.customer_id, contact, body.resource_id
    )
    return gateway.send(command, status=201, location=booking_location)


@router.post("/{booking_id}/cancel", responses={200: RESULT}, openapi_extra=ON_BOOKING)
def cancel_booking(
    booking_id: UUID, actor: ActorDep, gateway: GatewayDep, body: BookingCancel | None = None
) -> Response:
    """Cancel and free the slot; customers only until the cancellation deadline."""
    return gateway.send(CancelBooking(actor, booking_id, body.reason if body else ""))


@router.post("/{booking_id}/reschedule", responses={200: RESULT}, openapi_extra=ON_BOOKING)
def reschedule_booking(
    booking_id: UUID, body: BookingReschedule, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Move the booking to another start; the old slot frees and the new one is held atomically."""
    return gateway.send(RescheduleBooking(actor, booking_id, body.start, body.resource_id))


def _transition_route(path: str, command_type: type[BookingCommand], summary: str) -> None:
    def change(booking_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
        return gateway.send(command_type(actor, booking_id))

    change.__doc__ = summary
    router.add_api_route(
        f"/{{booking_id}}/{path}",
        change,
        methods=["POST"],
        responses={200: RESULT},
        openapi_extra=ON_BOOKING,
        name=path.replace("-", "_"),
        summary=summary,
    )


_transition_route("confirm", ConfirmBooking, "Confirm a pending booking (business staff).")
_transition_route("check-in", CheckInBooking, "Check the customer in (business staff).")
_transition_route("complete", CompleteBooking, "Complete a checked-in booking (business staff).")
_transition_route("no-show", MarkNoShow, "Mark a no-show once the start has passed (staff).")
