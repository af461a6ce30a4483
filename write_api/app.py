"""The write API: commands over HTTP (application factory; nothing happens at import)."""

from __future__ import annotations

from fastapi import FastAPI

from infra.bootstrap import Container
from infra.web.lifecycle import lifespan_for, new_app
from write_api.answers import BookingsAffectedProblem
from write_api.routes import (
    bookings,
    businesses,
    customers,
    notifications,
    payments,
    services,
    webhooks,
)


def create_app(container: Container | None = None) -> FastAPI:
    """Build the write API; without a container it bootstraps one from the environment."""
    app = new_app(
        "SlotWise write API",
        "Commands for businesses, services and bookings. Errors are application/problem+json.",
        lifespan_for(container),
        api="write",
        models=[BookingsAffectedProblem],
    )
    routers = (businesses, services, bookings, payments, customers, notifications, webhooks)
    for module in routers:
        app.include_router(module.router)
    return app
