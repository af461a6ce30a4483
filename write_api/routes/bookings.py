"""Commands on bookings: place, and move through the lifecycle."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import CancelBooking, ChangeBookingStatus, PlaceBooking, RescheduleBooking
from infra.web.deps import ActorDep, ContainerDep
from write_api.gateway import GatewayDep
from write_api.schemas import BookingCancel, BookingCreate, BookingReschedule, CommandResult

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])
RESULT = {"model": CommandResult}


@router.post("", status_code=201, responses={201: RESULT})
def place_booking(
    body: BookingCreate, actor: ActorDep, container: ContainerDep, gateway: GatewayDep
) -> Response:
    """Book a slot: confirmed at once, or pending when the business confirms bookings."""
    command = PlaceBooking(actor, body.service_id, body.start, body.notes, body.customer_id)
    return gateway.run(lambda: container.app.place_booking(command), status=201)


@router.post("/{booking_id}/cancel", responses={200: RESULT})
def cancel_booking(
    booking_id: UUID,
    actor: ActorDep,
    container: ContainerDep,
    gateway: GatewayDep,
    body: BookingCancel | None = None,
) -> Response:
    """Cancel and free the slot; customers only until the cancellation deadline."""
    command = CancelBooking(actor, booking_id, body.reason if body else "")
    return gateway.run(lambda: container.app.cancel_booking(command))


@router.post("/{booking_id}/reschedule", responses={200: RESULT})
def reschedule_booking(
    booking_id: UUID,
    body: BookingReschedule,
    actor: ActorDep,
    container: ContainerDep,
    gateway: GatewayDep,
) -> Response:
    """Move the booking to another start; the old slot frees and the new one is held atomically."""
    command = RescheduleBooking(actor, booking_id, body.start)
    return gateway.run(lambda: container.app.reschedule_booking(command))


def _status_route(path: str, action: str, summary: str) -> None:
    def change(
        booking_id: UUID, actor: ActorDep, container: ContainerDep, gateway: GatewayDep
    ) -> Response:
        command = ChangeBookingStatus(actor, booking_id, action)
        return gateway.run(lambda: container.app.change_booking_status(command))

    change.__doc__ = summary
    router.add_api_route(
        f"/{{booking_id}}/{path}",
        change,
        methods=["POST"],
        responses={200: RESULT},
        name=action,
        summary=summary,
    )


_status_route("confirm", "confirm", "Confirm a pending booking (business staff).")
_status_route("check-in", "check_in", "Check the customer in (business staff).")
_status_route("complete", "complete", "Complete a checked-in booking (business staff).")
_status_route("no-show", "mark_no_show", "Mark a no-show once the start has passed (staff).")
