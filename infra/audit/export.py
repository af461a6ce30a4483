"""The auditors' export: the log as JSON Lines of CloudEvents carrying the chain.

Each line is the event's envelope (infra/envelopes.py, the one envelope
function) plus these extensions: `prevhash` and `chainhash` (hex) as stored;
`recordtopic` and `recordstate` (the stored topic, and the stored state bytes
in base64) so that a verifier can recompute the canonical bytes without the
store; and `exportscope`, `log` for a contiguous stretch of the log or
`business:<id>` for one business's events. The state is exported as stored,
never decoded, so whatever the store keeps encrypted stays encrypted here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper

from infra.audit.chain import GENESIS
from infra.audit.log import ChainLog
from infra.audit.scope import BusinessScope
from infra.envelopes import envelope_from_record

PAGE = 1000
LOG_SCOPE = "log"


@dataclass(frozen=True)
class ExportFilter:
    """What to export: after a position, up to a time, one business's aggregates."""

    after: int = 0
    until: datetime | None = None
    business_id: UUID | None = None

    @property
    def scope(self) -> str:
        return LOG_SCOPE if self.business_id is None else f"business:{self.business_id}"


def export_lines(log: ChainLog, mapper: Mapper[UUID], wanted: ExportFilter) -> Iterator[bytes]:
    """One JSON line per event, in position order, up to the head as it was when this began.

    With `until`, the export stops at the first event recorded after that time, so
    it stays a contiguous stretch of the log whose chain a verifier can follow.
    """
    upto = log.last_position()
    scope = BusinessScope(wanted.business_id, log.recorder, mapper) if wanted.business_id else None
    previous: bytes | None = log.hash_at_or_before(wanted.after) if wanted.after > 0 else GENESIS
    position = wanted.after
    while found := log.page(position, PAGE, upto):
        for item in found:
            position = item.position
            prevhash, previous = previous, item.chain_hash
            if item.record is None:  # a removed record: its chain hash is still passed on
                continue
            envelope = envelope_from_record(item.record, mapper)
            if wanted.until is not None and envelope.occurred_at > wanted.until:
                return
            if scope is not None and envelope not in scope:
                continue
            line = envelope.as_dict()
            line.update(
                prevhash=prevhash.hex() if prevhash is not None else None,
                chainhash=item.chain_hash.hex() if item.chain_hash is not None else None,
                recordtopic=item.record.topic,
                recordstate=base64.b64encode(item.record.state).decode("ascii"),
                exportscope=wanted.scope,
            )
            yield orjson.dumps(line) + b"\n"
