"""Finding events across the whole log for auditors: filters, paged by position.

Filters other than the aggregate need each event decoded, so one page scans at
most SCAN_LIMIT records; when it stops there it still gives a `next` position,
and a page may then hold fewer items than asked (even none) without being the
last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Mapper

from domain.envelope import Envelope
from infra.audit.log import ChainLog
from infra.audit.scope import BusinessScope
from infra.envelopes import envelope_from_record

SCAN_LIMIT = 5000
PAGE = 500


@dataclass(frozen=True)
class EventQuery:
    """What an auditor is looking for."""

    business_id: UUID | None = None
    aggregate_id: UUID | None = None
    correlation_id: str | None = None
    type: str | None = None
    first: datetime | None = None
    last: datetime | None = None


@dataclass(frozen=True)
class Found:
    """One event and its chain hash."""

    envelope: Envelope
    chain_hash: bytes | None


def search(
    log: ChainLog, mapper: Mapper[UUID], query: EventQuery, after: int, limit: int
) -> tuple[list[Found], int | None]:
    """Up to `limit` matching events after `after`, and the position to go on after (if any)."""
    scope = BusinessScope(query.business_id, log.recorder, mapper) if query.business_id else None
    items: list[Found] = []
    position, scanned = after, 0
    while scanned < SCAN_LIMIT:
        page = log.page(position, min(PAGE, SCAN_LIMIT - scanned), aggregate_id=query.aggregate_id)
        if not page:
            return items, None
        for item in page:
            position, scanned = item.position, scanned + 1
            if item.record is None:
                continue
            envelope = envelope_from_record(item.record, mapper)
            if _matches(envelope, query) and (scope is None or envelope in scope):
                items.append(Found(envelope, item.chain_hash))
                if len(items) == limit:
                    return items, position
    return items, position


def _matches(envelope: Envelope, query: EventQuery) -> bool:
    if query.correlation_id is not None and envelope.correlationid != query.correlation_id:
        return False
    if query.type is not None and envelope.type != query.type:
        return False
    if query.first is not None and envelope.occurred_at < query.first:
        return False
    return query.last is None or envelope.occurred_at <= query.last
