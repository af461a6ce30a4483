"""End-to-end helpers: one `Api` object drives the write and read TestClients over HTTP.

The clock fixture says Monday 2027-03-01 12:00Z; the salon opens Mon-Fri 09:00-17:00
Europe/Berlin (UTC+1 in March 2027, before the DST change on the 28th).
"""

from __future__ import annotations

import time as clock_time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.follower import catch_up
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import (
    CLOCK_START,
    JWT_SECRET,
    SMALL_POOLS,
    FrozenClock,
    as_marked,
    auth_headers,
    settings_for,
)
from tests.kafka_broker import Broker
from tests.production_stack import InProcessStack, Prepared, WarmStacks
from write_api.app import create_app as create_write_app

HERE = Path(__file__).parent
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2027, 3, 8)
TUESDAY = date(2027, 3, 9)
OWNER, OTHER_OWNER = "owner-a", "owner-b"
ANN, BOB = "ann", "bob"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
PROBLEM = "application/problem+json"


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def assert_problem(response: httpx.Response, status: int, type_suffix: str = "") -> dict[str, Any]:
    """The response is an RFC 9457 problem with that status (and a type ending so)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["type"].endswith(type_suffix), body["type"]
    return body


@dataclass
class Salon:
    business_id: str
    service_id: str
    token: str  # the consistency token of the last setup write


class Api:
    """Thin verbs over the two apps, so the tests read like the journey they check."""

    def __init__(
        self,
        write: TestClient,
        read: TestClient,
        token: Callable[[str, str], dict[str, str]],
        container: Container,
        stack: InProcessStack | None = None,
    ) -> None:
        self.write, self.read, self.auth, self.container = write, read, token, container
        self.stack = stack

    def stop_delivery(self) -> None:
        """The read side stops receiving events (the follower, or the projector workers)."""
        if self.stack is not None:
            self.stack.stop_workers()
            return
        assert self.container.follower is not None
        self.container.follower.stop()

    def settle(self) -> None:
        """Bring every projector up to the end of the log (its workers, on Kafka)."""
        if self.stack is None:
            self.container.catch_up()
            return
        consumers = tuple(c.name for c in self.container.runtime.consumers)
        deadline = clock_time.monotonic() + 30
        while self.container.reached(consumers) < self.events():
            assert clock_time.monotonic() < deadline, "the projector workers did not catch up"
            clock_time.sleep(0.02)

    def deliver_only(self, consumers: tuple[str, ...]) -> None:
        """Bring just these projectors up to the end of the log."""
        if self.stack is None:
            container = self.container
            catch_up(
                container.app.recorder, container.app.mapper, container.runtime.only(consumers)
            )
            return
        self.stack.start_worker(consumers)
        deadline = clock_time.monotonic() + 30
        while self.container.reached(consumers) < self.events():
            assert clock_time.monotonic() < deadline, "the projector worker did not catch up"
            clock_time.sleep(0.02)

    def events(self) -> int:
        """How far the event store's notification log goes."""
        return int(self.container.app.recorder.max_notification_id() or 0)

    def command(
        self,
        method: str,
        path: str,
        sub: str,
        role: str,
        body: Any = None,
        expect: int | None = None,
        **headers: str,
    ) -> httpx.Response:
        response = self.write.request(
            method, path, json=body, headers={**self.auth(sub, role), **headers}
        )
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def query(
        self,
        path: str,
        sub: str | None = None,
        role: str = "customer",
        consistency: str | None = None,
        params: dict[str, Any] | None = None,
        expect: int | None = 200,
    ) -> httpx.Response:
        headers = self.auth(sub, role) if sub else {}
        if consistency is not None:
            headers["X-Consistency-Token"] = consistency
        response = self.read.get(path, params=params, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def open_salon(
        self,
        owner: str = OWNER,
        slug: str = "salon",
        timezone: str = "Europe/Berlin",
        price: str = "30.00",
        currency: str = "EUR",
        policy: dict[str, Any] | None = None,
    ) -> Salon:
        business = self.command(
            "POST",
            "/v1/businesses",
            owner,
            "owner",
            {"name": "Salon", "slug": slug, "timezone": timezone},
            expect=201,
        ).json()
        business_id = business["id"]
        weekly = [{"day": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS]
        self.command(
            "PUT", f"/v1/businesses/{business_id}/hours", owner, "owner", {"weekly": weekly}, 200
        )
        if policy is not None:
            path = f"/v1/businesses/{business_id}/policy"
            self.command("PATCH", path, owner, "owner", policy, 200)
        service = self.add_service(business_id, owner, price=price, currency=currency)
        return Salon(business_id, service["id"], service["consistency_token"])

    def add_service(
        self, business_id: str, owner: str, price: str = "30.00", currency: str = "EUR"
    ) -> dict[str, Any]:
        body = {
            "name": f"Cut ({currency})",
            "duration_minutes": 60,
            "price": {"amount": price, "currency": currency},
        }
        path = f"/v1/businesses/{business_id}/services"
        result: dict[str, Any] = self.command("POST", path, owner, "owner", body, 201).json()
        return result

    def book(
        self,
        service_id: str,
        start: datetime,
        customer: str = ANN,
        expect: int | None = None,
        **headers: str,
    ) -> httpx.Response:
        body = {"service_id": service_id, "start": start.isoformat()}
        return self.command("POST", "/v1/bookings", customer, "customer", body, expect, **headers)

    def act(self, booking_id: str, action: str, sub: str, role: str, body: Any = None) -> Any:
        return self.command("POST", f"/v1/bookings/{booking_id}/{action}", sub, role, body)

    def starts(self, service_id: str, day: date, consistency: str | None = None) -> list[datetime]:
        """The offered start instants of `service_id` on the local `day` (public read)."""
        params = {"from": day.isoformat(), "to": day.isoformat()}
        body = self.query(
            f"/v1/services/{service_id}/availability", consistency=consistency, params=params
        ).json()
        assert body["service_id"] == service_id
        return [datetime.fromisoformat(s["start"]) for s in body["slots"]]


@pytest.fixture(params=["sqlite", "postgres", "kafka"])
def backend(request: pytest.FixtureRequest) -> str:
    """The embedded stacks, and the production one (Kafka, two workers, Redis)."""
    return str(request.param)


# The Kafka subset. Every end-to-end test function runs on SQLite and PostgreSQL with all
# its cases, and on the Kafka stack once, with its first case: the cases of a table (62 bad
# commands, 18 bad queries, ...) differ in what the API refuses before any event is written,
# and the API, the event store (PostgreSQL) and the checks are the ones the PostgreSQL run
# already covers; what Kafka adds (relay, workers, Redis, read-your-writes through the
# workers, the contract of every message published) each function still exercises. The
# files below run every case on Kafka too, because each case travels through the workers.
# A table of refusals (marked `shared_stack`) does not run on Kafka at all: what it checks
# is refused before any event is written, so nothing of it ever reaches the relay.
KAFKA_EVERY_CASE = {"test_input_that_must_not_stall_the_read_side.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each end-to-end function's first Kafka case (all of them in KAFKA_EVERY_CASE,
    none of a table of refusals)."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_kafka = callspec is not None and callspec.params.get("backend") == "kafka"
        if on_kafka and item.get_closest_marker("shared_stack") is not None:
            dropped.append(item)
            continue
        if not on_kafka or item.path.parent != HERE or item.path.name in KAFKA_EVERY_CASE:
            kept.append(item)
            continue
        function = (item.path.name, getattr(item, "originalname", item.name))
        (dropped if function in seen else kept).append(item)
        seen.add(function)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="package")
def warm_stacks(postgres_dsn: str, kafka_broker: Broker) -> Iterator[WarmStacks]:
    stacks = WarmStacks(postgres_dsn, kafka_broker.servers, JWT_SECRET)
    yield stacks
    stacks.close()


@pytest.fixture
def prepared(backend: str, request: pytest.FixtureRequest) -> Iterator[Prepared | None]:
    """On the production stack: PostgreSQL schemas, the relay and two workers, running."""
    if backend != "kafka":
        yield None
        return
    stacks = request.getfixturevalue("warm_stacks")
    ready = stacks.take()
    yield ready
    stacks.retire(ready)  # every message it published is checked against the contract


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, prepared: Prepared | None
) -> Settings:
    if prepared is not None:
        return as_marked(prepared.settings, request)
    return as_marked(settings_for(backend, tmp_path, request), request)


@pytest.fixture
def stack(prepared: Prepared | None, container: Container) -> InProcessStack | None:
    return prepared.stack if prepared is not None else None


class SharedStacks:
    """A module's embedded stacks, one per store, built at its first test and kept for all.

    For tables of refusals (`@pytest.mark.shared_stack`): each case sends what the API must
    refuse and checks the log did not grow, so the cases need not each pay for a new stack
    (a schema and its tables on PostgreSQL, the app's start-up): they run one after the
    other against one salon, and a case that wrote would still fail its own check. The Kafka
    stack is never shared: it runs one case per function anyway.
    """

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.apis: dict[str, Api] = {}
        self.memo: dict[str, dict[str, Any]] = {}
        self.closing: list[Callable[[], object]] = []

    def api(self, backend: str, request: pytest.FixtureRequest) -> Api:
        if backend not in self.apis:
            self.apis[backend] = self._build(backend, request)
            self.memo[backend] = {}
        return self.apis[backend]

    def _build(self, backend: str, request: pytest.FixtureRequest) -> Api:
        if request.node.get_closest_marker("settings") is not None:
            raise pytest.UsageError("a shared stack takes no settings mark")
        own = _module_settings(request)
        if own is not None:
            settings = own
        elif backend == "sqlite":
            settings = Settings(data_dir=self.tmp / "data", jwt_secret=JWT_SECRET)
        else:
            dsn = request.getfixturevalue("postgres_dsn")
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            self.closing.append(lambda: _drop_schema(dsn, schema))
            url = f"{dsn}?schema={schema}&{SMALL_POOLS}"
            settings = Settings(event_store=url, read_db=url, jwt_secret=JWT_SECRET)
        container = bootstrap(settings, clock=FrozenClock(CLOCK_START))
        self.closing.append(container.close)
        write = TestClient(create_write_app(container), raise_server_exceptions=False)
        write.__enter__()
        self.closing.append(lambda: write.__exit__(None, None, None))
        container.start_embedded_delivery()
        read = TestClient(create_read_app(container), raise_server_exceptions=False)
        read.__enter__()
        self.closing.append(lambda: read.__exit__(None, None, None))
        return Api(write, read, auth_headers, container)

    def close(self) -> None:
        for close in reversed(self.closing):
            close()


def _module_settings(request: pytest.FixtureRequest) -> Settings | None:
    """The module's `shared_settings` fixture (module-scoped), if it has one."""
    try:
        settings: Settings = request.getfixturevalue("shared_settings")
    except pytest.FixtureLookupError:
        return None
    return settings


def _drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def shared_stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStacks]:
    stacks = SharedStacks(tmp_path_factory.mktemp("shared"))
    yield stacks
    stacks.close()


def _shared(request: pytest.FixtureRequest, backend: str) -> SharedStacks | None:
    if backend == "kafka" or request.node.get_closest_marker("shared_stack") is None:
        return None
    stacks: SharedStacks = request.getfixturevalue("shared_stacks")
    return stacks


@pytest.fixture
def api(backend: str, request: pytest.FixtureRequest) -> Api:
    shared = _shared(request, backend)
    if shared is not None:
        return shared.api(backend, request)
    return Api(
        request.getfixturevalue("write_client"),
        request.getfixturevalue("read_client"),
        request.getfixturevalue("token"),
        request.getfixturevalue("container"),
        request.getfixturevalue("stack"),
    )


@pytest.fixture
def salon(api: Api, backend: str, request: pytest.FixtureRequest) -> Salon:
    shared = _shared(request, backend)
    if shared is None:
        return api.open_salon()
    memo = shared.memo[backend]
    if "salon" not in memo:
        memo["salon"] = api.open_salon()
    found: Salon = memo["salon"]
    return found


def assert_names(problem: dict[str, Any], name: str) -> None:
    """The problem names `name` in its detail or in one of its errors' fields."""
    fields = [str(e.get("field", "")) for e in problem.get("errors", [])]
    assert name in problem["detail"] or any(name in f for f in fields), problem


def fill(template: Any, ids: dict[str, str]) -> Any:
    """`template` with every string "{name}" replaced by ids[name] (recursively)."""
    if isinstance(template, str):
        return template.format(**ids) if "{" in template else template
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, ids) for v in template]
    return template


@pytest.fixture
def world(api: Api, salon: Salon, backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Owner A's salon with Ann's Monday-10:00 booking, owner B's salon, and an unused id."""
    shared = _shared(request, backend)
    if shared is None:
        return _world(api, salon)
    memo = shared.memo[backend]
    if "world" not in memo:
        memo["world"] = _world(api, salon)
    found: dict[str, str] = memo["world"]
    return found


def _world(api: Api, salon: Salon) -> dict[str, str]:
    booking = api.book(salon.service_id, local(MONDAY, 10), expect=201).json()
    other = api.open_salon(owner=OTHER_OWNER, slug="elsewhere")
    api.query(
        f"/v1/services/{other.service_id}/availability",
        consistency=other.token,
        params={"from": MONDAY.isoformat(), "to": MONDAY.isoformat()},
    )  # the read side has caught up with all of the above
    return {
        "business": salon.business_id,
        "service": salon.service_id,
        "booking": booking["id"],
        "other_business": other.business_id,
        "other_service": other.service_id,
        "missing": str(uuid.uuid4()),
        "token": str(booking["consistency_token"]),
    }
