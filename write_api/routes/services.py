"""Commands on services: create, update, deactivate."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import CreateService, DeactivateService, UpdateService
from domain.service import ServiceTerms
from domain.values import Money
from infra.web.deps import ActorDep
from write_api.gateway import GatewayDep
from write_api.schemas import CommandResult, ServiceCreate, ServicePatch

router = APIRouter(tags=["services"])
RESULT = {"model": CommandResult}


@router.post("/v1/businesses/{business_id}/services", status_code=201, responses={201: RESULT})
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
    )
    return gateway.send(CreateService(actor, business_id, terms), status=201)


@router.patch("/v1/services/{service_id}", responses={200: RESULT})
def update_service(
    service_id: UUID,
    body: ServicePatch,
    actor: ActorDep,
    gateway: GatewayDep,
) -> Response:
    """Change any of the service's terms; bookings keep the price they were made at."""

    changes = body.model_dump(exclude_unset=True, exclude={"price"})
    if body.price is not None:
        changes["price"] = Money.of(body.price.amount, body.price.currency)
    return gateway.send(UpdateService(actor, service_id, changes))


@router.post("/v1/services/{service_id}/deactivate", responses={200: RESULT})
def deactivate_service(service_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Stop taking bookings for the service; existing bookings stand."""
    return gateway.send(DeactivateService(actor, service_id))
