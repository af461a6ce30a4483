"""The runtime's own tables, kept in the same database as the consumers' effects."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from projections.tables import UTCDateTime

metadata = MetaData()

# Where each consumer has got to in each (source, partition): the embedded
# notification log is one source with one partition; a Kafka topic partition is another.
checkpoints = Table(
    "consumer_checkpoints",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("source", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("last_offset", BigInteger, nullable=False),  # last offset consumed
    Column("last_position", BigInteger, nullable=False),  # highest global position consumed
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Events a consumer could not apply ("parked") and the later events of the same
# aggregate that wait behind them ("held"), so nothing is applied out of order.
dead_letters = Table(
    "consumer_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(64), nullable=False),
    Column("source", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("envelope", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime(), nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Index("ix_dead_letters_consumer_aggregate", "consumer", "aggregate_id", "position"),
)
