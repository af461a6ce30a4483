"""Recomputing the chain from the event store and naming the first position that fails."""

from __future__ import annotations

from dataclasses import dataclass

from infra.audit.chain import GENESIS, link
from infra.audit.log import ChainedRecord, ChainLog

PAGE = 2000


@dataclass(frozen=True)
class Verdict:
    """What a verification found: how many events held, the head, or the first failure."""

    events: int
    head: bytes
    position: int
    failure: str | None = None
    note: str = ""
    where: str = ""  # how to name a failure that has no position (a line number)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def sentence(self) -> str:
        if self.failure is not None:
            return f"{self.where or f'position {self.position}'}: {self.failure}"
        head = f"head {self.head.hex()} at position {self.position}"
        return f"{self.events} events verified; {head}{self.note}"


def check(previous: bytes, found: ChainedRecord) -> tuple[bytes | None, str | None]:
    """The recomputed hash of one position, or why it fails."""
    record = found.record
    if record is None:
        return None, "the record was removed (its chain hash remains)"
    if found.chain_hash is None:
        return None, "the record has no chain hash (inserted outside the recorder)"
    expected = link(
        previous,
        record.id,
        record.originator_id,  # type: ignore[arg-type]  # every SlotWise id is a UUID
        record.originator_version,
        record.topic,
        record.state,
    )
    if expected != found.chain_hash:
        return None, (
            "the chain breaks here: this record was altered, or one before it was removed, "
            "inserted or moved"
        )
    return expected, None


def verify_store(log: ChainLog, page: int = PAGE) -> Verdict:
    """Recompute the chain up to the head as it is now; later writes are left for next time."""
    upto = log.last_position()
    previous, position, count = GENESIS, 0, 0
    while True:
        found = log.page(position, page, upto)
        if not found:
            return Verdict(count, previous, position)
        for item in found:
            linked, failure = check(previous, item)
            if linked is None:
                return Verdict(count, previous, item.position, failure)
            previous, position, count = linked, item.position, count + 1
