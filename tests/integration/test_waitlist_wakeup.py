"""In a process with a follower, a write wakes the waitlist process manager once the follower's
pass is over: a freed seat is offered long before the worker's own poll would look."""

from __future__ import annotations

import time

import pytest

from commands.messages import CancelBooking, PlaceBooking
from commands.waitlist_messages import JoinWaitlist
from domain.waitlist import EntryStatus
from infra.bootstrap import Container
from tests.integration.test_scenarios import ANN, BOB, MONDAY_10, open_salon


@pytest.mark.settings(waitlist_poll_seconds=60.0)
def test_a_cancellation_wakes_the_waitlist_through_the_followers_pass(
    container: Container,
) -> None:
    _, service = open_salon(container)  # one seat
    app = container.app
    booking = app.handle(PlaceBooking(ANN, service.id, MONDAY_10)).id
    entry = app.handle(JoinWaitlist(BOB, service.id, MONDAY_10)).id
    container.start_embedded_delivery()
    assert container.follower is not None and container.waitlist_worker is not None
    time.sleep(0.5)  # both have looked once at start; the next look is a wake-up or a minute

    app.handle(CancelBooking(ANN, booking, "ill"))
    container.nudge()  # what the write API does after every command
    deadline = time.monotonic() + 10
    while app.repository.get(entry).status is not EntryStatus.OFFERED:
        assert time.monotonic() < deadline, "the freed seat was not offered"
        time.sleep(0.02)
