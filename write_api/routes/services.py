"""Commands on services: create, update, deactivate, reactivate."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import (
    CreateService,
    DeactivateService,
    Done,
    ReactivateService,
    UpdateService,
)
from domain.service import ServiceTerms
from domain.values import Money
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.answers import ServiceAnswer
from write_api.gateway import GatewayDep
from write_api.schemas import ServiceCreate, ServicePatch

router = APIRouter(tags=["services"])
RESULT: dict[int | str, dict[str, Any]] = {200: {"model": ServiceAnswer}}
ON_SERVICE = problems(401, 403, 404, 409)


def service_location(done: Done) -> str:
    return f"/v1/services/{done.id}"


@router.post(
    "/v1/businesses/{business_id}/services",
    status_code=201,
    responses={201: {"model": ServiceAnswer}},
    openapi_extra=ON_SERVICE,
)
def create_service(
    business_id: UUID,
    body: ServiceCreate,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Publish a bookable service of the business."""
    terms = ServiceTerms(
        name=body.name,
        duration_minutes=body.duration_minutes,
        price=Money.of(body.price.amount, body.price.currency),
        seats=body.seats,
        buffer_before_minutes=body.buffer_before_minutes,
        buffer_after_minutes=body.buffer_after_minutes,
        slot_interval_minutes=body.slot_interval_minutes,
        requires=body.requires,
        also_requires=tuple(body.also_requires),
    )
    command = CreateService(actor, business_id, terms)
    return gateway.send(command, status=201, location=service_location)


@router.patch("/v1/services/{service_id}", responses=RESULT, openapi_extra=ON_SERVICE)
def update_service(
    service_id: UUID,
    body: ServicePatch,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Change any of the service's terms; bookings keep the price they were made at."""

    changes = body.model_dump(exclude_unset=True, exclude={"price"})
    if "also_requires" in changes:
        changes["also_requires"] = tuple(changes["also_requires"] or ())
    if body.price is not None:
        changes["price"] = Money.of(body.price.amount, body.price.currency)
    return gateway.send(UpdateService(actor, service_id, changes))


@router.post("/v1/services/{service_id}/deactivate", responses=RESULT, openapi_extra=ON_SERVICE)
def deactivate_service(service_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Stop taking bookings for the service; existing bookings stand."""
    return gateway.send(DeactivateService(actor, service_id))


@router.post("/v1/services/{service_id}/reactivate", responses=RESULT, openapi_extra=ON_SERVICE)
def reactivate_service(service_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Take bookings for a deactivated service again (409 if it is active)."""
    return gateway.send(ReactivateService(actor, service_id))
