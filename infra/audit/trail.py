"""The audit reads of the event store, as the read API's audit routes ask for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.app import SlotWise
from domain.envelope import Envelope
from infra.audit.log import ChainLog
from infra.audit.search import EventQuery, Found, search
from infra.envelopes import envelope_from_record
from infra.eventlog import aggregate_history


@dataclass(frozen=True)
class ChainHead:
    """The last link of the hash chain: its position, hash and the time of its event."""

    position: int
    chain_hash: bytes
    time: str | None


class AuditTrail:
    """One aggregate's history and past states, the whole log searched, the chain's head."""

    def __init__(self, app: SlotWise) -> None:
        self.app = app

    def history(self, aggregate_id: UUID) -> list[Envelope]:
        """Every event of the aggregate, oldest first (empty: no such aggregate)."""
        records = aggregate_history(self.app.recorder, aggregate_id)
        return [envelope_from_record(r, self.app.mapper) for r in records]

    def state(self, aggregate_id: UUID, version: int | None) -> Any | None:
        """The aggregate as of `version` (None: the latest); None when it has none there."""
        try:
            return self.app.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None

    def version_at(self, aggregate_id: UUID, at: datetime) -> int:
        """The aggregate's version at time `at`; 0 when it did not exist yet."""
        version = 0
        for event in self.app.events.get(aggregate_id):
            if event.timestamp > at:  # type: ignore[attr-defined]
                break
            version = event.originator_version
        return version

    def search(self, query: EventQuery, after: int, limit: int) -> tuple[list[Found], int | None]:
        return search(ChainLog(self.app.recorder), self.app.mapper, query, after, limit)

    def head(self) -> ChainHead | None:
        head = ChainLog(self.app.recorder).head()
        if head is None:
            return None
        position, chain_hash = head
        records = self.app.recorder.select_notifications(position, 1, stop=position)
        time = envelope_from_record(records[0], self.app.mapper).time if records else None
        return ChainHead(position, chain_hash, time)
