"""Read-your-writes without needless waiting: one commit per follower pass, reads woken by it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event

from infra.bootstrap import Container
from infra.follower import Follower, catch_up
from tests.integration.test_scenarios import open_salon


@pytest.fixture
def backend() -> str:
    return "sqlite"


def count_commits(container: Container) -> list[int]:
    commits = [0]

    def committed(conn: Any) -> None:
        commits[0] += 1

    event.listen(container.runtime.engine, "commit", committed)
    return commits


def test_a_follower_pass_commits_once_for_every_consumer(container: Container) -> None:
    open_salon(container)
    commits = count_commits(container)
    catch_up(container.app.recorder, container.app.mapper, container.runtime)
    assert len(container.runtime.consumers) >= 5
    assert commits[0] == 1  # was one per consumer: a read waited for the last of them
    reached = container.reached(tuple(c.name for c in container.runtime.consumers))
    assert reached == container.app.recorder.max_notification_id()


def test_a_waiter_hears_of_the_next_pass_without_a_poll(container: Container) -> None:
    follower = Follower(
        container.app.recorder, container.app.mapper, container.runtime, poll_seconds=30.0
    )
    follower.start()
    try:
        time.sleep(0.1)  # the first pass, at start, is over
        open_salon(container)
        heard = threading.Event()
        follower.after_next_pass(heard.set)
        started = time.monotonic()
        follower.nudge()
        assert heard.wait(10), "the follower never told its waiter that a pass ended"
        assert time.monotonic() - started < 5  # woken by the nudge, not the 30 s poll
        wanted = container.app.recorder.max_notification_id() or 0
        assert container.reached(("bookings", "business_directory")) == wanted
    finally:
        follower.stop()
