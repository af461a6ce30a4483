"""The write API: commands over HTTP (application factory; nothing happens at import)."""

from __future__ import annotations

from fastapi import FastAPI

from infra.bootstrap import Container, build_write_api
from infra.web.lifecycle import lifespan_for, new_app
from write_api.answers import BookingsAffectedProblem
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


def create_app(container: Container | None = None) -> FastAPI:
    """Build the write API; without a container it builds the write-api role's own."""
    app = new_app(
        "SlotWise write API",
        "Commands for businesses, services and bookings. Errors are application/problem+json.",
        lifespan_for(container, build_write_api),
        api="write",
        models=[BookingsAffectedProblem],
    )
    routers = (
        businesses,
        services,
        resources,
        bookings,
        payments,
        customers,
        notifications,
        waitlist,
        webhooks,
    )
    for module in routers:
        app.include_router(module.router)
    return app
