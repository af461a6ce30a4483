from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from commands.app import SlotWise
from domain.cause import Cause, caused_by
from tests.sealing import with_keys

from .builders import IN_MEMORY, OWNER, RIVAL, Clock, open_salon, utc

# A Monday, well before every appointment the scenarios book.
NOW = utc(2027, 3, 1, 12)


@pytest.fixture(autouse=True)
def acting_as_a_unit_test() -> Iterator[Cause]:
    """Aggregates changed directly by a test record this cause (handlers set their own)."""
    with caused_by(Cause("unit-test", "system", "unit-test", "unit-test")) as cause:
        yield cause


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(clock: Clock) -> SlotWise:
    """SlotWise on the in-memory store with the production transcoder and aggregate cache."""
    return with_keys(SlotWise(env=dict(IN_MEMORY), clock=clock, aggregate_cache_size=1000))


@pytest.fixture
def salon(app: SlotWise) -> tuple[UUID, UUID]:
    """A New York salon open 09:00-17:00 on weekdays with one 60-minute service, and a rival."""
    open_salon(app, RIVAL, slug="rival")
    return open_salon(app, OWNER)
