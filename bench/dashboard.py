"""The owner's dashboard in Chromium: page load time and size, and a booking's way to the page.

Per stack (`embedded`: `slotwise dev`, SQLite; `postgres`: `slotwise write-api` and
`slotwise read-api` as two processes on a fresh schema), one business with --seed
bookings today, then in headless Chromium (bench/browser.py):

- page load, --loads times cold (a fresh browser context: empty cache, new
  connections) and warm (the same page navigated to /dashboard/ again): from
  navigation start to the load event, to the bookings view showing every seeded
  booking, and to the charts; the bytes of the page's own responses from the
  Performance API (`transferSize`: on the wire, headers included, 0 from the cache;
  `encodedBodySize`: the bodies), the live event stream left out (it never ends);
- live: --bookings bookings made one after another through the write API while
  the dashboard is open; each one's time from its 201 (here) to its card
  (`li[data-id=…]`) being added to the page (a MutationObserver there), both read
  from the machine's wall clock. --warmup more go first, not counted.

    .venv/bin/python bench/dashboard.py [--stack embedded,postgres] [--bookings 50]

Prints a table per stack, then one JSON line.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
import httpx
from browser import chromium
from playwright.sync_api import Browser, Page

from domain.actor import Role
from infra.auth import issue_token

TOKEN_KEY = "slotwise.owner-token"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Marks when every seeded card is on the page and when each booking's card first appears.
WATCH = """
([token, key, expected]) => {
  try { sessionStorage.setItem(key, token); } catch (e) { return; }
  window.__seen = {};
  window.__rendered = null;
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    const cards = document.querySelectorAll("#bookings li.booking[data-id]");
    for (const card of cards) {
      if (!(card.dataset.id in window.__seen)) window.__seen[card.dataset.id] = now;
    }
    if (window.__rendered === null && cards.length >= expected) {
      window.__rendered = performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
}
"""
TIMINGS = """
(origin) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const own = [nav, ...performance.getEntriesByType("resource")]
    .filter((e) => e.name.startsWith(origin) && !e.name.includes("/events"));
  const sum = (list, key) => list.reduce((total, e) => total + (e[key] || 0), 0);
  const api = own.filter((e) => new URL(e.name).pathname.startsWith("/v1/"));
  const files = own.filter((e) => !new URL(e.name).pathname.startsWith("/v1/"));
  return {
    load_ms: nav.loadEventEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    rendered_ms: window.__rendered,
    responses: own.length,
    transfer_bytes: sum(own, "transferSize"),
    encoded_bytes: sum(own, "encodedBodySize"),
    files_transfer_bytes: sum(files, "transferSize"),
    files_encoded_bytes: sum(files, "encodedBodySize"),
    api_transfer_bytes: sum(api, "transferSize"),
    api_encoded_bytes: sum(api, "encodedBodySize"),
  };
}
"""


def morning_zone() -> tuple[str, int]:
    """An Etc/GMT zone where it is now about 08:00, so today has many hours left; its offset."""
    offset = 8 - datetime.now(UTC).hour
    if offset < -12:
        offset += 24
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    return name, offset


@contextmanager
def embedded(tmp: str, secret: str) -> Iterator[tuple[str, str]]:
    """`slotwise dev`: both APIs and the projectors in one process, SQLite."""
    write_port, read_port = harness.free_port(), harness.free_port()
    command = harness.slotwise_command(
        "dev", "--data-dir", tmp, "--write-port", str(write_port), "--read-port", str(read_port)
    )
    env = harness.base_env(harness.sqlite_settings(tmp, secret))
    write, read = f"http://127.0.0.1:{write_port}", f"http://127.0.0.1:{read_port}"
    log = Path(tmp) / "dev.log"
    with harness.process(command, env, log, write) as proc:
        harness.wait_healthy(read, proc, log)
        yield write, read


@contextmanager
def separate(tmp: str, secret: str, dsn: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema, `slotwise write-api` and `slotwise read-api` apart."""
    with ExitStack() as stack:
        schema = stack.enter_context(harness.pg_schema(dsn))
        settings = harness.pg_settings(dsn, schema, tmp, secret, small_pools=True)
        write_log, read_log = Path(tmp) / "write.log", Path(tmp) / "read.log"
        write = stack.enter_context(harness.serve_slotwise("write", settings, write_log))
        read_settings = {**settings, "SLOTWISE_WRITE_API_URL": write}
        read = stack.enter_context(harness.serve_slotwise("read", read_settings, read_log))
        yield write, read


class Scene:
    """One business open all day in a zone where it is morning, and a service with seats."""

    def __init__(self, write: str, read: str, secret: str) -> None:
        self.write, self.read, self.secret = write, read, secret
        self.owner = issue_token(secret, "bench-owner", Role.OWNER, 7200)
        self.http = httpx.Client(timeout=60.0)
        zone, offset = morning_zone()
        headers = {"Authorization": f"Bearer {self.owner}"}
        body = {"name": "Bench salon", "slug": f"bench-{secrets.token_hex(3)}", "timezone": zone}
        made = self.http.post(f"{write}/v1/businesses", json=body, headers=headers)
        self.business_id = str(harness.expect(made, 201)["id"])
        weekly = {"weekly": [{"day": d, "start": "00:00", "end": "24:00"} for d in DAYS]}
        hours = f"{write}/v1/businesses/{self.business_id}/hours"
        harness.expect(self.http.put(hours, json=weekly, headers=headers), 200)
        service = {
            "name": "Haircut",
            "duration_minutes": 15,
            "price": {"amount": "30.00", "currency": "EUR"},
            "seats": 50,
            "slot_interval_minutes": 15,
        }
        path = f"{write}/v1/businesses/{self.business_id}/services"
        created = self.http.post(path, json=service, headers=headers)
        self.service_id = str(harness.expect(created, 201)["id"])
        shift = timedelta(hours=offset)
        # 16:00 local today, as UTC: well ahead of now (about 08:00 there), still today.
        local_now = datetime.now(UTC) + shift
        self.first_start = local_now.replace(hour=16, minute=0, second=0, microsecond=0) - shift
        self.made = 0

    def book(self) -> tuple[str, float, float]:
        """One booking by a new customer: its id, the wall clock (ms) at its 201, its latency."""
        token = issue_token(self.secret, f"bench-customer-{self.made}", Role.CUSTOMER, 7200)
        start = self.first_start + timedelta(minutes=15 * (self.made % 16))
        body = {
            "service_id": self.service_id,
            "start": start.isoformat(),
            "contact": {"name": f"Customer {self.made}", "email": f"c{self.made}@example.com"},
        }
        self.made += 1
        began = time.perf_counter()
        response = self.http.post(
            f"{self.write}/v1/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        at = time.time() * 1000.0
        latency = (time.perf_counter() - began) * 1000.0
        return str(harness.expect(response, 201)["id"]), at, latency

    def close(self) -> None:
        self.http.close()


def watched_page(browser: Browser, scene: Scene, expected: int) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.add_init_script(script=f"({WATCH})({[scene.owner, TOKEN_KEY, expected]!r})")
    page.set_default_timeout(60_000)
    return page


def load(page: Page, scene: Scene) -> dict[str, Any]:
    """Navigate to the dashboard; wait for the seeded cards and the charts; read the timings."""
    page.goto(f"{scene.read}/dashboard/")
    page.wait_for_function("window.__rendered !== null")
    page.wait_for_selector("#chart-counts", state="attached")
    charts_ms = page.evaluate("performance.now()")  # an upper bound: the poll's delay is in it
    page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    timings: dict[str, Any] = page.evaluate(TIMINGS, scene.read)
    timings["charts_by_ms"] = charts_ms
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: round(statistics.median(run[key] for run in runs), 1) for key in runs[0]}


def page_loads(browser: Browser, scene: Scene, seeded: int, times: int) -> dict[str, Any]:
    cold, warm = [], []
    for _ in range(times):
        page = watched_page(browser, scene, seeded)
        cold.append(load(page, scene))
        warm.append(load(page, scene))  # same context: the browser's cache and connections
        page.context.close()
    slowest = max(r["rendered_ms"] for r in cold)
    return {"runs": times, "cold": median_of(cold), "warm": median_of(warm), "cold_max_ms": slowest}


def live(browser: Browser, scene: Scene, seeded: int, count: int, warmup: int) -> dict[str, Any]:
    page = watched_page(browser, scene, seeded)
    page.goto(f"{scene.read}/dashboard/")
    page.wait_for_function("document.body.dataset.live === 'on'")
    delays, writes = [], []
    for i in range(warmup + count):
        booking_id, at, write_ms = scene.book()
        seen = page.wait_for_function("id => window.__seen[id]", arg=booking_id).json_value()
        if i >= warmup:
            delays.append(float(seen) - at)
            writes.append(write_ms)
    page.context.close()
    return {
        "bookings": count,
        "appear": {**harness.quantiles(delays), "max_ms": round(max(delays), 2)},
        "write_201": harness.quantiles(writes),
    }


def run_stack(browser: Browser, name: str, args: argparse.Namespace) -> dict[str, Any]:
    secret = f"bench-{secrets.token_hex(16)}"
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-dash-") as tmp, ExitStack() as stack:
        if name == "embedded":
            write, read = stack.enter_context(embedded(tmp, secret))
        else:
            write, read = stack.enter_context(separate(tmp, secret, args.dsn))
        harness.progress(f"{name}: servers up, seeding {args.seed} bookings")
        scene = Scene(write, read, secret)
        stack.callback(scene.close)
        for _ in range(args.seed):
            scene.book()
        harness.progress(f"{name}: {args.loads} cold and warm page loads")
        pages = page_loads(browser, scene, args.seed, args.loads)
        harness.progress(f"{name}: {args.bookings} bookings to the open dashboard")
        result = live(browser, scene, args.seed, args.bookings, args.warmup)
        errors = [*harness.server_log(Path(tmp) / "dev.log")[0]]
        for log in ("write.log", "read.log"):
            errors += harness.server_log(Path(tmp) / log)[0]
    return {"page": pages, "live": result, "server_errors": errors[:5]}


def table(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}: page load, median of {figures['page']['runs']} (ms, bytes)")
    heads = ("load", "bookings", "charts", "transfer", "encoded", "files", "api")
    print(f"  {'':6} " + " ".join(f"{h:>9}" for h in heads))
    for kind in ("cold", "warm"):
        p = figures["page"][kind]
        keys = ["load_ms", "rendered_ms", "charts_by_ms", "transfer_bytes", "encoded_bytes"]
        keys += ["files_transfer_bytes", "api_transfer_bytes"]
        print(f"  {kind:6} " + " ".join(f"{p[k]:9.0f}" for k in keys))
    live_ = figures["live"]
    a, w = live_["appear"], live_["write_201"]
    print(f"{name}: 201 -> card on the open dashboard, {live_['bookings']} bookings (ms)")
    print(
        f"  appear  p50 {a['p50_ms']:7.1f}  p95 {a['p95_ms']:7.1f}  p99 {a['p99_ms']:7.1f}"
        f"  max {a['max_ms']:7.1f}"
    )
    print(f"  201     p50 {w['p50_ms']:7.1f}  p95 {w['p95_ms']:7.1f}  p99 {w['p99_ms']:7.1f}")
    if figures["server_errors"]:
        print(f"  server errors: {figures['server_errors']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="embedded,postgres")
    parser.add_argument("--bookings", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20, help="bookings on the page when it loads")
    parser.add_argument("--loads", type=int, default=5, help="cold and warm loads per stack")
    parser.add_argument("--dsn", default=harness.DEFAULT_PG)
    args = parser.parse_args()
    stacks = [s.strip() for s in args.stack.split(",") if s.strip()]
    unknown = set(stacks) - {"embedded", "postgres"}
    if unknown or not stacks:
        parser.error(f"--stack takes embedded and/or postgres, not {sorted(unknown) or 'nothing'}")
    report: dict[str, Any] = {"bench": "dashboard", "machine": harness.machine(), "stacks": {}}
    with chromium() as browser:
        for name in stacks:
            report["stacks"][name] = run_stack(browser, name, args)
            table(name, report["stacks"][name])
    report["machine"]["loadavg_after"] = harness.machine()["loadavg"]
    harness.emit(report)
    return 1 if any(s["server_errors"] for s in report["stacks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
