"""Which aggregates belong to a business: the business, and every aggregate created for it.

Services, bookings, resources and day allocations record `business_id` when
created; later events need not, so an aggregate's first event decides, looked
up once and remembered in a bounded cache (memory stays constant however long
the log).
"""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from domain.envelope import Envelope

CACHE_SIZE = 10_000


class BusinessScope:
    """Answers "is this event one of business B's aggregates?"."""

    def __init__(self, business_id: UUID, recorder: ApplicationRecorder, mapper: Mapper[UUID]):
        self.business_id = business_id
        self._recorder, self._mapper = recorder, mapper
        self._owner: OrderedDict[UUID, bool] = OrderedDict()

    def __contains__(self, envelope: Envelope) -> bool:
        aggregate_id = envelope.aggregate_id
        if aggregate_id == self.business_id:
            return True
        if "business_id" in envelope.data:
            return bool(envelope.data["business_id"] == str(self.business_id))
        return self._created_for(aggregate_id)

    def _created_for(self, aggregate_id: UUID) -> bool:
        found = self._owner.get(aggregate_id)
        if found is None:
            first = self._recorder.select_events(aggregate_id, lte=1)
            event = self._mapper.to_domain_event(first[0]) if first else None
            found = getattr(event, "business_id", None) == self.business_id
            if len(self._owner) >= CACHE_SIZE:
                self._owner.popitem(last=False)
        self._owner[aggregate_id] = found
        self._owner.move_to_end(aggregate_id)
        return found
