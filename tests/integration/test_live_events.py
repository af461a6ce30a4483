"""Live events over real HTTP: a dashboard's stream sees bookings as they happen.

Both APIs run in uvicorn on real ports (TestClient cannot stream), sharing one
container as `slotwise dev` does; the stream is read with httpx.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from infra.bootstrap import Container, bootstrap
from infra.follower import read_log
from infra.serving import bind
from read_api.app import create_app as create_read_app
from read_api.event_owners import EventOwners
from tests.conftest import FrozenClock, settings_for
from tests.e2e.conftest import MONDAY, OTHER_OWNER, OWNER, PROBLEM, Api, Salon, local
from write_api.app import create_app as create_write_app

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def container(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, clock: FrozenClock
) -> Iterator[Container]:
    settings = settings_for(backend, tmp_path, request).model_copy(
        update={"events_keepalive_seconds": 0.2}
    )
    built = bootstrap(settings, clock=clock)
    yield built
    built.close()


class Served:
    """An ASGI app on a free loopback port, in a thread of its own."""

    def __init__(self, app: Any) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: self.server.run(sockets=[self.sock]), daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "no server"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Stream:
    """An open event stream: its events as (id, type, envelope) and its comment lines."""

    response: httpx.Response
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lines = self.response.iter_lines()

    def until(self, done: Callable[[Stream], bool], seconds: float = 5.0) -> None:
        """Read until `done` says so; fail after `seconds`."""
        deadline = time.monotonic() + seconds
        fields: dict[str, str] = {}
        while not done(self):
            assert time.monotonic() < deadline, f"not seen in {seconds}s: {self.events}"
            line = next(self._lines)
            if line.startswith(":"):
                self.comments.append(line)
            elif line == "" and "data" in fields:
                self.events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
                fields = {}
            elif ":" in line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    def subjects(self) -> set[str]:
        return {envelope["subject"] for _, _, envelope in self.events}


@dataclass
class Live:
    api: Api
    read_url: str
    http: httpx.Client

    def stream(self, salon: Salon, sub: str = OWNER, **headers: str) -> Any:
        """The salon's stream, read once the read side has the salon (its consistency token)."""
        path = f"{self.read_url}/v1/businesses/{salon.business_id}/events"
        auth = {**self.api.auth(sub, "owner"), "X-Consistency-Token": salon.token}
        return self.http.stream(
            "GET", path, headers={**auth, "Accept": "text/event-stream", **headers}
        )


@pytest.fixture
def live(container: Container, token: Callable[[str, str], dict[str, str]]) -> Iterator[Live]:
    container.start_embedded_delivery()  # the follower wakes the broadcaster, as in `dev`
    read, write = Served(create_read_app(container)), Served(create_write_app(container))
    timeout = httpx.Timeout(10.0)
    with (
        httpx.Client(base_url=write.url, timeout=timeout) as writes,
        httpx.Client(base_url=read.url, timeout=timeout) as reads,
        httpx.Client(timeout=timeout) as streams,
    ):
        yield Live(Api(writes, reads, token, container), read.url, streams)  # type: ignore[arg-type]
    read.stop()
    write.stop()


def booked(booking_id: str) -> Callable[[Stream], bool]:
    return lambda s: any(
        e[1] == "slotwise.booking.placed" and e[2]["subject"] == booking_id for e in s.events
    )


def test_a_stream_sees_a_booking_made_through_the_write_api_within_a_second(live: Live) -> None:
    salon = live.api.open_salon()
    with live.stream(salon) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        booking = live.api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
        made = time.monotonic()
        stream.until(booked(booking["id"]), seconds=1.0)
        assert time.monotonic() - made < 1.0
    position, kind, envelope = stream.events[-1]
    assert (position, kind) == (envelope["position"], envelope["type"])
    assert envelope["specversion"] == "1.0" and envelope["data"]["business_id"] == salon.business_id


def test_idle_streams_get_a_keep_alive_comment(live: Live) -> None:
    salon = live.api.open_salon()
    with live.stream(salon) as response:
        stream = Stream(response)
        stream.until(lambda s: ": keep-alive" in s.comments, seconds=3.0)


def test_a_stream_resumes_after_a_reconnect_without_gaps(live: Live, container: Container) -> None:
    salon = live.api.open_salon()
    with live.stream(salon) as response:
        first = Stream(response)
        booking = live.api.book(salon.service_id, local(MONDAY, 9), expect=201).json()
        first.until(booked(booking["id"]))
    last_seen = first.events[-1][0]
    missed = [
        live.api.book(salon.service_id, local(MONDAY, h), expect=201).json() for h in (11, 12)
    ]
    live.api.act(missed[0]["id"], "cancel", "ann", "customer", {"reason": "ill"})
    with live.stream(salon, **{"Last-Event-ID": str(last_seen)}) as response:
        second = Stream(response)
        second.until(booked(missed[1]["id"]))
        later = live.api.book(salon.service_id, local(MONDAY, 14), expect=201).json()
        second.until(booked(later["id"]))
    got = [position for position, _, _ in second.events]
    assert got == sorted(got) and got[0] > last_seen
    assert got == business_positions(container, salon.business_id, last_seen, got[-1])


def business_positions(container: Container, business_id: str, after: int, upto: int) -> list[int]:
    """Every public event of the business in (after, upto], as the event store has them."""
    app = container.app
    deliveries = read_log(app.recorder, app.mapper, after, upto - after)
    owners = EventOwners(container.read_db.reader).owners([d.envelope for d in deliveries])
    return [e.position for b, e in owners if b == business_id and e.position <= upto]


def test_another_business_s_events_never_appear(live: Live) -> None:
    mine = live.api.open_salon()
    theirs = live.api.open_salon(owner=OTHER_OWNER, slug="elsewhere")
    with live.stream(mine) as response:
        stream = Stream(response)
        other = live.api.book(theirs.service_id, local(MONDAY, 10), expect=201).json()
        own = live.api.book(mine.service_id, local(MONDAY, 11), expect=201).json()
        stream.until(booked(own["id"]))
    assert stream.subjects() <= {mine.business_id, mine.service_id, own["id"]}
    assert not stream.subjects() & {theirs.business_id, theirs.service_id, other["id"]}


def test_only_the_owner_may_open_the_stream(live: Live) -> None:
    salon = live.api.open_salon()
    for sub, status in ((OTHER_OWNER, 403), ("ann", 403)):
        with live.stream(salon, sub=sub) as response:
            response.read()
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith(PROBLEM)
    with live.stream(salon, **{"Last-Event-ID": "soon"}) as response:
        response.read()
        assert response.status_code == 422 and "Last-Event-ID" in response.text
    path = f"{live.read_url}/v1/businesses/{salon.business_id}/events"
    assert live.http.get(path).status_code == 401
