"""The payment saga's own table, kept in the event-store database beside its checkpoint."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, Text

from projections.tables import UTCDateTime

metadata = MetaData()

# What the saga still has to do: one row per (triggering event, kind of work).
# Rows derive from events (the saga writes them with its checkpoint), so a
# restart finds every timer and every unfinished call to the provider.
payment_tasks = Table(
    "payment_tasks",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid5(triggering event id, kind)
    Column("kind", String(32), nullable=False),
    Column("booking_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("causation_id", String(64), nullable=False),  # the triggering event's id
    Column("correlation_id", String(128), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # open, done, skipped, failed
    Column("attempts", Integer, nullable=False),  # every try (it sets the backoff)
    Column("failures", Integer, nullable=False),  # tries that failed for an unknown reason
    Column("last_error", Text),
    Column("lease_until", UTCDateTime()),  # a runner is working on it until then
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_payment_tasks_due", "status", "due_at"),
    Index("ix_payment_tasks_booking", "booking_id"),
)
