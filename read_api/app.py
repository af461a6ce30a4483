"""The read API: queries over the projections (application factory; nothing at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from infra.bootstrap import Container, read_api_process
from infra.follower import read_log
from infra.wakeups import PostgresWakeups
from infra.web.lifecycle import lifespan_for, new_app
from read_api.event_owners import EventOwners
from read_api.live import LIVE, Broadcaster, Sources
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


def live_sources(container: Container) -> Sources:
    """The log, the projections' progress and each event's business, for live events."""
    app, owners = container.app, EventOwners(container.read_db.reader)

    def read(after: int, limit: int) -> tuple[int, list[Any]]:
        deliveries = read_log(app.recorder, app.mapper, after, limit)
        last = deliveries[-1].offset if deliveries else after
        return last, owners.owners([d.envelope for d in deliveries])

    return Sources(
        reached=lambda: container.reached(LIVE),
        head=lambda: int(app.recorder.max_notification_id() or 0),
        read=read,
    )


def _with_live_events(inner: Callable[[FastAPI], Any]) -> Callable[[FastAPI], Any]:
    """The lifespan plus this process's broadcaster, woken by the follower or by NOTIFY."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            container: Container = app.state.container
            settings = container.settings
            broadcaster = Broadcaster(
                live_sources(container),
                queue_size=settings.events_queue_size,
                poll_seconds=settings.events_poll_seconds,
                page=settings.events_replay_page,
            )
            broadcaster.start()
            app.state.broadcaster = broadcaster
            follower, wakeups = container.follower, None
            if follower is not None:
                follower.listeners.append(broadcaster.wake_threadsafe)
            else:
                wakeups = PostgresWakeups.for_recorder(container.app.recorder)
                if wakeups is not None:
                    wakeups.start(broadcaster.wake_threadsafe)
            try:
                yield
            finally:
                if follower is not None and broadcaster.wake_threadsafe in follower.listeners:
                    follower.listeners.remove(broadcaster.wake_threadsafe)
                if wakeups is not None:
                    wakeups.stop()
                await broadcaster.stop()

    return lifespan


def create_app(container: Container | None = None) -> FastAPI:
    """Build the read API; it delivers nothing itself (the role or `dev` runs the follower)."""
    app = new_app(
        "SlotWise read API",
        "Catalogue, availability, bookings, stats, audit reads and live events. Send "
        "X-Consistency-Token to read your own writes.",
        _with_live_events(lifespan_for(container, read_api_process)),
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
