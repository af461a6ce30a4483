"""The waitlist process manager's own tables, kept in the event-store database beside its
checkpoint (rows derive from events, so a restart finds every timer and every entry)."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, Text

from projections.tables import UTCDateTime

metadata = MetaData()

# What the process still has to do: one row per (triggering event, kind of work).
waitlist_tasks = Table(
    "waitlist_tasks",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid5(triggering event id, kind)
    Column("kind", String(32), nullable=False),  # sweep, after_booking, expire_offer, drop
    Column("key", String(64), nullable=False),  # business, booking or entry id
    Column("causation_id", String(64), nullable=False),  # the triggering event's id
    Column("correlation_id", String(128), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # open, done, skipped, failed
    Column("attempts", Integer, nullable=False),
    Column("failures", Integer, nullable=False),  # tries that failed for an unknown reason
    Column("last_error", Text),
    Column("lease_until", UTCDateTime()),  # a runner is working on it until then
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_waitlist_tasks_due", "status", "due_at"),
    Index("ix_waitlist_tasks_key", "key", "kind"),
)

# The entries waiting without an offer: where a sweep must look.
waitlist_watch = Table(
    "waitlist_watch",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False, index=True),
    Column("service_id", String(36), nullable=False, index=True),
    Column("first_day", Date, nullable=False),  # the UTC day its held time starts
)
