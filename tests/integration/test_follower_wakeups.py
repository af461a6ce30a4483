"""On PostgreSQL a write in another process wakes the follower: no waiting for the next poll.

The follower here polls only every 5 seconds; a NOTIFY from the writing
process's insert must make the read side reflect the write well within one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET

pytestmark = [pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 5.0
WRITER = """
import sys, time
from commands.app import SlotWise
from commands.messages import RegisterBusiness
from domain.actor import Actor, Role
from infra.settings import Settings
settings = Settings(event_store=sys.argv[1], read_db=sys.argv[1], jwt_secret=sys.argv[2])
app = SlotWise(env=settings.eventsourcing_env())
print("ready", flush=True)
for line in sys.stdin:
    slug = line.strip()
    done = app.handle(RegisterBusiness(Actor("owner-1", Role.OWNER), "Salon", slug, "UTC"))
    print(done.position, time.time(), flush=True)
"""


@pytest.fixture
def slow_poll(postgres_dsn: str, postgres_schema: str) -> Iterator[tuple[Container, str]]:
    url = f"{postgres_dsn}?schema={postgres_schema}&pool_size=2&max_overflow=1"
    settings = Settings(
        event_store=url, read_db=url, jwt_secret=JWT_SECRET, follower_poll_seconds=POLL_SECONDS
    )
    container = bootstrap(settings)
    yield container, url
    container.close()


def lag_of_one_write(container: Container, writer: subprocess.Popen[str], slug: str) -> float:
    """Seconds from the other process's write to every projector reflecting it."""
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write(slug + "\n")
    writer.stdin.flush()
    position, written_at = writer.stdout.readline().split()
    consumers = tuple(c.name for c in container.runtime.consumers)
    deadline = time.time() + 2 * POLL_SECONDS
    while container.reached(consumers) < int(position):
        assert time.time() < deadline, "the follower did not see the write"
        time.sleep(0.005)
    return time.time() - float(written_at)


def test_a_write_in_another_process_is_projected_well_within_a_poll_interval(
    slow_poll: tuple[Container, str],
) -> None:
    container, url = slow_poll
    follower = container.start_follower()
    assert follower.wakeups is not None and follower.wakeups.listening.wait(10)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, JWT_SECRET],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        lags = [lag_of_one_write(container, writer, f"salon-{n}") for n in range(5)]
        assert max(lags) < 1.0, lags

        # The database drops the listening connection: it comes back and wakes again.
        with psycopg.connect(container.settings.event_store.split("?")[0]) as admin:
            killed = follower.wakeups.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", (killed,))
        deadline = time.time() + 10
        while follower.wakeups.backend_pid == killed and time.time() < deadline:
            time.sleep(0.05)
        assert follower.wakeups.backend_pid != killed
        assert follower.wakeups.listening.wait(10)
        assert lag_of_one_write(container, writer, "salon-after") < 1.0
    finally:
        writer.kill()
        writer.wait()
