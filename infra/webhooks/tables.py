"""The webhook tables, kept in the event-store database beside the dispatcher's checkpoint."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from projections.tables import UTCDateTime

metadata = MetaData()

# Secrets in plain text, never in an event: events name them by id.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("secret", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The dispatcher's memory of each webhook (and what the listing shows).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("disabled_reason", Text, nullable=False),
    Column("secrets", JSON, nullable=False),  # [[secret id, valid until or null], ...]
    Column("created_at", UTCDateTime()),
)

# Which business a booking's or service's events belong to (later events omit it).
webhook_event_owners = Table(
    "webhook_event_owners",
    metadata,
    Column("subject", String(36), primary_key=True),
    Column("business_id", String(36), nullable=False),
)

# One row per (webhook, event, replay): worked per webhook in (batch_position, position) order.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("batch_position", BigInteger, nullable=False),  # the position that queued it
    Column("body", LargeBinary, nullable=False),  # the CloudEvent as sent
    Column("status", String(16), nullable=False),  # pending, delivered, gone, dead, dropped
    Column("attempts", Integer, nullable=False),
    Column("first_attempt_at", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_webhook_deliveries_queue", "webhook_id", "status", "batch_position", "position"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False),
    Column("webhook_id", String(36), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
)
