"""The notifier's tables, in the event-store database beside its checkpoint."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from projections.tables import UTCDateTime

metadata = MetaData()

# One row per message to send once: (booking, kind, version, channel, audience).
# Written with the notifier's checkpoint; reminders are rows due in the future.
notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("booking_id", String(64), nullable=False),
    Column("business_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("cause", String(64), nullable=False),  # the event that planned it
    Column("due_at", UTCDateTime(), nullable=False),
    # planned, sending, sent, skipped, failed, unconfirmed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("message_id", String(200)),
    Column("last_error", Text),
    Column("lease_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_notify_outbox_due", "status", "due_at"),
    Index("ix_notify_outbox_booking", "booking_id"),
    Index("ix_notify_outbox_business", "business_id", "seq"),
)

# The live bookings the notifier planned reminders for (placed or moved, not yet
# cancelled or expired), so new reminder offsets reach them. Written with its
# checkpoint, like the outbox; rows of bookings that began are dropped when the
# business's settings change next.
notify_bookings = Table(
    "notify_bookings",
    metadata,
    Column("booking_id", String(64), primary_key=True),
    Column("business_id", String(64), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),  # the version its reminders are of
    Index("ix_notify_bookings_business", "business_id", "start"),
)

# A business's calendar feed: only the key's hash is kept.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
