"""Shared machinery of the command handlers: dispatch, causes, retries, loading, saving.

Every handler is registered for its command class with `@handles`, runs inside
the command's cause (so each event records who and why) and, with
`@retry_on_conflict`, is re-run on fresh state when a concurrent writer saved
one of its aggregates first.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from commands.answers import summary
from commands.cache import AggregateCache, current_session, session
from commands.keeping import current_offer
from commands.messages import Command, Done
from domain.access import STAFF_ROLES, require_role, require_staff
from domain.actor import Actor
from domain.allocation import DayAllocation
from domain.business import Business
from domain.cause import caused_by, current_cause
from domain.errors import BusinessNotFound, ConcurrencyConflict, DomainError, NotFound
from domain.service import Service

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
C = TypeVar("C", bound=Command)
Handler = Callable[[Any, C], Done]
# Command class -> name of the handler method; filled in by @handles.
HANDLERS: dict[type[Command], str] = {}
# Command class -> name of the method that answers it again, given its aggregate at the
# version it produced, when a replay finds it already took effect (default: `summary`).
ANSWERS: dict[type[Command], str] = {}
# How far back a replayed command looks for its own earlier effect.
RECENT_EVENTS = 100
# Aggregates whose histories grow without bound; the rest stay short.
SNAPSHOTTED: tuple[type[Aggregate], ...] = (Business, Service, DayAllocation)


class StaleCopy(Exception):
    """A command was about to save a decision taken on a cached copy that missed an event."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply `events` in order: the library's projector, minus an isinstance check against a
    runtime-checkable Protocol that costs about 10 µs per event (more than applying it)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def handles(
    command_type: type[C], *, answer: str | None = None
) -> Callable[[Handler[C]], Handler[C]]:
    """Register the decorated method as the handler of `command_type` (and how a replay of it
    is answered: the name of a method taking the command and the aggregate it produced)."""

    def register(method: Handler[C]) -> Handler[C]:
        @functools.wraps(method)
        def handler(self: Handlers, command: C) -> Done:
            with caused_by(command.cause()):
                if command.context.replayable:
                    earlier = self.earlier_effect(command)
                    if earlier is not None:
                        return earlier
                with session(self.aggregate_cache) as opened:
                    try:
                        done = method(self, command)
                        if opened is None or opened.saves or not opened.served_stale(self.newer):
                            return done
                        # "Nothing to do" said on cached state stands only if fresh state agrees.
                    except ConcurrencyConflict:
                        raise
                    except StaleCopy:
                        if opened is None or opened.saves:  # never rerun what already wrote
                            raise
                    except DomainError:
                        if opened is None or not opened.served_stale(self.newer):
                            raise
                        # A refusal given on cached state is given only if fresh state agrees.
                    opened.give_back(keep=False)
                    opened.bypass = True
                    return method(self, command)

        HANDLERS[command_type] = method.__name__
        if answer is not None:
            ANSWERS[command_type] = answer
        return handler

    return register


def retry_on_conflict(method: Handler[C]) -> Handler[C]:
    """Re-run the handler when the event store refuses a save to a concurrent writer."""

    @functools.wraps(method)
    def attempt(self: Handlers, command: C) -> Done:
        for n in range(self.max_attempts):
            try:
                return method(self, command)
            except IntegrityError:
                opened = current_session()
                if opened is not None:  # keep what the failed save did not prove stale
                    opened.give_back()
                earlier = self.earlier_effect(command)  # our own id from an earlier try?
                if earlier is not None:
                    return earlier
                self.on_conflict_retry()
                time.sleep(random.uniform(0, 0.002 * 2 ** min(n, 6)))
        raise ConcurrencyConflict(
            f"gave up after {self.max_attempts} attempts against concurrent writers; retry"
        )

    return attempt


class Handlers(Application[UUID]):
    """Base of the command handlers: an eventsourcing Application with helpers."""

    max_attempts = 12

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        snapshot_interval: int = 0,
        aggregate_cache_size: int = 0,
        aggregate_cache_max_age: float = 1.0,
    ) -> None:
        if snapshot_interval > 0:  # loads then replay at most that many events after a snapshot
            intervals = dict.fromkeys(SNAPSHOTTED, snapshot_interval)
            self.snapshotting_intervals = intervals  # type: ignore[misc,assignment]  # per instance
            env = {**(env or {}), "IS_SNAPSHOTTING_ENABLED": "y"}
        super().__init__(env)
        self.clock = clock
        self.aggregate_cache = (
            AggregateCache(aggregate_cache_size, aggregate_cache_max_age)
            if aggregate_cache_size > 0
            else None
        )
        self.on_conflict_retry: Callable[[], None] = lambda: None  # metrics hook
        # Answers `newer` in one round trip where the store allows (set by the composition root).
        self.versions_checker: Callable[[list[tuple[UUID, int]]], bool] | None = None
        # Whether this process can take payment online (a Stripe key); set by bootstrap.
        self.takes_payments = True

    def handle(self, command: Command) -> Done:
        """Run `command` through its registered handler (routes, sagas and timers all do)."""
        try:
            name = HANDLERS[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None
        handler: Callable[[Command], Done] = getattr(self, name)
        return handler(command)

    def just_saved(
        self, cls: type[A], aggregate_id: UUID, version: int, read: Callable[[A], T]
    ) -> T | None:
        """What `read` finds in the aggregate at `version` if this process's cache holds it
        (a command here just saved it); None otherwise, and always without the cache. `read`
        must not change it, nor keep it."""
        if self.aggregate_cache is None:
            return None

        def checked(found: Aggregate) -> T | None:
            return read(found) if isinstance(found, cls) else None

        return self.aggregate_cache.peek(aggregate_id, version, checked)

    def load(
        self, cls: type[A], aggregate_id: UUID, missing: type[NotFound], *, read_only: bool = False
    ) -> A:
        """The aggregate, or `missing` when no aggregate of that type has that id."""
        found = self.load_or_none(cls, aggregate_id, read_only=read_only)
        if found is None:
            raise missing(f"no {cls.__name__.lower()} with id {aggregate_id}")
        return found

    def load_or_none(
        self, cls: type[A], aggregate_id: UUID, *, fresh: bool = False, read_only: bool = False
    ) -> A | None:
        """The aggregate, if it exists and is a `cls`. `fresh`: read from the event store (for
        an aggregate the command reads without saving, see commands/cache.py); `read_only`:
        the command promises not to change it (a cached Business or Service is then lent,
        not copied)."""
        opened = None if fresh else current_session()
        use_cache = opened is not None and not opened.bypass
        cached = opened.take(aggregate_id, read_only) if opened is not None and use_cache else None
        if cached is not None:
            aggregate, read_at = cached
        else:
            read_at = opened.cache.clock() if opened is not None else 0.0
            try:
                aggregate = self.repository.get(aggregate_id, projector_func=replay)
            except AggregateNotFoundError:
                return None
        if opened is not None:
            shared = read_only and opened.cache.shares(aggregate)
            if shared and cached is None:  # nobody changes it: it may be lent from now on
                opened.cache.put(aggregate, read_at)
            opened.add(aggregate, read_at, from_cache=cached is not None, shared=shared)
        return aggregate if isinstance(aggregate, cls) else None

    def has_events_after(self, aggregate_id: UUID, version: int) -> bool:
        return bool(self.recorder.select_events(aggregate_id, gt=version, limit=1))

    def newer(self, versions: list[tuple[UUID, int]]) -> bool:
        """Whether any aggregate has events after the version given for it (the store's
        adapter may answer in one query: see `versions_checker`)."""
        if self.versions_checker is not None:
            return self.versions_checker(versions)
        return any(self.has_events_after(aggregate_id, v) for aggregate_id, v in versions)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save atomically; the cache keeps what was saved and drops what failed to be."""
        opened = current_session()
        aggregates = [o for o in objs if isinstance(o, Aggregate)]
        if opened is not None and not opened.bypass:
            unguarded = opened.unguarded()
            writes = any(getattr(a, "pending_events", ()) for a in aggregates)
            if unguarded and writes and getattr(self.recorder, "checks_guards", False):
                # Checked by the store in the save's own transaction: no extra round trip.
                kwargs = {**kwargs, "guards": unguarded}
            elif unguarded and self.newer(unguarded):
                raise StaleCopy(f"a cached copy among {len(unguarded)} missed an event")
        try:
            recordings = super().save(*objs, **kwargs)
        except Exception:
            if opened is not None:
                opened.failed(iter(aggregates))
            raise
        if opened is not None:
            opened.saved(iter(aggregates), opened.cache.clock())
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot every aggregate whose events in this save reached a multiple of its
        interval, from the object just saved. The library reads the aggregate back from the
        store and replays it first, though the saved object is that very state: about 5 ms
        for a day of 20 bookings, in the request (docs/benchmarks.md, "Issue 19"). An
        aggregate is snapshotted once per save, at the version the save left it at."""
        if self.snapshots is None or not self.snapshotting_intervals:
            return
        due: dict[UUID, Any] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))  # type: ignore[arg-type]
            if aggregate is not None and interval and event.originator_version % interval == 0:
                due[aggregate.id] = aggregate
        taken = []
        for aggregate in due.values():
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            assert snapshot_class is not None, "snapshots on: the library's Snapshot class"
            taken.append(snapshot_class.take(aggregate))
        if taken:
            self.snapshots.put(taken)

    def commit(
        self,
        primary: Aggregate,
        *others: Aggregate,
        answer: dict[str, Any] | None = None,
        id: UUID | None = None,  # what the answer is about, if not `primary`
    ) -> Done:
        """Save all aggregates atomically and report the primary one (with `answer`, or its
        summary, as the fields the command's answer shows; `id` names what the command
        made, e.g. a resource inside its business).

        A handler returns this Done as it is: a keyed request's answer is rendered from it
        and kept with the events (commands/keeping.py)."""
        fields = summary(primary) if answer is None else answer
        subject = primary.id if id is None else id
        writes = any(getattr(a, "pending_events", ()) for a in (primary, *others))
        keeps = writes and getattr(self.recorder, "keeps_answers", False)
        offer = current_offer() if keeps else None
        kept = None
        if offer is not None:  # a keyed request's answer, to keep with these events
            provisional = Done(id=subject, version=primary.version, position=0, fields=fields)
            kept = offer.take(current_cause().causation_id, provisional, primary)
        recordings = self.save(primary, *others, **({} if kept is None else {"answer": kept}))
        position = max((r.notification.id for r in recordings), default=0)
        done = Done(id=subject, version=primary.version, position=position, fields=fields)
        if offer is not None and kept is not None:
            offer.saved(kept, done)
        return done

    def earlier_effect(self, command: Command) -> Done | None:
        """What `command` did when it ran before under the same id, if it took effect."""
        target = command.target()
        stored = self.recorder.select_events(target, desc=True, limit=RECENT_EVENTS)
        for record in stored:
            event = self.mapper.to_domain_event(record)
            if getattr(event, "causation_id", None) == command.context.causation_id:
                position = self.recorder.max_notification_id() or 0  # covers that event
                version = event.originator_version
                fields = self.answer_again(command, target, version)
                return Done(id=target, version=version, position=position, fields=fields)
        return None

    def answer_again(self, command: Command, target: UUID, version: int) -> dict[str, Any]:
        """The fields a command that already took effect answers with, as it did then."""
        aggregate = self.repository.get(target, version=version, projector_func=replay)
        method = ANSWERS.get(type(command))
        if method is None:
            return summary(aggregate)
        answer: dict[str, Any] = getattr(self, method)(command, aggregate)
        return answer

    def owned_business(self, actor: Actor, business_id: UUID) -> Business:
        """The business, if `actor` is staff allowed to act on it."""
        require_role(actor, STAFF_ROLES)
        business = self.load(Business, business_id, BusinessNotFound)
        require_staff(actor, business.owner_id)
        return business


def deduplicate(aggregates: list[Any]) -> list[Any]:
    seen: dict[UUID, Any] = {}
    for aggregate in aggregates:
        seen.setdefault(aggregate.id, aggregate)
    return list(seen.values())
