"""Commands on businesses: register, opening hours, closures, policy."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import AddClosure, RegisterBusiness, SetHours, SetPolicy
from domain.values import BookingPolicy
from infra.web.deps import ActorDep
from write_api.gateway import GatewayDep
from write_api.schemas import (
    BusinessCreate,
    ClosureCreate,
    CommandResult,
    HoursUpdate,
    PolicyUpdate,
)

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])
RESULT = {"model": CommandResult}


@router.post("", status_code=201, responses={201: RESULT})
def register_business(body: BusinessCreate, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Register a business (owner or admin); the caller becomes its owner."""
    command = RegisterBusiness(actor, body.name, body.slug, body.timezone, body.capacity)
    return gateway.send(command, status=201)


@router.put("/{business_id}/hours", responses={200: RESULT})
def set_hours(
    business_id: UUID,
    body: HoursUpdate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Replace the weekly opening hours (local times in the business's zone)."""
    command = SetHours(actor, business_id, [w.model_dump() for w in body.weekly])
    return gateway.send(command)


@router.post("/{business_id}/closures", status_code=201, responses={201: RESULT})
def add_closure(
    business_id: UUID,
    body: ClosureCreate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Close the business for a period (time off); no appointment may overlap it."""
    command = AddClosure(actor, business_id, body.start, body.end, body.reason)
    return gateway.send(command, status=201)


@router.put("/{business_id}/policy", responses={200: RESULT})
def set_policy(
    business_id: UUID,
    body: PolicyUpdate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Set notice, advance window, cancellation deadline and confirmation policy."""
    command = SetPolicy(actor, business_id, BookingPolicy(**body.model_dump()))
    return gateway.send(command)
