"""Auditors' view of the event log: an aggregate's history and its state at a version or time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from domain.access import require_role
from domain.actor import Role
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from infra.envelopes import envelope_from_record
from infra.eventlog import aggregate_history
from infra.web.deps import ActorDep, ContainerDep
from infra.web.openapi import problems
from read_api.schemas import AuditEvents, AuditState

router = APIRouter(prefix="/v1/audit", tags=["audit"])
AUDITORS = frozenset({Role.AUDITOR, Role.ADMIN})
MAX_VERSION = 2**31 - 1  # beyond any history; larger ones overflowed SQLite's integers


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "__dataclass_fields__"):
        return _plain(vars(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@router.get(
    "/aggregates/{aggregate_id}/events",
    response_model=AuditEvents,
    openapi_extra=problems(403, 404),
)
def list_events(aggregate_id: UUID, actor: ActorDep, container: ContainerDep) -> dict[str, Any]:
    """Every event of one aggregate, oldest first, with who and why (auditor or admin)."""
    require_role(actor, AUDITORS)
    records = aggregate_history(container.app.recorder, aggregate_id)
    if not records:
        raise NotFound(f"no aggregate with id {aggregate_id}")
    envelopes = [envelope_from_record(r, container.app.mapper) for r in records]
    return {"aggregate_id": str(aggregate_id), "events": [audit_view(e) for e in envelopes]}


def audit_view(envelope: Envelope) -> dict[str, Any]:
    """An envelope as the audit API shows it (API.md)."""
    return {
        "id": envelope.id,
        "aggregate_id": envelope.subject,
        "aggregate_type": envelope.aggregatetype,
        "position": envelope.position,
        "type": envelope.type,
        "version": envelope.aggregateversion,
        "schema_version": envelope.schemaversion,
        "time": envelope.time,
        "timestamp": envelope.time,
        "data": envelope.data,
        "actor": {"id": envelope.actorid, "role": envelope.actorrole},
        "correlation_id": envelope.correlationid,
        "causation_id": envelope.causationid,
    }


@router.get(
    "/aggregates/{aggregate_id}/state",
    response_model=AuditState,
    openapi_extra=problems(403, 404),
)
def get_state(
    aggregate_id: UUID,
    actor: ActorDep,
    container: ContainerDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    at: Annotated[AwareDatetime | None, Query()] = None,
) -> dict[str, Any]:
    """The aggregate as it was at `version`, or at time `at` (auditor or admin)."""
    require_role(actor, AUDITORS)
    if version is not None and at is not None:
        raise InvalidInput("give either version or at, not both", field="at")
    if at is not None:
        version = _version_at(container, aggregate_id, at)
    try:
        aggregate: Any = container.app.repository.get(aggregate_id, version=version)
    except AggregateNotFoundError:
        raise NotFound(f"no aggregate with id {aggregate_id} at that point") from None
    if version is not None and aggregate.version != version:
        raise NotFound(f"aggregate {aggregate_id} has no version {version}")
    state = {k.lstrip("_"): v for k, v in vars(aggregate).items() if k != "_pending_events"}
    return {
        "aggregate_id": str(aggregate_id),
        "type": type(aggregate).__name__,
        "version": aggregate.version,
        "state": _plain(state),
    }


def _version_at(container: Any, aggregate_id: UUID, at: datetime) -> int:
    version = 0
    for event in container.app.events.get(aggregate_id):
        if event.timestamp > at:
            break
        version = event.originator_version
    if version == 0:
        raise NotFound(f"aggregate {aggregate_id} did not exist at {at.isoformat()}")
    return version
