"""The read API: queries over the projections (application factory; nothing at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from infra.audit.trail import AuditTrail
from infra.bootstrap import Container, read_api_process
from infra.notify.feeds import NotificationLog
from infra.web.lifecycle import lifespan_for, new_app
from infra.webhooks.reads import WebhookReads
from read_api.event_owners import EventOwners
from read_api.live import LIVE, Broadcaster, Sources
from read_api.ports import ReadConfig, ReadPorts
from read_api.routes import (
    audit,
    audit_log,
    bookings,
    calendar,
    catalogue,
    directory,
    events,
    resources,
    waitlist,
    webhooks,
)
from read_api.routes.pages import mount_pages

log = logging.getLogger(__name__)


def ports_for(container: Container) -> ReadPorts:
    """The read API's ports, filled from what the role's composition root built."""
    settings, tables = container.settings, container.event_store_tables
    assert container.notify is not None and tables is not None  # every read role builds them
    config = ReadConfig(
        consistency_wait_seconds=settings.consistency_wait_seconds,
        events_keepalive_seconds=settings.events_keepalive_seconds,
        events_queue_size=settings.events_queue_size,
        events_poll_seconds=settings.events_poll_seconds,
        events_replay_page=settings.events_replay_page,
        write_api_url=settings.write_api_url,
        oidc_issuer=settings.oidc_issuer,
        oidc_client_id=settings.oidc_client_id,
        oidc_scope=settings.oidc_scope,
    )
    return ReadPorts(
        read_models=container.read_db,
        cache=container.cache,
        progress=container.progress,
        log=container.log_reader,
        delivered=container.on_delivered,
        clock=container.clock,
        personal_data=container.personal_data,
        audit=AuditTrail(container.app),
        feeds=container.notify.feeds,
        notifications=NotificationLog(container.notify.engine),
        webhooks=WebhookReads(tables),
        config=config,
    )


def live_sources(found: ReadPorts) -> Sources:
    """The log, the projections' progress and each event's business, for live events."""
    log_reader, progress = found.log, found.progress
    owners = EventOwners(found.read_models.reader)

    def read(after: int, limit: int) -> tuple[int, list[Any]]:
        last, envelopes = log_reader.read(after, limit)
        return last, owners.owners(envelopes)

    return Sources(
        reached=lambda: progress.reached(LIVE),
        head=lambda: int(log_reader.max_notification_id() or 0),
        read=read,
    )


def _with_live_events(inner: Callable[[FastAPI], Any]) -> Callable[[FastAPI], Any]:
    """The lifespan plus this process's broadcaster, woken as the read side advances."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            found: ReadPorts = app.state.ports
            config = found.config
            broadcaster = Broadcaster(
                live_sources(found),
                queue_size=config.events_queue_size,
                poll_seconds=config.events_poll_seconds,
                page=config.events_replay_page,
            )
            broadcaster.start()
            app.state.broadcaster = broadcaster
            forget = found.delivered(broadcaster.wake_threadsafe)
            try:
                yield
            finally:
                forget()
                await broadcaster.stop()

    return lifespan


def create_app(container: Container | None = None) -> FastAPI:
    """Build the read API; it delivers nothing itself (the role or `dev` runs the follower)."""
    app = new_app(
        "SlotWise read API",
        "Catalogue, availability, bookings, stats, audit reads and live events. Send "
        "X-Consistency-Token to read your own writes.",
        _with_live_events(lifespan_for(container, read_api_process, ports_for)),
        api="read",
    )
    for router in (
        calendar.router,  # before bookings: /v1/bookings/{id}.ics is not a booking id
        catalogue.router,
        directory.router,
        bookings.router,
        resources.router,
        waitlist.router,
        audit.router,
        audit_log.router,
        webhooks.router,
    ):
        app.include_router(router)
    app.include_router(events.router)
    mount_pages(app)
    return app
