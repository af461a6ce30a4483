"""The relay's record of what it published where, in the event-store database.

Written in the same transaction as the relay's checkpoint: for each (topic,
partition), the global position and Kafka offset of the last event the broker
acknowledged there, and a mark where each batch began there (its first offset
and position). Read-your-writes through Kafka reads them (infra/kafka/progress.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from infra.consumers.runtime import utc_now
from projections.tables import UTCDateTime

RELAY = "kafka_relay"  # the relay's consumer name (its checkpoint is on source `log`)
metadata = MetaData()
published = Table(
    "relay_published",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("last_position", BigInteger, nullable=False),
    Column("last_offset", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


# Where a batch began in a partition: every later message there has a position at
# least this one's, so a consumer that stopped just before it is known to hold
# everything older. Kept for MARKS_KEPT (an older mark only makes answers conservative).
marks = Table(
    "relay_marks",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("first_offset", BigInteger, primary_key=True),
    Column("first_position", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
MARKS_KEPT = timedelta(hours=1)

Spot = tuple[str, int]  # (topic, partition)


def record_published(
    conn: Connection, first: dict[Spot, tuple[int, int]], latest: dict[Spot, tuple[int, int]]
) -> None:
    """Note, per (topic, partition), where the batch began and its last acknowledged send."""
    now = utc_now()
    for (topic, partition), (position, offset) in first.items():
        mark = {"first_position": position, "created_at": now}
        conn.execute(
            pg_insert(marks)
            .values(topic=topic, partition=partition, first_offset=offset, **mark)
            .on_conflict_do_update(index_elements=["topic", "partition", "first_offset"], set_=mark)
        )
    for (topic, partition), (position, offset) in latest.items():
        values = {"last_position": position, "last_offset": offset, "updated_at": utc_now()}
        conn.execute(
            pg_insert(published)
            .values(topic=topic, partition=partition, **values)
            .on_conflict_do_update(index_elements=["topic", "partition"], set_=values)
        )


def published_so_far(conn: Connection) -> dict[tuple[str, int], tuple[int, int]]:
    rows = conn.execute(select(published))
    return {(r.topic, r.partition): (r.last_position, r.last_offset) for r in rows}


def forget_topics(conn: Connection, topics: list[str]) -> None:
    """Topics were created anew (a broker that lost its log): their old offsets mean nothing."""
    conn.execute(delete(published).where(published.c.topic.in_(topics)))
    conn.execute(delete(marks).where(marks.c.topic.in_(topics)))


def prune_marks(conn: Connection) -> int:
    result = conn.execute(delete(marks).where(marks.c.created_at < utc_now() - MARKS_KEPT))
    return int(result.rowcount)


def batch_starts(
    conn: Connection, wanted: set[tuple[str, int, int]]
) -> dict[tuple[str, int, int], int]:
    """For (topic, partition, offset) triples: the first position of a batch begun right there."""
    if not wanted:
        return {}
    columns = marks.c
    rows = conn.execute(
        select(
            columns.topic, columns.partition, columns.first_offset, columns.first_position
        ).where(tuple_(columns.topic, columns.partition, columns.first_offset).in_(list(wanted)))
    )
    return {(r.topic, r.partition, r.first_offset): r.first_position for r in rows}
