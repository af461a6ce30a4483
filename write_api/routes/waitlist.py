"""Commands on the waitlist: join a full start, accept the seat offered, leave (or decline)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import Done
from commands.waitlist_messages import AcceptOffer, JoinWaitlist, LeaveWaitlist
from domain.personal import Contact
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.answers import PaidBookingAnswer, WaitlistAnswer
from write_api.gateway import GatewayDep
from write_api.schemas import WaitlistJoin

router = APIRouter(tags=["waitlist"])
ON_ENTRY = problems(401, 403, 404, 409)


def entry_location(done: Done) -> str:
    return "/v1/me/waitlist"


def booking_location(done: Done) -> str:
    return f"/v1/bookings/{done.id}"


@router.post(
    "/v1/services/{service_id}/waitlist",
    status_code=201,
    responses={201: {"model": WaitlistAnswer}},
    openapi_extra=ON_ENTRY,
)
def join_waitlist(
    service_id: UUID, body: WaitlistJoin, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Wait in line for a full start (409 `slot-available` when it can be booked now; 409
    `already-waiting`, naming the entry, when the customer waits for it already). When a
    seat frees there, the first in line is offered it as a hold for the business's
    `waitlist_offer_minutes`."""
    contact = Contact(**body.contact.model_dump()) if body.contact else None
    command = JoinWaitlist(
        actor,
        service_id,
        body.start,
        customer_id=body.customer_id,
        contact=contact,
        resource_id=body.resource_id,
    )
    return gateway.send(command, status=201, location=entry_location)


@router.post(
    "/v1/waitlist/{entry_id}/accept",
    status_code=201,
    responses={201: {"model": PaidBookingAnswer}},
    openapi_extra=ON_ENTRY,
)
def accept_offer(entry_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Book the seat the offer holds (its customer, or the business's staff): confirmed,
    pending, or pending_payment with a PaymentIntent, as an ordinary booking would be.
    409 `offer-expired` once the offer ran out."""
    return gateway.send(AcceptOffer(actor, entry_id), status=201, location=booking_location)


@router.delete(
    "/v1/waitlist/{entry_id}", responses={200: {"model": WaitlistAnswer}}, openapi_extra=ON_ENTRY
)
def leave_waitlist(entry_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Leave the line, or decline the offer: its seat goes to the next in line."""
    return gateway.send(LeaveWaitlist(actor, entry_id))
