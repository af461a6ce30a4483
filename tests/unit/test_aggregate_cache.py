"""The command side's aggregate cache: check-out, give-back, exact eviction, bounded waits."""

from __future__ import annotations

import threading
import time
from typing import Any

from eventsourcing.domain import Aggregate, event

from commands.cache import WAIT_SECONDS, AggregateCache, Session


class Day(Aggregate):
    @event("Held")
    def hold(self) -> None:
        pass


def saved_day() -> Day:
    day = Day()
    day.collect_events()
    return day


def test_a_checked_out_aggregate_is_not_handed_to_another_command() -> None:
    cache = AggregateCache(10, 1.0)
    day = saved_day()
    cache.put(day, 0.0)
    first, second = Session(cache), Session(cache)

    assert first.take(day.id, read_only=False) == (day, 0.0)
    started = time.monotonic()
    assert second.take(day.id, read_only=False) is None  # waited, then read it itself
    assert time.monotonic() - started >= WAIT_SECONDS * 0.9


def test_a_waiting_command_gets_the_version_the_other_saved() -> None:
    cache = AggregateCache(10, 1.0)
    day = saved_day()
    cache.put(day, 0.0)
    first, second = Session(cache), Session(cache)
    first.take(day.id, read_only=False)
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(second.take(day.id, read_only=False)))
    waiter.start()
    day.hold()
    day.collect_events()  # as its save does
    first.saved(iter([day]), 1.0)  # ...which went through
    first.give_back()
    waiter.join()
    assert got == [(day, 1.0)] and day.version == 2


def test_the_aggregates_of_a_failed_save_are_evicted() -> None:
    cache = AggregateCache(10, 1.0)
    day, other = saved_day(), saved_day()
    command = Session(cache)
    command.add(day, 0.0, from_cache=False)
    command.add(other, 0.0, from_cache=False)
    day.hold()
    command.failed(iter([day]))
    command.give_back()
    assert cache.take(day.id) is None
    assert cache.take(other.id) == (other, 0.0)


def test_an_aggregate_with_unsaved_events_is_not_kept() -> None:
    cache = AggregateCache(10, 1.0)
    day = saved_day()
    command = Session(cache)
    command.add(day, 0.0, from_cache=False)
    day.hold()  # then the command refused, before saving
    command.give_back()
    assert cache.take(day.id) is None


def test_a_peek_never_reads_an_aggregate_a_command_has_checked_out() -> None:
    """A peek reads the kept object without copying it: safe only because an aggregate a
    command may be changing is not kept meanwhile."""
    cache = AggregateCache(10, 1.0)
    day = saved_day()
    cache.put(day, 0.0)
    command = Session(cache)
    assert command.take(day.id, read_only=False) == (day, 0.0)
    command.add(day, 0.0, from_cache=True)

    assert cache.peek(day.id, day.version, lambda found: found) is None
    command.give_back()  # unchanged: kept again
    assert cache.peek(day.id, day.version, lambda found: found) is day


def test_a_peek_answers_only_for_the_version_just_saved_and_leaves_the_entry_in() -> None:
    cache = AggregateCache(10, 1.0)
    day = saved_day()
    cache.put(day, 0.0)

    def version(found: Any) -> int:
        return int(found.version)

    assert cache.peek(day.id, day.version, version) == day.version
    assert cache.peek(day.id, day.version + 1, version) is None  # moved on: read it fresh
    assert Session(cache).take(day.id, read_only=False) == (day, 0.0)  # still there to take
