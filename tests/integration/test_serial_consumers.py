"""Two workers projecting one business's bookings from two partitions at once never deadlock."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from domain.envelope import Envelope
from infra.consumers.runtime import ConsumerRuntime, Delivery
from infra.readdb import open_read_database
from projections.stats import BusinessStatsProjector
from projections.tables import business_daily_stats, metadata

BUSINESS = str(uuid.uuid4())


def placed(position: int, day: str) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        type="slotwise.booking.placed",
        subject=str(uuid.uuid4()),
        time=f"{day}T08:00:00+00:00",
        data={
            "business_id": BUSINESS,
            "service_id": str(uuid.uuid4()),
            "timezone": "UTC",
            "start": f"{day}T10:00:00+00:00",
            "end": f"{day}T11:00:00+00:00",
            "price_amount": "30.00",
            "currency": "EUR",
            "status": "confirmed",
        },
        position=position,
        aggregatetype="booking",
        aggregateversion=1,
        schemaversion=2,
        actorid="ann",
        actorrole="customer",
        correlationid="c",
        causationid="c",
    )


@pytest.fixture
def runtime(postgres_dsn: str, postgres_schema: str) -> Iterator[ConsumerRuntime]:
    read_db = open_read_database(f"{postgres_dsn}?schema={postgres_schema}")
    metadata.create_all(read_db.writer)
    made = ConsumerRuntime(read_db.writer, [BusinessStatsProjector()])
    made.setup()
    yield made
    read_db.dispose()


def test_batches_meeting_in_the_same_counters_from_two_partitions_both_apply(
    runtime: ConsumerRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = BusinessStatsProjector._count

    def slowly(self: BusinessStatsProjector, conn: Any, fact: Any, **deltas: int) -> None:
        count(self, conn, fact, **deltas)
        time.sleep(0.2)  # hold the counter row while the other partition's batch runs

    monkeypatch.setattr(BusinessStatsProjector, "_count", slowly)
    batches = {  # the same two days, touched in opposite orders
        0: [Delivery(0, placed(1, "2027-03-08")), Delivery(1, placed(3, "2027-03-09"))],
        1: [Delivery(0, placed(2, "2027-03-09")), Delivery(1, placed(4, "2027-03-08"))],
    }
    failures: list[BaseException] = []

    def deliver(partition: int) -> None:
        try:
            runtime.deliver("t.booking", partition, batches[partition])
        except BaseException as error:  # a deadlock would surface here
            failures.append(error)

    workers = [threading.Thread(target=deliver, args=(p,)) for p in batches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert failures == []
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(business_daily_stats.c.day, business_daily_stats.c.bookings))
        assert sorted(rows) == [("2027-03-08", 2), ("2027-03-09", 2)]
