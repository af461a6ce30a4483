"""Browser tests: Playwright drives Debian's Chromium against both APIs served by uvicorn.

The stack (embedded SQLite, or PostgreSQL) runs in this process with a frozen clock,
Monday 2027-03-01 07:00Z (08:00 in Berlin); the browser's clock is frozen at the same
instant, so "today" is the same day on both sides. Set SLOTWISE_SCREENSHOTS=docs/img to
save the screenshots the docs show.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest
import uvicorn

from domain.actor import Role
from infra.bootstrap import Container, bootstrap
from infra.serving import bind
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from read_api.consistency import BOOKINGS
from tests.browser.oidc_provider import OpenIdProvider
from tests.conftest import JWT_SECRET, FrozenClock, settings_for
from write_api.app import create_app as create_write_app

WAIT_MS = 30_000  # how long a page or expect() waits for a condition

try:
    from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright
except ImportError:  # pragma: no cover - the message is the point
    sync_playwright = None
else:
    # Conditions, not speed: expect()'s 5 s default fails on a loaded shared machine.
    expect.set_options(timeout=WAIT_MS)

CHROMIUM = os.environ.get("SLOTWISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)
BERLIN = ZoneInfo("Europe/Berlin")
OWNER, ANN, CARA = "owner-a", "ann", "cara"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, day_time(hour, minute), tzinfo=BERLIN)


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    if sync_playwright is None:
        pytest.fail("the browser tests need Playwright: pip install -e '.[test]'")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium "
            "(apt-get install chromium) or set SLOTWISE_CHROMIUM"
        )
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def frozen_page(browser: Browser, **context: Any) -> Page:
    """A page in a fresh context whose clock says NOW (timers keep running)."""
    page = browser.new_context(**context).new_page()
    page.clock.set_fixed_time(NOW)
    page.set_default_timeout(WAIT_MS)
    return page


class HeldSettings:
    """Holds a page's `config.json` until `release()`: the page's script is waiting for it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.held: list[Route] = []
        page.route("**/config.json", self._hold)

    def _hold(self, route: Route) -> None:
        self.held.append(route)

    def wait(self) -> None:
        deadline = time.monotonic() + WAIT_MS / 1000
        while not self.held:
            assert time.monotonic() < deadline, "the page never asked for its settings"
            self.page.wait_for_timeout(20)

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        self.page.unroute("**/config.json")


def screenshot(page: Page, name: str, **options: Any) -> None:
    """Save a screenshot for the docs when SLOTWISE_SCREENSHOTS names a folder."""
    folder = os.environ.get("SLOTWISE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), **options)


def serious_violations(frame: Any) -> list[str]:
    """axe-core's serious and critical findings on a page or frame."""
    frame.add_script_tag(path=str(AXE))
    found = frame.evaluate("async () => (await axe.run()).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


class Served:
    """An ASGI app in uvicorn on a socket already bound, in a thread of its own."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: self.server.run(sockets=[sock]), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "no server"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Stack:
    """Both APIs on real ports, and verbs to set the scene through them."""

    read_url: str
    write_url: str
    container: Container
    http: httpx.Client
    claims: dict[str, str] = field(default_factory=dict)  # iss and aud, when the APIs want them

    def caught_up(self) -> bool:
        """The bookings projection reflects the whole event log written so far."""
        head = int(self.container.app.recorder.max_notification_id() or 0)
        return self.container.reached(BOOKINGS) >= head

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every projection reflects the scene set so far: the page then reads
        what a client carrying the last write's token would (the dashboard lists the
        owner's businesses once, at sign-in)."""
        everyone = tuple(c.name for c in self.container.runtime.consumers)
        deadline = time.monotonic() + timeout
        while self.container.reached(everyone) < int(
            self.container.app.recorder.max_notification_id() or 0
        ):
            assert time.monotonic() < deadline, "the read side did not catch up"
            time.sleep(0.02)

    def token(self, sub: str, role: str) -> str:
        now = int(time.time())
        claims = {"sub": sub, "role": Role(role).value, "iat": now, "exp": now + 3600}
        return jwt.encode({**claims, **self.claims}, JWT_SECRET, algorithm="HS256")

    def command(self, method: str, path: str, sub: str, role: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token(sub, role)}"}
        response = self.http.request(method, self.write_url + path, json=body, headers=headers)
        assert response.is_success, response.text
        return response.json()

    def query(self, path: str, sub: str, role: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(sub, role)}"}
        response = self.http.get(self.read_url + path, params=params, headers=headers)
        assert response.is_success, response.text
        return response.json()

    def open_salon(self) -> tuple[str, str]:
        """A Berlin salon open Mon-Fri 09-17 with a 60-minute cut for 30 EUR."""
        business = self.command(
            "POST",
            "/v1/businesses",
            OWNER,
            "owner",
            {"name": "Studio Nord", "slug": "studio-nord", "timezone": "Europe/Berlin"},
        )
        weekly = [{"day": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS]
        path = f"/v1/businesses/{business['id']}/hours"
        self.command("PUT", path, OWNER, "owner", {"weekly": weekly})
        service = self.command(
            "POST",
            f"/v1/businesses/{business['id']}/services",
            OWNER,
            "owner",
            {
                "name": "Haircut",
                "duration_minutes": 60,
                "price": {"amount": "30.00", "currency": "EUR"},
            },
        )
        return business["id"], service["id"]

    def book(
        self,
        service_id: str,
        start: datetime,
        sub: str = ANN,
        name: str = "Ann",
        resource_id: str | None = None,
    ) -> Any:
        body = {
            "service_id": service_id,
            "start": start.isoformat(),
            "contact": {"name": name, "email": f"{sub}@example.com"},
            **({"resource_id": resource_id} if resource_id else {}),
        }
        return self.command("POST", "/v1/bookings", sub, "customer", body)


@contextmanager
def serving(
    settings: Settings, socks: list[socket.socket], claims: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Both APIs of one container on the bound sockets (write, read), as `slotwise dev` runs."""
    write_url, read_url = (f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks)
    settings = settings.model_copy(update={"write_api_url": write_url, "cors_origins": read_url})
    container = bootstrap(settings, clock=FrozenClock(NOW))
    container.start_embedded_delivery()  # as `slotwise dev` composes it
    write = Served(create_write_app(container), socks[0])
    read = Served(create_read_app(container), socks[1])
    try:
        with httpx.Client(timeout=10) as http:
            yield Stack(read_url, write_url, container, http, claims or {})
    finally:
        read.stop()
        write.stop()
        container.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    socks = [bind("127.0.0.1", 0), bind("127.0.0.1", 0)]
    with serving(settings_for(request.param, tmp_path, request), socks) as served:
        yield served


API_AUDIENCE = "slotwise-api"


@dataclass
class SignInStack:
    """The embedded stack trusting a local OpenID provider, which signs OWNER in."""

    stack: Stack
    provider: OpenIdProvider


@pytest.fixture
def sign_in_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SignInStack]:
    socks = [bind("127.0.0.1", 0), bind("127.0.0.1", 0), bind("127.0.0.1", 0)]
    read_url, issuer = (f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks[1:])
    provider = OpenIdProvider(
        client_id="slotwise-dashboard",
        redirect_uri=f"{read_url}/dashboard/",
        allowed_origin=read_url,
        subject=OWNER,
        role="owner",
        audience=API_AUDIENCE,
        issuer=issuer,
    )
    identity = Served(provider.app(), socks[2])
    settings = settings_for("sqlite", tmp_path, request).model_copy(
        update={
            "jwt_jwks_url": f"{issuer}/jwks",
            "jwt_issuer": issuer,
            "jwt_audience": API_AUDIENCE,
            "oidc_issuer": issuer,
            "oidc_client_id": provider.client_id,
        }
    )
    try:
        with serving(settings, socks[:2], {"iss": issuer, "aud": API_AUDIENCE}) as served:
            yield SignInStack(served, provider)
    finally:
        identity.stop()
