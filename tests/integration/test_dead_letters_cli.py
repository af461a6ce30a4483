"""`slotwise projections dead-letters` run as a user runs it, against a real SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.messages import CancelBooking, PlaceBooking
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET, FrozenClock
from tests.integration.test_consumer_runtime import (  # noqa: F401 (a fixture)
    POISONED,
    deliver_until_quiet,
    sabotaged,
)
from tests.integration.test_scenarios import ANN, MONDAY_10, open_salon

pytestmark = pytest.mark.subprocess


def slotwise(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLOTWISE_DATA_DIR": str(data_dir), "SLOTWISE_JWT_SECRET": JWT_SECRET}
    command = [sys.executable, "-m", "infra.cli", "projections", "dead-letters", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def parked_store(tmp_path: Path, clock: FrozenClock, sabotaged: None) -> Path:  # noqa: F811
    """A store whose bookings projector parked a booking's two events."""
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        consumer_max_attempts=2,
        consumer_backoff_seconds=0.01,
    )
    container = bootstrap(settings, clock=clock)
    try:
        _, service = open_salon(container)
        booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
        POISONED.add(str(booking.id))
        container.app.cancel_booking(CancelBooking(ANN, booking.id, "no"))
        deliver_until_quiet(container)
        assert container.dead_letters.count() == 2
    finally:
        POISONED.clear()
        container.close()
    return tmp_path


def test_lists_retries_in_order_and_empties_the_dead_letters(parked_store: Path) -> None:
    listed = slotwise(parked_store, "list")
    assert listed.returncode == 0, listed.stderr
    head, held = listed.stdout.splitlines()
    assert "\tbookings\tparked\t" in head and "slotwise.booking.placed" in head
    assert "\tbookings\theld\t" in held and "slotwise.booking.cancelled" in held

    refused = slotwise(parked_store, "retry", held.split("\t")[0])
    assert refused.returncode == 1 and "retry that one first" in refused.stderr

    retried = slotwise(parked_store, "retry", "--all")
    assert retried.returncode == 0, retried.stderr
    assert "applied 2; still parked 0" in retried.stderr
    assert "no dead letters" in slotwise(parked_store, "list").stderr


def test_names_a_dead_letter_that_does_not_exist(parked_store: Path) -> None:
    answer = slotwise(parked_store, "discard", "999")
    assert answer.returncode == 1
    assert "no dead letter with id 999" in answer.stderr
