"""Auditors' view of the event log: an aggregate's history and its state at a version or time."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from domain.access import require_role
from domain.actor import Role
from domain.envelope import Envelope
from domain.errors import InvalidInput, NotFound
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api.ports import AuditDep
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
def list_events(aggregate_id: UUID, actor: ActorDep, audit: AuditDep) -> dict[str, Any]:
    """Every event of one aggregate, oldest first, with who and why (auditor or admin)."""
    require_role(actor, AUDITORS)
    envelopes = audit.history(aggregate_id)
    if not envelopes:
        raise NotFound(f"no aggregate with id {aggregate_id}")
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
    audit: AuditDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    at: Annotated[AwareDatetime | None, Query()] = None,
) -> dict[str, Any]:
    """The aggregate as it was at `version`, or at time `at` (auditor or admin)."""
    require_role(actor, AUDITORS)
    if version is not None and at is not None:
        raise InvalidInput("give either version or at, not both", field="at")
    if at is not None:
        version = audit.version_at(aggregate_id, at)
        if version == 0:
            raise NotFound(f"aggregate {aggregate_id} did not exist at {at.isoformat()}")
    aggregate = audit.state(aggregate_id, version)
    if aggregate is None:
        raise NotFound(f"no aggregate with id {aggregate_id} at that point")
    if version is not None and aggregate.version != version:
        raise NotFound(f"aggregate {aggregate_id} has no version {version}")
    state = {k.lstrip("_"): v for k, v in vars(aggregate).items() if k != "_pending_events"}
    return {
        "aggregate_id": str(aggregate_id),
        "type": type(aggregate).__name__,
        "version": aggregate.version,
        "state": _plain(state),
    }
