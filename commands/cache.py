"""The command side's aggregate cache: most loads need no database read, none can overbook.

A handler *checks out* each aggregate it loads: the cached object leaves the
cache, so no other thread can mutate it meanwhile. When the command ends the
aggregates it checked out go back, unless a save of theirs failed (exact
eviction: a conflict proves this process's copy stale) or they carry events
that were never saved. A thread that wants an aggregate another thread has
checked out waits briefly (`WAIT_SECONDS`) for it to come back rather than read
a copy that the other's save is about to make stale; the wait is bounded, so it
cannot deadlock, and it is not the guard (the store's versions are).

Business and Service, which every booking reads and few commands change, are
kept differently: the cached object is never changed, a command that only reads
them shares it (`read_only=True`), and one that may change them gets a copy.

Why no decision rests on a stale copy: an aggregate a command changes
(DayAllocation, Booking, ...) is written at `version + 1`, so a copy that missed
another process's event fails the save on that version, is dropped, and the
attempt reruns on fresh state (`retry_on_conflict`). Every other aggregate the
command was served from the cache — one it only read (Business, Service), and
one it decided to leave as it was ("nothing to release here") — has no such
guard, so its version is checked against the store before the command saves or
ends (one indexed query for all of them, `Session.unguarded`); a refusal (a
domain error) is checked the same way. If any missed an event, nothing has been
written yet: the command reruns on fresh state. Business and Service are also
dropped from the cache after `max_age` seconds, which bounds memory, not
correctness.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.business import Business
from domain.service import Service

T = TypeVar("T")

# How long a load waits for another thread to give back the aggregate it checked out.
WAIT_SECONDS = 0.05
# Read by commands without being saved: served from the cache for a bounded time only.
BOUNDED_STALENESS: tuple[type[Aggregate], ...] = (Business, Service)


@dataclass
class Loaded:
    aggregate: Aggregate
    read_at: float  # when its state was last known to equal the database's
    from_cache: bool
    failed: bool = False
    shared: bool = False  # the cache's own object, lent read-only: never given back


class AggregateCache:
    """A bounded LRU of aggregates by id, shared by the threads of one process."""

    def __init__(
        self, maxsize: int, max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maxsize, self.max_age, self.clock = maxsize, max_age, clock
        self._entries: OrderedDict[UUID, tuple[Aggregate, float]] = OrderedDict()
        self._lock = threading.Lock()
        # Aggregates checked out (or being read) by a command: id -> (given back, holder).
        self._out: dict[UUID, tuple[threading.Event, object]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def take(
        self, aggregate_id: UUID, *, read_only: bool = False, holder: object = None
    ) -> tuple[Aggregate, float] | None:
        """The cached aggregate, if any and still trusted: checked out, or for Business and
        Service the shared object (`read_only`) or a copy of it. A `holder` (not read-only)
        marks the id as out until it calls `release`, also when it finds nothing here."""
        with self._lock:
            out = None if read_only else self._out.get(aggregate_id)
        if out is not None and out[1] is not holder:
            out[0].wait(WAIT_SECONDS)
        with self._lock:
            entry = self._entries.get(aggregate_id)
            if entry is not None and not isinstance(entry[0], BOUNDED_STALENESS):
                del self._entries[aggregate_id]
            if holder is not None and not read_only and aggregate_id not in self._out:
                self._out[aggregate_id] = (threading.Event(), holder)
        if entry is None:
            return None
        aggregate, read_at = entry
        if isinstance(aggregate, BOUNDED_STALENESS):
            if self.clock() - read_at > self.max_age:
                return None
            return entry if read_only else (deepcopy(aggregate), read_at)
        return entry

    def peek(self, aggregate_id: UUID, version: int, read: Callable[[Aggregate], T]) -> T | None:
        """What `read` finds in the kept aggregate if it is at `version`, without checking it
        out: for answering with what a command just saved, not for changing it. `read` runs
        under the cache's lock, where no command can check the aggregate out and change it
        (a checked-out aggregate is not kept), so it needs no copy."""
        with self._lock:
            entry = self._entries.get(aggregate_id)
            if entry is None or entry[0].version != version:
                return None
            return read(entry[0])

    @staticmethod
    def shares(aggregate: Aggregate) -> bool:
        """Whether `aggregate`'s type is lent read-only rather than checked out."""
        return isinstance(aggregate, BOUNDED_STALENESS)

    def put(self, aggregate: Aggregate, read_at: float) -> None:
        """Keep `aggregate` (unless a newer version of it is already kept)."""
        with self._lock:
            current = self._entries.get(aggregate.id)
            if current is not None and current[0].version > aggregate.version:
                return
            self._entries[aggregate.id] = (aggregate, read_at)
            self._entries.move_to_end(aggregate.id)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, aggregate_id: UUID) -> None:
        """Forget the kept copy of `aggregate_id` (a save of it failed: the copy is stale)."""
        with self._lock:
            self._entries.pop(aggregate_id, None)

    def release(self, aggregate_id: UUID, holder: object) -> None:
        """`holder` is done with the aggregate: wake whoever waits for it."""
        with self._lock:
            out = self._out.get(aggregate_id)
            if out is None or out[1] is not holder:
                return
            del self._out[aggregate_id]
        out[0].set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Session:
    """The aggregates one command checked out."""

    cache: AggregateCache
    loaded: dict[int, Loaded] = field(default_factory=dict)
    held: set[UUID] = field(default_factory=set)  # ids this command marked as out
    bypass: bool = False  # rerunning on fresh state: trust nothing cached
    saves: int = 0  # how many saves this command made

    def take(self, aggregate_id: UUID, read_only: bool) -> tuple[Aggregate, float] | None:
        if not read_only:
            self.held.add(aggregate_id)
        return self.cache.take(aggregate_id, read_only=read_only, holder=self)

    def unguarded(self) -> list[tuple[UUID, int]]:
        """(id, version) of each aggregate served from the cache that no save will check: the
        ones with no events pending (read, or left unchanged). A pending event is written at
        `version + 1`, which the store refuses if the copy missed one."""
        return [
            (entry.aggregate.id, entry.aggregate.version)
            for entry in self.loaded.values()
            if entry.from_cache and not getattr(entry.aggregate, "pending_events", ())
        ]

    def served_stale(self, newer_than: Callable[[list[tuple[UUID, int]]], bool]) -> bool:
        """Whether an aggregate served from the cache has events it has not seen."""
        served = [
            (e.aggregate.id, e.aggregate.version) for e in self.loaded.values() if e.from_cache
        ]
        return bool(served) and newer_than(served)

    def add(
        self, aggregate: Aggregate, read_at: float, from_cache: bool, shared: bool = False
    ) -> None:
        self.loaded[id(aggregate)] = Loaded(aggregate, read_at, from_cache, shared=shared)

    def saved(self, aggregates: Iterator[Aggregate], at: float) -> None:
        self.saves += 1
        for aggregate in aggregates:
            self.loaded[id(aggregate)] = Loaded(aggregate, at, from_cache=False)

    def failed(self, aggregates: Iterator[Aggregate]) -> None:
        for aggregate in aggregates:
            entry = self.loaded.setdefault(id(aggregate), Loaded(aggregate, 0.0, False))
            entry.failed = True

    def give_back(self, *, keep: bool = True) -> None:
        """Return what may be trusted to the cache (nothing when `keep` is false)."""
        for entry in self.loaded.values():
            unsaved = bool(getattr(entry.aggregate, "pending_events", ()))
            if entry.failed:  # a Business or Service copy's original is still kept: drop it
                self.cache.discard(entry.aggregate.id)
            elif keep and not unsaved and not entry.shared:
                self.cache.put(entry.aggregate, entry.read_at)
        self.loaded.clear()
        for aggregate_id in self.held:
            self.cache.release(aggregate_id, self)
        self.held.clear()


_current: ContextVar[Session | None] = ContextVar("slotwise_cache_session", default=None)


def current_session() -> Session | None:
    return _current.get()


@contextmanager
def session(cache: AggregateCache | None) -> Iterator[Session | None]:
    """Check aggregates out of `cache` for one command; give back the sound ones at its end."""
    if cache is None:
        yield None
        return
    opened = Session(cache)
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)
        opened.give_back()
