"""Commands on businesses: register, profile, opening hours, closures, policy."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import (
    AddClosure,
    ChangePolicy,
    ChangeProfile,
    Done,
    RegisterBusiness,
    RemoveClosure,
    SetHours,
    SetPolicy,
)
from domain.values import BookingPolicy
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.answers import (
    BusinessAnswer,
    ClosureAnswer,
    ClosureRemoval,
    HoursAnswer,
    PolicyAnswer,
    ProfileAnswer,
)
from write_api.gateway import GatewayDep
from write_api.schemas import (
    BusinessCreate,
    BusinessPatch,
    ClosureCreate,
    HoursUpdate,
    PolicyPatch,
    PolicyUpdate,
)

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])
ON_BUSINESS = problems(401, 403, 404, 409)
AFFECTING = problems(401, 403, 404, 409, conflict="BookingsAffectedProblem")


def answer(model: type[Any], status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": model}}


def business_location(done: Done) -> str:
    return f"/v1/businesses/{done.id}"


def closure_location(done: Done) -> str:
    return f"/v1/businesses/{done.id}/closures/{done.fields['closure_id']}"


@router.post(
    "",
    status_code=201,
    responses=answer(BusinessAnswer, 201),
    openapi_extra=problems(401, 403, 409),
)
def register_business(body: BusinessCreate, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Register a business (owner or admin); the caller becomes its owner."""
    command = RegisterBusiness(
        actor, body.name, body.slug, body.timezone, body.capacity, body.address
    )
    return gateway.send(command, status=201, location=business_location)


@router.patch("/{business_id}", responses=answer(ProfileAnswer), openapi_extra=AFFECTING)
def change_profile(
    business_id: UUID, body: BusinessPatch, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Change name, time zone, capacity or address; 409 if that leaves bookings out, unless
    kept."""
    command = ChangeProfile(
        actor,
        business_id,
        body.name,
        body.timezone,
        body.capacity,
        body.keep_bookings,
        address=body.address,
    )
    return gateway.send(command)


@router.put("/{business_id}/hours", responses=answer(HoursAnswer), openapi_extra=AFFECTING)
def set_hours(
    business_id: UUID,
    body: HoursUpdate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Replace the weekly opening hours (local times); 409 if bookings fall outside, unless kept."""
    weekly = [w.model_dump() for w in body.weekly]
    return gateway.send(SetHours(actor, business_id, weekly, body.keep_bookings))


@router.post(
    "/{business_id}/closures",
    status_code=201,
    responses=answer(ClosureAnswer, 201),
    openapi_extra=AFFECTING,
)
def add_closure(
    business_id: UUID,
    body: ClosureCreate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Close the business for a period; 409 if bookings fall inside it, unless kept."""
    command = AddClosure(actor, business_id, body.start, body.end, body.reason, body.keep_bookings)
    return gateway.send(command, status=201, location=closure_location)


@router.delete(
    "/{business_id}/closures/{closure_id}",
    responses=answer(ClosureRemoval),
    openapi_extra=ON_BUSINESS,
)
def remove_closure(
    business_id: UUID, closure_id: UUID, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Remove a closure: its time opens again (404 for an id the business does not have)."""
    return gateway.send(RemoveClosure(actor, business_id, closure_id))


@router.put("/{business_id}/policy", responses=answer(PolicyAnswer), openapi_extra=ON_BUSINESS)
def set_policy(
    business_id: UUID,
    body: PolicyUpdate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Replace the whole booking policy: every field is required."""
    command = SetPolicy(actor, business_id, BookingPolicy(**body.model_dump()))
    return gateway.send(command)


@router.patch("/{business_id}/policy", responses=answer(PolicyAnswer), openapi_extra=ON_BUSINESS)
def change_policy(
    business_id: UUID,
    body: PolicyPatch,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Change some policy fields; the others keep their values."""
    changes = body.model_dump(exclude_unset=True)
    return gateway.send(ChangePolicy(actor, business_id, changes))
