"""The follower's pass: few statements, a consumer in trouble pauses alone, read models commit
without waiting for the disk (and only they), on both stores."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Table, event, select
from sqlalchemy.exc import OperationalError

from commands.messages import PlaceBooking
from domain.envelope import Envelope
from infra.bootstrap import Container
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.follower import LOG_PARTITION, LOG_SOURCE, catch_up, read_log
from projections.tables import bookings
from read_api.raw import utc_reader
from tests.integration.test_scenarios import ANN, MONDAY_10, open_salon


class Clock:
    """A monotonic clock the test moves (the runtime's pauses are read from it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Troubled:
    """A consumer whose database work fails (as a broken projector's SQL does on SQLite)."""

    name = "troubled"
    tables: Sequence[Table] = ()

    def __init__(self) -> None:
        self.broken = True
        self.applied: list[int] = []
        self.synchronous_commit: list[str] = []

    def handles(self, event_type: str) -> bool:
        return True

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.apply_batch(conn, [envelope])

    def apply_batch(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        if conn.dialect.name == "postgresql":
            setting = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
            self.synchronous_commit.append(str(setting))
        if self.broken:
            raise OperationalError("UPDATE troubled", {}, Exception("no such column: nope"))
        self.applied.extend(e.position for e in envelopes)


def runtime_with(
    container: Container, extra: Troubled, clock: Clock, *, rebuildable: bool = True
) -> ConsumerRuntime:
    consumers = [*container.runtime.consumers, extra]
    retry = RetryPolicy(max_attempts=3, first_backoff=1.0, max_backoff=8.0)
    return ConsumerRuntime(
        container.runtime.engine, consumers, retry, clock, rebuildable=rebuildable
    )


def statements_of(container: Container) -> list[str]:
    seen: list[str] = []

    def executed(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    for engine in {container.runtime.engine, container.runtime.reader}:
        event.listen(engine, "before_cursor_execute", executed)
    return seen


def test_a_pass_locks_and_saves_every_checkpoint_with_one_statement_each(
    container: Container,
) -> None:
    _, service = open_salon(container)
    container.catch_up()
    before = container.app.recorder.max_notification_id() or 0
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    log = read_log(container.app.recorder, container.app.mapper, before, 100)
    types = {d.envelope.type for d in log}
    seen = statements_of(container)
    container.catch_up()
    on_checkpoints = [s for s in seen if "consumer_checkpoints" in s]
    # a read of where to start, the lock, the save: whatever the number of consumers
    assert len(on_checkpoints) == 3, on_checkpoints
    assert len([s for s in seen if "consumer_dead_letters" in s]) == 1
    # consumers with nothing to apply (the directory, the catalogue...) cost no statement,
    # and those with something apply it without a savepoint while nothing fails
    consumers = container.runtime.consumers
    handling = [c for c in consumers if any(c.handles(t) for t in types)]
    assert 0 < len(handling) < len(consumers)
    assert not [s for s in seen if s.startswith("SAVEPOINT")]
    assert len([s for s in seen if s.startswith("INSERT INTO bookings")]) == 1
    wanted = container.app.recorder.max_notification_id()
    assert container.reached(tuple(c.name for c in container.runtime.consumers)) == wanted


def test_a_consumer_whose_database_work_fails_pauses_alone(container: Container) -> None:
    _, service = open_salon(container)
    troubled, clock = Troubled(), Clock()
    runtime = runtime_with(container, troubled, clock)
    catch_up(container.app.recorder, container.app.mapper, runtime)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    catch_up(container.app.recorder, container.app.mapper, runtime)

    end = container.app.recorder.max_notification_id() or 0
    reached = runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)
    assert reached["troubled"].position == 0  # nothing of it was kept
    others = [c.name for c in container.runtime.consumers]
    assert all(reached[name].position == end for name in others)  # the others went on
    with container.read_db.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM bookings").scalar() == 1

    troubled.broken = False
    catch_up(container.app.recorder, container.app.mapper, runtime)
    assert troubled.applied == []  # still paused: it is not hammered pass after pass
    clock.now += 60
    catch_up(container.app.recorder, container.app.mapper, runtime)
    assert troubled.applied == sorted(set(troubled.applied)) and troubled.applied[-1] == end
    assert runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)["troubled"].position == end


@pytest.fixture
def server_default_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    """This module's connections commit as the server's default says, not as the tests'
    PGOPTIONS do (tests/conftest.py turns synchronous_commit off for every other test)."""
    monkeypatch.delenv("PGOPTIONS", raising=False)


@pytest.mark.parametrize("backend", ["postgres"])
def test_only_read_model_commits_skip_waiting_for_the_disk(
    server_default_commits: None, container: Container
) -> None:
    open_salon(container)
    for rebuildable, expected in ((True, "off"), (False, "on")):
        troubled, clock = Troubled(), Clock()
        troubled.broken = False
        runtime = runtime_with(container, troubled, clock, rebuildable=rebuildable)
        with runtime.engine.begin() as conn:  # a fresh start for the probe consumer
            conn.exec_driver_sql("DELETE FROM consumer_checkpoints WHERE consumer = 'troubled'")
        catch_up(container.app.recorder, container.app.mapper, runtime)
        assert troubled.synchronous_commit and set(troubled.synchronous_commit) == {expected}
    assert container.runtime.rebuildable  # the projectors' runtime is the rebuildable one
    with container.runtime.engine.connect() as conn:  # and the setting lasts one transaction
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_reading_progress_never_waits_for_the_followers_transaction(
    container: Container,
) -> None:
    """On SQLite the follower holds the write lock for its whole pass; a read with a token
    (and the next pass's start) reads the checkpoints beside it, from the last commit."""
    open_salon(container)
    container.catch_up()
    end = container.app.recorder.max_notification_id()
    everyone = tuple(c.name for c in container.runtime.consumers)
    answers: list[int] = []
    with container.runtime.engine.begin() as conn:  # a pass in progress, holding the lock
        conn.exec_driver_sql("UPDATE consumer_checkpoints SET last_position = last_position")
        reader = threading.Thread(target=lambda: answers.append(container.reached(everyone)))
        reader.start()
        reader.join(timeout=10)  # a hang guard only: it used to wait for the lock
        assert answers == [end]


def test_a_projected_booking_reads_back_with_the_times_it_was_written(
    container: Container,
) -> None:
    """The bulk upsert writes each column as SQLAlchemy would (SQLite's own DATETIME text,
    which the read API's raw queries parse)."""
    _, service = open_salon(container)
    booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    container.catch_up()
    with container.read_db.reader.connect() as conn:
        row = conn.execute(select(bookings).where(bookings.c.id == str(booking.id))).one()
        stored = conn.exec_driver_sql("SELECT start FROM bookings").scalar()
        assert utc_reader(conn)(stored) == MONDAY_10
    assert row.start == MONDAY_10


def test_a_pass_woken_by_a_write_starts_where_the_last_left_off(container: Container) -> None:
    """No read of the checkpoints before the pass locks them: the lock and the save remain."""
    _, service = open_salon(container)
    runtime = container.runtime
    catch_up(container.app.recorder, container.app.mapper, runtime)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    seen = statements_of(container)
    assert catch_up(container.app.recorder, container.app.mapper, runtime, resume=True) > 0
    on_checkpoints = [s for s in seen if "consumer_checkpoints" in s]
    assert len(on_checkpoints) == 2, on_checkpoints  # the lock, the save
    wanted = container.app.recorder.max_notification_id()
    assert container.reached(tuple(c.name for c in runtime.consumers)) == wanted


def test_a_checkpoint_set_back_elsewhere_is_noticed_by_a_resumed_pass(
    container: Container,
) -> None:
    """Another process rebuilds the bookings projection (its rows and checkpoint gone): the
    next pass, though woken by a write, reads the checkpoints and brings every booking back."""
    _, service = open_salon(container)
    runtime = container.runtime
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    catch_up(container.app.recorder, container.app.mapper, runtime)
    bookings_projector = runtime.consumer("bookings")
    elsewhere = ConsumerRuntime(runtime.engine, [bookings_projector])
    elsewhere.reset(bookings_projector)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10.replace(hour=12)))

    catch_up(container.app.recorder, container.app.mapper, runtime, resume=True)
    with container.read_db.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM bookings").scalar() == 2
    wanted = container.app.recorder.max_notification_id()
    assert runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)["bookings"].position == wanted
