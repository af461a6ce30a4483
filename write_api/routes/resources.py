"""Commands on bookable resources and recurring series."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import (
    AddResource,
    AddTimeOff,
    CancelSeries,
    ChangeResource,
    DeactivateResource,
    Done,
    PlaceSeries,
    ReactivateResource,
    RemoveTimeOff,
)
from domain.personal import Contact
from domain.resource_profile import ResourceProfile
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.gateway import GatewayDep
from write_api.schemas import (
    ResourceCreate,
    ResourcePatch,
    SeriesCancel,
    SeriesCreate,
    TimeOffCreate,
)

router = APIRouter(tags=["resources"])
ON_RESOURCE = problems(401, 403, 404, 409)
AFFECTING = problems(401, 403, 404, 409, conflict="BookingsAffectedProblem")


def resource_location(done: Done) -> str:
    return f"/v1/resources/{done.id}"


@router.post("/v1/businesses/{business_id}/resources", status_code=201, openapi_extra=ON_RESOURCE)
def add_resource(
    business_id: UUID, body: ResourceCreate, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Add a bookable resource (staff, room, equipment) to the business."""
    profile = ResourceProfile(body.name, body.kind, body.category, body.metadata, body.weekly)
    command = AddResource(actor, business_id, profile)
    return gateway.send(command, status=201, location=resource_location)


@router.patch("/v1/resources/{resource_id}", openapi_extra=AFFECTING)
def change_resource(
    resource_id: UUID, body: ResourcePatch, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Change any of the resource's fields; 409 if new hours leave bookings out, unless kept."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return gateway.send(ChangeResource(actor, resource_id, changes))


@router.post("/v1/resources/{resource_id}/deactivate", openapi_extra=ON_RESOURCE)
def deactivate_resource(resource_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Take no new bookings with the resource; its bookings stand."""
    return gateway.send(DeactivateResource(actor, resource_id))


@router.post("/v1/resources/{resource_id}/reactivate", openapi_extra=ON_RESOURCE)
def reactivate_resource(resource_id: UUID, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Take bookings with the resource again."""
    return gateway.send(ReactivateResource(actor, resource_id))


@router.post("/v1/resources/{resource_id}/time-off", status_code=201, openapi_extra=AFFECTING)
def add_time_off(
    resource_id: UUID, body: TimeOffCreate, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Take the resource off [start, end); 409 listing its bookings then, unless kept."""
    command = AddTimeOff(actor, resource_id, body.start, body.end, body.reason, body.keep_bookings)
    return gateway.send(command, status=201, location=resource_location)


@router.delete("/v1/resources/{resource_id}/time-off/{time_off_id}", openapi_extra=ON_RESOURCE)
def remove_time_off(
    resource_id: UUID, time_off_id: UUID, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Give the time back: the resource can be booked then again."""
    return gateway.send(RemoveTimeOff(actor, resource_id, time_off_id))


@router.post("/v1/bookings/series", status_code=201, openapi_extra=ON_RESOURCE)
def place_series(body: SeriesCreate, actor: ActorDep, gateway: GatewayDep) -> Response:
    """Book every N days or weeks at one local time, all at once (or skipping conflicts)."""
    contact = Contact(**body.contact.model_dump()) if body.contact else None
    command = PlaceSeries(
        actor,
        body.service_id,
        body.start,
        body.notes,
        body.customer_id,
        contact,
        body.resource_id,
        every=body.repeat.every,
        count=body.repeat.count,
        mode=body.mode,
    )
    return gateway.send(command, status=201, location=lambda d: f"/v1/series/{d.id}")


@router.post("/v1/series/{series_id}/cancel", openapi_extra=ON_RESOURCE)
def cancel_series(
    series_id: UUID, actor: ActorDep, gateway: GatewayDep, body: SeriesCancel | None = None
) -> Response:
    """Cancel the series' occurrences from `from` on (default: every future one)."""
    start_from, reason = (body.from_, body.reason) if body else (None, "")
    return gateway.send(CancelSeries(actor, series_id, start_from, reason))
