"""Which business a public event belongs to: its own id, its `business_id`, or the read models.

A booking's or service's later events do not repeat the business id, so the
first time one is met its business is looked up in the projections (which have
caught up with it by then: the stream only reads what they reflect), then kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import Engine, select

from domain.envelope import PUBLIC_AGGREGATE_TYPES, Envelope
from projections.tables import bookings, services

TABLES = {"booking": bookings, "service": services}


class EventOwners:
    """Maps aggregate ids to business ids, remembering the most recent `size` of them."""

    def __init__(self, read_db: Engine, size: int = 100_000) -> None:
        self.read_db, self.size = read_db, size
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # the broadcaster and resuming streams read at once

    def owners(self, envelopes: Sequence[Envelope]) -> list[tuple[str, Envelope]]:
        """(business id, envelope) for each public envelope whose business is known."""
        with self._lock:
            return self._owners(envelopes)

    def _owners(self, envelopes: Sequence[Envelope]) -> list[tuple[str, Envelope]]:
        public = [e for e in envelopes if e.aggregatetype in PUBLIC_AGGREGATE_TYPES]
        for envelope in public:
            if envelope.aggregatetype == "business":
                self._remember(envelope.subject, envelope.subject)
            elif "business_id" in envelope.data:
                self._remember(envelope.subject, str(envelope.data["business_id"]))
        missing = {e.subject: e.aggregatetype for e in public if e.subject not in self._known}
        if missing:
            self._look_up(missing)
        return [(self._known[e.subject], e) for e in public if e.subject in self._known]

    def _look_up(self, missing: dict[str, str]) -> None:
        with self.read_db.connect() as conn:
            for kind, table in TABLES.items():
                ids = [subject for subject, k in missing.items() if k == kind]
                if ids:
                    query = select(table.c.id, table.c.business_id).where(table.c.id.in_(ids))
                    for row in conn.execute(query):
                        self._remember(row.id, row.business_id)

    def _remember(self, subject: str, business_id: str) -> None:
        self._known[subject] = business_id
        self._known.move_to_end(subject)
        while len(self._known) > self.size:
            self._known.popitem(last=False)
