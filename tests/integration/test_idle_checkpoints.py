"""A process manager's progress over records it does not react to is kept in memory and written
now and then, never at the cost of a record it does react to (the waitlist's runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, event

from commands.messages import CancelBooking, PlaceBooking
from domain.envelope import Envelope
from infra.bootstrap import Container
from infra.consumers.runtime import ConsumerRuntime
from infra.follower import LOG_PARTITION, LOG_SOURCE, catch_up
from tests.integration.test_follower_pass import Clock
from tests.integration.test_scenarios import ANN, MONDAY_10, open_salon

CANCELLED = "slotwise.booking.cancelled"
SAVE_EVERY = 5.0


class Cancellations:
    """Reacts to cancellations only, as the waitlist reacts to a few event types among many."""

    name = "cancellations"
    tables: Sequence[Table] = ()

    def __init__(self) -> None:
        self.seen: list[int] = []

    def handles(self, event_type: str) -> bool:
        return event_type == CANCELLED

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.seen.append(envelope.position)


def runtime_of(container: Container, consumer: Cancellations, clock: Clock) -> ConsumerRuntime:
    runtime = ConsumerRuntime(
        container.runtime.engine, [consumer], monotonic=clock, idle_save_seconds=SAVE_EVERY
    )
    runtime.setup()
    return runtime


def watched_salon(container: Container) -> tuple[Any, Clock, Cancellations, ConsumerRuntime]:
    """A salon open for bookings, and a runtime watching for cancellations, on a test clock."""
    _, service = open_salon(container)
    clock, consumer = Clock(), Cancellations()
    return service, clock, consumer, runtime_of(container, consumer, clock)


def writes_to_checkpoints(container: Container) -> list[str]:
    seen: list[str] = []

    def executed(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "consumer_checkpoints" in statement and not statement.startswith("SELECT"):
            seen.append(statement)

    event.listen(container.runtime.engine, "before_cursor_execute", executed)
    return seen


def stored(container: Container, clock: Clock) -> int:
    """The checkpoint as another process reads it: from the database alone."""
    fresh = runtime_of(container, Cancellations(), clock)
    return fresh.checkpoints(LOG_SOURCE, LOG_PARTITION)["cancellations"].offset


def test_records_nobody_reacts_to_write_no_checkpoint_and_are_not_read_twice(
    container: Container,
) -> None:
    service, clock, consumer, runtime = watched_salon(container)
    app = container.app
    assert catch_up(app.recorder, app.mapper, runtime) > 0  # the salon: written once (first pass)
    written = stored(container, clock)
    writes = writes_to_checkpoints(container)

    booking = app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10)).id
    assert catch_up(app.recorder, app.mapper, runtime) > 0
    assert writes == []  # nothing to do: nothing written
    assert catch_up(app.recorder, app.mapper, runtime) == 0  # and nothing read again
    end = app.recorder.max_notification_id()
    assert runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)["cancellations"].offset == end
    assert stored(container, clock) == written  # another process sees the last written

    app.cancel_booking(CancelBooking(ANN, booking, "ill"))
    catch_up(app.recorder, app.mapper, runtime)
    end = app.recorder.max_notification_id()
    assert len(consumer.seen) == 1 and writes  # reacted to at once, its progress written
    assert stored(container, clock) == end


def test_an_idle_stretch_is_written_once_its_time_is_up(container: Container) -> None:
    service, clock, _consumer, runtime = watched_salon(container)
    app = container.app
    catch_up(app.recorder, app.mapper, runtime)
    written = stored(container, clock)

    app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    catch_up(app.recorder, app.mapper, runtime)
    assert stored(container, clock) == written
    clock.now += SAVE_EVERY
    app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10.replace(hour=12)))
    catch_up(app.recorder, app.mapper, runtime)
    assert stored(container, clock) == app.recorder.max_notification_id()


def test_a_restart_reads_the_unwritten_stretch_again_and_finds_nothing_to_do(
    container: Container,
) -> None:
    service, _clock, _consumer, runtime = watched_salon(container)
    app = container.app
    catch_up(app.recorder, app.mapper, runtime)
    app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    catch_up(app.recorder, app.mapper, runtime)

    restarted, again = Cancellations(), Clock()
    assert catch_up(app.recorder, app.mapper, runtime_of(container, restarted, again)) > 0
    assert restarted.seen == []


def test_a_checkpoint_set_back_by_another_process_is_not_skipped_forward(
    container: Container,
) -> None:
    """A rebuild elsewhere forgets the consumer's checkpoint: every record is delivered to it
    again, those before the stretch this process found nothing in included."""
    service, clock, consumer, runtime = watched_salon(container)
    app = container.app
    booking = app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10)).id
    app.cancel_booking(CancelBooking(ANN, booking, "ill"))
    catch_up(app.recorder, app.mapper, runtime)
    assert len(consumer.seen) == 1
    app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10.replace(hour=12)))
    catch_up(app.recorder, app.mapper, runtime)  # idle: kept in memory

    elsewhere = Cancellations()
    runtime_of(container, elsewhere, clock).reset(elsewhere)  # as a rebuild in another process
    catch_up(app.recorder, app.mapper, runtime)
    assert len(consumer.seen) == 2  # the cancellation, again
    assert runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)["cancellations"].offset == (
        app.recorder.max_notification_id()
    )
