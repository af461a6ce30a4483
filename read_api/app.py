"""The read API: queries over the projections (application factory; nothing at import)."""

from __future__ import annotations

from fastapi import FastAPI

from infra.bootstrap import Container
from infra.web.lifecycle import lifespan_for, new_app
from read_api.routes import audit, audit_log, bookings, catalogue, directory


def _start_delivery(container: Container) -> None:
    # Without Kafka the read side follows the event store itself, and runs the payment saga.
    if not container.settings.kafka:
        container.start_follower()
        if container.payments.configured:
            container.start_payment_worker()


def create_app(container: Container | None = None, *, follow: bool = True) -> FastAPI:
    """Build the read API; `follow` runs the in-process projector follower (embedded)."""
    app = new_app(
        "SlotWise read API",
        "Catalogue, availability, bookings, stats and audit reads. Send X-Consistency-Token "
        "to read your own writes.",
        lifespan_for(container, _start_delivery if follow else None),
        api="read",
    )
    for router in (
        catalogue.router,
        directory.router,
        bookings.router,
        audit.router,
        audit_log.router,
    ):
        app.include_router(router)
    return app
