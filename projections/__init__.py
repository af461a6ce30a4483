"""Projectors: plain code turning events into read-model rows."""

from __future__ import annotations

from projections.availability import AvailabilityProjector
from projections.base import DispatchingProjector
from projections.bookings import BookingsProjector
from projections.catalogue import ServiceCatalogueProjector
from projections.directory import BusinessDirectoryProjector
from projections.resources import ResourcesProjector
from projections.stats import BusinessStatsProjector
from projections.waitlist import WaitlistProjector


def all_projectors() -> list[DispatchingProjector]:
    """Every projector of the read side, in a stable order."""
    return [
        BusinessDirectoryProjector(),
        ServiceCatalogueProjector(),
        AvailabilityProjector(),
        BookingsProjector(),
        BusinessStatsProjector(),
        ResourcesProjector(),
        WaitlistProjector(),
    ]
