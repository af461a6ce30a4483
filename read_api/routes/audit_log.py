"""Auditors' view of the whole log: every event, paged by position, and the chain's head."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from domain.access import require_role
from domain.errors import InvalidInput
from infra.audit.search import EventQuery
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api.paging import DEFAULT_LIMIT, LimitQuery
from read_api.ports import AuditDep
from read_api.routes.audit import AUDITORS, audit_view
from read_api.schemas import AuditHead, AuditLogPage

router = APIRouter(prefix="/v1/audit", tags=["audit"])
MAX_POSITION = 2**63 - 1
TYPE_PATTERN = r"^[a-z0-9_.]{1,100}$"
CORRELATION_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


@router.get("/events", response_model=AuditLogPage, openapi_extra=problems(403, 422))
def list_log(
    actor: ActorDep,
    audit: AuditDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="position")] = 0,
    limit: LimitQuery = DEFAULT_LIMIT,
    business_id: UUID | None = None,
    aggregate_id: UUID | None = None,
    correlation_id: Annotated[str | None, Query(pattern=CORRELATION_PATTERN)] = None,
    type: Annotated[str | None, Query(pattern=TYPE_PATTERN)] = None,
    first: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    last: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The whole log by position, filtered (auditor or admin); `next_cursor` is the next `after`."""
    require_role(actor, AUDITORS)
    if first and last and last < first:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    query = EventQuery(business_id, aggregate_id, correlation_id, type, first, last)
    found, more = audit.search(query, after, limit)
    items = [
        {**audit_view(f.envelope), "chain_hash": f.chain_hash.hex() if f.chain_hash else None}
        for f in found
    ]
    return {"items": items, "next_cursor": str(more) if more is not None else None}


@router.get("/head", response_model=AuditHead, openapi_extra=problems(403))
def get_head(actor: ActorDep, audit: AuditDep) -> dict[str, Any]:
    """The head of the hash chain, for auditors to note down and compare later."""
    require_role(actor, AUDITORS)
    head = audit.head()
    if head is None:
        return {"position": 0, "chain_hash": None, "time": None}
    return {"position": head.position, "chain_hash": head.chain_hash.hex(), "time": head.time}
