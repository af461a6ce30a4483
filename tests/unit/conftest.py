from __future__ import annotations

import pytest

from commands.app import SlotWise

from .builders import IN_MEMORY, Clock, utc

# A Monday, well before every appointment the scenarios book.
NOW = utc(2027, 3, 1, 12)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(clock: Clock) -> SlotWise:
    """SlotWise on the in-memory store with the production transcoder."""
    return SlotWise(env=dict(IN_MEMORY), clock=clock)
