"""Read-model tables (SQLAlchemy Core); disposable, rebuilt from the event log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

businesses = Table(
    "businesses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(200), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(64), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("weekly", JSON, nullable=False),
    Column("closures", JSON, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A table of its own (not a column of `businesses`): read databases made before
# addresses existed get it on start, no rebuild needed.
business_addresses = Table(
    "business_addresses",
    metadata,
    Column("id", String(36), primary_key=True),  # the business
    Column("address", Text),
)

services = Table(
    "services",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("price_amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    Column("slot_interval_minutes", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Feeds the slot engine on the read side: one row per booking holding time.
allocations = Table(
    "allocations",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False),
    Column("service_id", String(36), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("occupied_start", UTCDateTime(), nullable=False),
    Column("occupied_end", UTCDateTime(), nullable=False),
    Index("ix_allocations_business_time", "business_id", "occupied_start"),
)

# Resources held by each live booking of a service that needs them.
resource_holds = Table(
    "resource_holds",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("resource_ids", JSON, nullable=False),
    Column("business_id", String(36), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("occupied_start", UTCDateTime(), nullable=False),
    Column("occupied_end", UTCDateTime(), nullable=False),
    Index("ix_resource_holds_business_time", "business_id", "occupied_start"),
)

# Entries waiting for a full start without an offer: the line the read-side slot engine lets
# take freed seats first, as the write side does (domain.line).
waitlist_line = Table(
    "waitlist_line",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False),
    Column("service_id", String(36), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("occupied_start", UTCDateTime(), nullable=False),
    Column("occupied_end", UTCDateTime(), nullable=False),
    Column("resource_id", String(36)),
    Column("seq", Integer, nullable=False),
    Index("ix_waitlist_line_business_time", "business_id", "occupied_start"),
)

# Waitlist entries as their customers see them (GET /v1/me/waitlist).
waitlist_entries = Table(
    "waitlist_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False, index=True),
    Column("service_id", String(36), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("resource_id", String(36)),
    Column("status", String(16), nullable=False),
    Column("offer_expires_at", UTCDateTime()),
    Column("resources", JSON, nullable=False),  # what the offer holds, while it lasts
    Column("booking_id", String(36)),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_waitlist_entries_customer", "customer_id", "start", "id"),
)

# A business's bookable resources with their own hours (null: the business's) and time off.
resources = Table(
    "resources",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(100), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("weekly", JSON),
    Column("time_off", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

# What a service needs of the business's resources (no row: the capacity pool).
service_requirements = Table(
    "service_requirements",
    metadata,
    Column("service_id", String(36), primary_key=True),
    Column("requires", JSON, nullable=False),
    Column("also_requires", JSON, nullable=False),
)

# The resources a booking holds (as they were named when placed) and its series.
booking_resources = Table(
    "booking_resources",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("resources", JSON, nullable=False),
    Column("series_id", String(36), index=True),
)

# A fresh random stamp for each change of a business's allocations, committed
# with them: part of the read cache's key, so no cached answer can outlive the
# state it was computed from (read_api/cache.py). Random, not a counter, so it
# never repeats, even after a rebuild applied the events in another order.
availability_stamps = Table(
    "availability_stamps",
    metadata,
    Column("business_id", String(36), primary_key=True),
    Column("stamp", String(32), nullable=False),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False),
    Column("service_id", String(36), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("local_date", String(10), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("price_amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("notes", Text, nullable=False),
    Column("cancel_reason", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_bookings_business_start", "business_id", "start"),
    Index("ix_bookings_customer_start", "customer_id", "start"),
)

# A booking's sealed contact and notes (API.md "personal data"): ciphertext only, opened by
# the read API for those who may see it; an erased key leaves these rows unreadable as
# they are, so an erasure changes no read-model row. Bookings placed before sealing keep
# their plain notes in `bookings.notes`.
booking_personal_data = Table(
    "booking_personal_data",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("subject", String(200), nullable=False, index=True),
    Column("key_version", Integer, nullable=False),
    Column("ciphertext", Text, nullable=False),  # base64, as in the envelope
)

# A cancellation's reason, sealed like notes (its own table: a booking is cancelled once).
booking_cancel_reasons = Table(
    "booking_cancel_reasons",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("subject", String(200), nullable=False, index=True),
    Column("key_version", Integer, nullable=False),
    Column("ciphertext", Text, nullable=False),  # base64, as in the envelope
)

business_daily_stats = Table(
    "business_daily_stats",
    metadata,
    Column("business_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("bookings", Integer, nullable=False, default=0),
    Column("cancellations", Integer, nullable=False, default=0),
    Column("no_shows", Integer, nullable=False, default=0),
)

business_daily_revenue = Table(
    "business_daily_revenue",
    metadata,
    Column("business_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("amount", String(32), nullable=False),
)

# The stats projector's memory of each booking, so moves and cancellations
# subtract from the right day; also the source of utilization.
stats_booking_facts = Table(
    "stats_booking_facts",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False),
    Column("service_id", String(36), nullable=False),
    Column("day", String(10), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_stats_facts_business_day", "business_id", "day"),
)

# A booking's online payment (bookings paid at the venue have no row); kept by
# the bookings projector beside `bookings`, so one checkpoint covers both.
booking_payments = Table(
    "booking_payments",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("payment_intent_id", String(255)),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(24), nullable=False),
    Column("received", String(32), nullable=False),
    Column("refunded", String(32), nullable=False),
    Column("refund_pending", String(32), nullable=False),
    Column("hold_expires_at", UTCDateTime(), nullable=False),
    Column("note", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_booking_payments_status", "status"),
)

# Money moved online per business, day (of the appointment) and currency.
business_daily_payments = Table(
    "business_daily_payments",
    metadata,
    Column("business_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("captured", String(32), nullable=False),
    Column("refunded", String(32), nullable=False),
)

# The stats projector's memory of each booking's online money, so a reschedule
# moves it to the right day.
stats_booking_payments = Table(
    "stats_booking_payments",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("captured", String(32), nullable=False),
    Column("refunded", String(32), nullable=False),
)
