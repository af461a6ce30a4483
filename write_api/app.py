"""The write API: commands over HTTP (application factory; nothing happens at import)."""

from __future__ import annotations

from fastapi import FastAPI

from infra.bootstrap import Container, build_write_api
from infra.web.lifecycle import lifespan_for, new_app
from write_api.answers import BookingsAffectedProblem
from write_api.ports import WritePorts
from write_api.routes import (
    bookings,
    businesses,
    customers,
    notifications,
    payments,
    resources,
    services,
    waitlist,
    webhooks,
)


def ports_for(container: Container) -> WritePorts:
    """The write API's ports, filled from what the role's composition root built."""
    assert container.notify is not None  # the write-api role always builds it
    return WritePorts(
        bus=container.app,
        owners=container.app,
        log=container.app.recorder,
        idempotency=container.idempotency,
        follow_ups=container.payments.follow_ups,
        delivery=container,
        clock=container.clock,
        payments=container.payments,
        feeds=container.notify.feeds,
        personal_data=container.shown_personal_data,
        read_api_url=container.settings.read_api_url,
    )


def create_app(container: Container | None = None) -> FastAPI:
    """Build the write API over `container`'s adapters; without one it builds the write-api
    role's own (`ports_for` says which adapter fills which port)."""
    app = new_app(
        "SlotWise write API",
        "Commands for businesses, services and bookings. Errors are application/problem+json.",
        lifespan_for(container, build_write_api, ports_for),
        api="write",
        models=[BookingsAffectedProblem],
    )
    # Routes are matched in order: bookings, the commands sent most, are tried first.
    routers = (
        bookings,
        businesses,
        services,
        resources,
        payments,
        customers,
        notifications,
        waitlist,
        webhooks,
    )
    for module in routers:
        app.include_router(module.router)
    return app
