"""The consumer runtime's hooks for sinks: before_commit, Unavailable, republished copies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, select

from domain.envelope import Envelope
from infra.consumers.runtime import ConsumerRuntime, Delivery, RetryPolicy, Unavailable
from infra.readdb import sqlite_engine

metadata = MetaData()
seen = Table("seen", metadata, Column("position", Integer, primary_key=True))


def envelope(position: int) -> Envelope:
    return Envelope(
        id=f"e{position}",
        type="slotwise.booking.placed",
        subject="00000000-0000-0000-0000-000000000001",
        time="2027-03-01T12:00:00+00:00",
        data={},
        position=position,
        aggregatetype="booking",
        aggregateversion=position,
        schemaversion=2,
        actorid="ann",
        actorrole="customer",
        correlationid="c",
        causationid="c",
    )


class Sink:
    """Records positions; its flush (before_commit) or its sends can be made to fail."""

    name = "sink"
    tables: Sequence[Table] = (seen,)

    def __init__(self) -> None:
        self.flushes = 0
        self.flush_fails = False
        self.down = False

    def handles(self, event_type: str) -> bool:
        return True

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        if self.down:
            raise Unavailable("the broker is away")
        conn.execute(seen.insert().values(position=envelope.position))

    def before_commit(self, conn: Connection) -> None:
        self.flushes += 1
        if self.flush_fails:
            raise Unavailable("not acknowledged")


@pytest.fixture
def runtime(tmp_path: Path) -> ConsumerRuntime:
    engine = sqlite_engine(f"sqlite:///{tmp_path / 'hooks.sqlite'}", immediate=True)
    metadata.create_all(engine)
    made = ConsumerRuntime(engine, [Sink()], RetryPolicy(max_attempts=2, first_backoff=0.001))
    made.setup()
    return made


def positions(runtime: ConsumerRuntime) -> list[int]:
    with runtime.engine.connect() as conn:
        return sorted(conn.execute(select(seen.c.position)).scalars())


def test_a_failing_before_commit_rolls_back_effects_and_checkpoint(
    runtime: ConsumerRuntime,
) -> None:
    sink = runtime.consumers[0]
    assert isinstance(sink, Sink)
    sink.flush_fails = True
    with pytest.raises(Unavailable):
        runtime.deliver("t", 0, [Delivery(0, envelope(1)), Delivery(1, envelope(2))])
    assert positions(runtime) == []
    assert runtime.checkpoints("t", 0)["sink"].offset == -1

    sink.flush_fails = False
    runtime.deliver("t", 0, [Delivery(0, envelope(1)), Delivery(1, envelope(2))])
    assert positions(runtime) == [1, 2]
    assert runtime.checkpoints("t", 0)["sink"].offset == 1


def test_an_unavailable_sink_is_not_the_events_fault(runtime: ConsumerRuntime) -> None:
    sink = runtime.consumers[0]
    assert isinstance(sink, Sink)
    sink.down = True
    for _ in range(3):  # more often than max_attempts: still never parked
        with pytest.raises(Unavailable):
            runtime.deliver("t", 0, [Delivery(0, envelope(1))])
    with runtime.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM consumer_dead_letters").scalar() == 0


def test_copies_published_again_are_skipped_but_passed(runtime: ConsumerRuntime) -> None:
    runtime.deliver("t", 0, [Delivery(0, envelope(3)), Delivery(1, envelope(5))])
    copies_then_new = [Delivery(2, envelope(3)), Delivery(3, envelope(5)), Delivery(4, envelope(8))]

    runtime.deliver("t", 0, copies_then_new)

    assert positions(runtime) == [3, 5, 8]
    reached = runtime.checkpoints("t", 0)["sink"]
    assert (reached.offset, reached.position) == (4, 8)


def test_a_rewound_source_keeps_positions_and_skips_what_was_applied(
    runtime: ConsumerRuntime,
) -> None:
    runtime.deliver("t", 0, [Delivery(0, envelope(3)), Delivery(1, envelope(5))])
    runtime.rewind("t", 0)  # the broker lost its log and the relay published again from 0
    runtime.deliver("t", 0, [Delivery(0, envelope(5)), Delivery(1, envelope(9))])
    assert positions(runtime) == [3, 5, 9]
