"""Rebuild: events/s of a full read-model rebuild, against eventsourcing's own
`ProjectionRunner` and against the raw read + decode rate, on the same log.

For each backend (SQLite files, a fresh PostgreSQL schema) this writes a log of
--events events with the application's own aggregates (businesses with hours,
closures and policies; services created and updated; bookings placed,
confirmed, paid online, rescheduled, cancelled with refunds, checked in,
completed, no-shows), saved in big batches through `SlotWise.save`. Then, on
that log:

- read + decode: `recorder.select_notifications` and `mapper.to_domain_event`,
  in batches of 2,000, nothing applied (the goal's yardstick); and the same
  plus the project's envelopes (`infra.follower.read_log`), which is what a
  rebuild has to read, for reference;
- ProjectionRunner: `eventsourcing.projection.ProjectionRunner` driving the
  project's five projectors wrapped as an eventsourcing `Projection`: each
  event in its own transaction with its tracking row (the library's tracking
  table, in the read database), as the library's examples do; over the first
  --runner-events events (it is slow; rates are per second). On SQLite, whose
  recorder in eventsourcing 9.5 has no subscriptions, a loop doing what the
  runner's subscription does drives the same Projection;
- rebuild: `slotwise projections rebuild`'s code path (`infra.rebuild.rebuild`):
  reset, then batches folded in memory and written with multi-row upserts.

Run from the repository root:

    .venv/bin/python bench/rebuild.py [--events 50000] [--runner-events 2000]
        [--backends sqlite,postgres] [--pg-dsn postgresql://postgres@127.0.0.1:5432/test]

Prints a table, then one JSON line with every figure (also rates per CPU
second of this process, and the load average, since a shared machine slows
each phase differently). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from commands.app import SlotWise  # noqa: E402
from domain.booking import Booking, BookingStatus  # noqa: E402
from domain.business import Business, SlugIndex  # noqa: E402
from domain.cause import Cause, caused_by  # noqa: E402
from domain.service import Service, ServiceTerms  # noqa: E402
from domain.values import WEEKDAYS, BookingPolicy, Money  # noqa: E402
from infra.bootstrap import Container, bootstrap  # noqa: E402
from infra.envelopes import envelope_of  # noqa: E402
from infra.follower import read_log  # noqa: E402
from infra.rebuild import rebuild  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections import all_projectors  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
POOLS = "pool_size=2&max_overflow=2"
OWNER = "bench-owner"
CAUSE = Cause(OWNER, "owner", "bench-rebuild", "bench-rebuild")
WEEKLY = [{"day": day, "start": "08:00", "end": "20:00"} for day in WEEKDAYS]
BOOKINGS_PER_BUSINESS = 300
SAVE_EVERY = 1000  # events per save while writing the log
READ_BATCH = 2000
RUNNER_NAME = "rebuildbench"
GOALS = {"vs_runner": 20.0, "vs_decode": 0.3}


def progress(message: str) -> None:
    print(f"[rebuild] {message}", file=sys.stderr, flush=True)


# --- writing the log -------------------------------------------------------------------


def open_business(rng: random.Random) -> tuple[Business, Service, list[Any]]:
    slug = f"bench-{uuid.uuid4().hex[:12]}"
    business = Business.register(OWNER, "Bench", slug, rng.choice(["UTC", "Europe/Paris"]), 2)
    business.set_hours(WEEKLY)
    business.set_policy(BookingPolicy(cancellation_deadline_hours=24))
    start = datetime(2027, 6, 1, tzinfo=UTC) + timedelta(days=rng.randrange(300))
    closure = uuid.uuid4()
    business.add_closure(closure, start, start + timedelta(days=1), "holiday")
    business.add_closure(uuid.uuid4(), start + timedelta(days=7), start + timedelta(days=8), "")
    business.remove_closure(closure)
    terms = ServiceTerms("Cut", 45, Money.of(Decimal("30.00"), "EUR"), buffer_after_minutes=15)
    service = Service.create(business.id, terms)
    service.update(ServiceTerms("Cut", 45, Money.of(Decimal("32.50"), "EUR")))
    return business, service, [SlugIndex(slug=slug, business_id=business.id)]


def book(business: Business, service: Service, rng: random.Random) -> Booking:
    """One booking's life: a realistic mix of what happens to bookings."""
    day = datetime(2027, 4, 1, 9, tzinfo=UTC) + timedelta(days=rng.randrange(120))
    start = day + timedelta(minutes=15 * rng.randrange(32))
    end = start + timedelta(minutes=45)
    online = rng.random() < 0.25
    status = (
        BookingStatus.PENDING_PAYMENT
        if online
        else rng.choice([BookingStatus.PENDING, BookingStatus.CONFIRMED])
    )
    booking = Booking(
        id=uuid.uuid4(),
        business_id=business.id,
        service_id=service.id,
        customer_id=f"customer-{rng.randrange(5000)}",
        placed_by=OWNER,
        start=start,
        end=end,
        occupied_start=start,
        occupied_end=end + timedelta(minutes=15),
        timezone=business.timezone,
        service_name=service.name,
        price_amount=service.price_amount,
        currency=service.currency,
        personal_data=None,
        legacy_notes="",
        status=status,
        resources=[],
        series_id=None,
    )
    if status is BookingStatus.PENDING:
        booking.confirm(OWNER)
    if online:
        intent = f"pi_{booking.id.hex[:16]}"
        booking.request_payment("stripe", start - timedelta(days=3))
        booking.attach_payment_intent(intent)
        booking.record_payment_succeeded(OWNER, intent, service.price_amount, service.currency)
    fate, early = rng.random(), start - timedelta(days=2)
    if fate < 0.2:
        moved = start + timedelta(days=rng.randrange(1, 9))
        booking.reschedule(
            OWNER, moved, moved + timedelta(minutes=45), moved, moved + timedelta(hours=1),
            early, timedelta(hours=24), staff=True,
        )  # fmt: skip
    elif fate < 0.35:
        booking.cancel(OWNER, None, early, timedelta(hours=24), staff=True)
        if online:
            intent = f"pi_{booking.id.hex[:16]}"
            refund = f"re_{booking.id.hex[:16]}"
            booking.record_refund(intent, refund, service.price_amount, "EUR", "cancelled_in_time")
    elif fate < 0.6:
        booking.check_in(OWNER)
        booking.complete(OWNER)
    elif fate < 0.65:
        booking.mark_no_show(OWNER, end)
    return booking


def write_log(app: SlotWise, events: int, seed: int = 7) -> int:
    """About `events` events (saved a thousand at a time); how many were written."""
    rng = random.Random(seed)
    written = bookings = 0
    pending: list[Any] = []
    business = service = None
    with caused_by(CAUSE):
        while written < events:
            if business is None or service is None or bookings % BOOKINGS_PER_BUSINESS == 0:
                business, service, extra = open_business(rng)
                pending += [business, service, *extra]
            pending.append(book(business, service, rng))
            bookings += 1
            ready = sum(len(a.pending_events) for a in pending)
            if ready >= SAVE_EVERY or written + ready >= events:
                app.save(*pending)
                written += ready
                pending = []
    return written


# --- the three measurements ------------------------------------------------------------


def read_and_decode(container: Container) -> tuple[int, float]:
    """The raw rate: select the notifications and decode them to domain events, nothing else."""
    recorder, mapper, cursor, n = container.app.recorder, container.app.mapper, 0, 0
    began = time.perf_counter()
    while batch := recorder.select_notifications(
        start=cursor, limit=READ_BATCH, inclusive_of_start=False
    ):
        for notification in batch:
            mapper.to_domain_event(notification)
        cursor, n = batch[-1].id, n + len(batch)
    return n, time.perf_counter() - began


def read_envelopes(container: Container) -> tuple[int, float]:
    """As above, then wrapped as envelopes (what every consumer reads): the rebuild's input."""
    app, cursor, n = container.app, 0, 0
    began = time.perf_counter()
    while batch := read_log(app.recorder, app.mapper, cursor, READ_BATCH):
        cursor, n = batch[-1].offset, n + len(batch)
    return n, time.perf_counter() - began


def slotwise_rebuild(container: Container) -> tuple[int, float]:
    began = time.perf_counter()
    n = rebuild(container.app.recorder, container.app.mapper, container.runtime)
    return n, time.perf_counter() - began


def projection_class(engine: Engine, tracking_sql: str) -> type[Projection[Any]]:
    """The project's projectors as an eventsourcing Projection: one transaction per event."""
    projectors = all_projectors()

    class SlotWiseProjection(Projection[Any]):
        name = RUNNER_NAME

        def process_event(self, domain_event: Any, tracking: Tracking) -> None:
            envelope = envelope_of(domain_event, tracking.notification_id)
            with engine.begin() as conn:
                for projector in projectors:
                    if projector.handles(envelope.type):
                        projector.apply(conn, envelope)
                conn.execute(
                    text(tracking_sql),
                    {"app": tracking.application_name, "id": tracking.notification_id},
                )

    return SlotWiseProjection


def projection_runner(settings: Settings, container: Container, limit: int) -> tuple[int, float]:
    """ProjectionRunner over the first `limit` events of the log."""
    for consumer in container.runtime.consumers:
        container.runtime.reset(consumer)
    env = settings.eventsourcing_env()
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return sqlite_runner(container, limit)
    tracking_sql = (
        f"INSERT INTO {RUNNER_NAME}_tracking (application_name, notification_id) "
        "VALUES (:app, :id) ON CONFLICT (application_name) "
        "DO UPDATE SET notification_id = excluded.notification_id"
    )
    projection = projection_class(container.read_db.writer, tracking_sql)
    began = time.perf_counter()
    with ProjectionRunner(
        application_class=SlotWise,
        projection_class=projection,
        view_class=PostgresTrackingRecorder,
        env=env,
    ) as runner:
        runner.wait(limit, timeout=600)
        elapsed = time.perf_counter() - began
    return limit, elapsed


def sqlite_runner(container: Container, limit: int) -> tuple[int, float]:
    """What ProjectionRunner does, by hand: eventsourcing 9.5's SQLite recorder has no
    subscriptions, so this loop stands in for ApplicationSubscription (select the
    notifications, decode each with the mapper, pair it with its Tracking) and calls
    the same Projection's process_event, with the tracking in the library's table."""
    tracking_sql = (
        "INSERT INTO tracking (application_name, notification_id) VALUES (:app, :id) "
        "ON CONFLICT (application_name) DO UPDATE SET notification_id = excluded.notification_id"
    )
    with container.read_db.writer.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS tracking (application_name TEXT, "
                "notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID"
            )
        )
    app = container.app
    projection = projection_class(container.read_db.writer, tracking_sql)(view=None)
    began, cursor, n = time.perf_counter(), 0, 0
    while n < limit:
        notifications = app.recorder.select_notifications(
            start=cursor, limit=min(100, limit - n), inclusive_of_start=False
        )
        if not notifications:
            break
        for notification in notifications:
            tracking = Tracking(app.name, notification.id)
            projection.process_event(app.mapper.to_domain_event(notification), tracking)
        cursor, n = notifications[-1].id, n + len(notifications)
    return n, time.perf_counter() - began


# --- backends --------------------------------------------------------------------------


def timed(measure: Any, *args: Any) -> tuple[int, float, float]:
    """How many events `measure` went through, in wall-clock seconds and in this process's CPU
    seconds (on a shared machine the second shows the work apart from the waiting)."""
    cpu = time.process_time()
    n, wall = measure(*args)
    return n, wall, time.process_time() - cpu


def bench_backend(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    container = bootstrap(settings)
    try:
        began = time.perf_counter()
        written = write_log(container.app, args.events)
        progress(f"  wrote {written} events in {time.perf_counter() - began:.1f}s")
        n, decode_s, decode_cpu = timed(read_and_decode, container)
        progress(f"  read + decode: {n / decode_s:,.0f} events/s")
        _, envelopes_s, _ = timed(read_envelopes, container)
        progress(f"  read + decode + envelopes: {n / envelopes_s:,.0f} events/s")
        limit = min(args.runner_events, n)
        m, runner_s, runner_cpu = timed(projection_runner, settings, container, limit)
        progress(f"  ProjectionRunner: {m / runner_s:,.0f} events/s over {m} events")
        r, rebuild_s, rebuild_cpu = timed(slotwise_rebuild, container)
        progress(f"  rebuild: {r / rebuild_s:,.0f} events/s")
    finally:
        container.close()
    decode, runner, rebuilt = n / decode_s, m / runner_s, r / rebuild_s
    return {
        "events": n,
        "decode_per_s": round(decode),
        "envelopes_per_s": round(n / envelopes_s),
        "runner_events": m,
        "runner_per_s": round(runner),
        "rebuild_per_s": round(rebuilt),
        "rebuild_s": round(rebuild_s, 2),
        "vs_runner": round(rebuilt / runner, 1),
        "vs_decode": round(rebuilt / decode, 2),
        "vs_envelopes": round(rebuilt / (n / envelopes_s), 2),
        # Per CPU second of this process (the PostgreSQL server's CPU is not in it).
        "cpu_per_s": {
            "decode": round(n / decode_cpu),
            "runner": round(m / runner_cpu),
            "rebuild": round(r / rebuild_cpu),
        },
        "load_average": round(os.getloadavg()[0], 1),
    }


def sqlite_settings(tmp: Path) -> Settings:
    return Settings(data_dir=tmp / "data", jwt_secret="bench-not-used")


def postgres_settings(dsn: str, schema: str) -> Settings:
    url = f"{dsn}?schema={schema}&{POOLS}"
    return Settings(event_store=url, read_db=url, jwt_secret="bench-not-used")


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        progress(f"{backend}:")
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = bench_backend(sqlite_settings(Path(tmp)), args)
            continue
        schema = f"bench_rebuild_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            results[backend] = bench_backend(postgres_settings(args.pg_dsn, schema), args)
        finally:
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return results


def print_table(results: dict[str, Any]) -> None:
    header = (
        f"{'backend':<10}{'events':>8}{'decode/s':>10}{'envelopes/s':>13}{'Runner/s':>10}"
        f"{'rebuild/s':>11}{'xRunner':>9}{'xdecode':>9}{'xenvelopes':>12}"
    )
    print(header)
    for backend, r in results.items():
        print(
            f"{backend:<10}{r['events']:>8}{r['decode_per_s']:>10,}{r['envelopes_per_s']:>13,}"
            f"{r['runner_per_s']:>10,}{r['rebuild_per_s']:>11,}{r['vs_runner']:>9}"
            f"{r['vs_decode']:>9}{r['vs_envelopes']:>12}"
        )
    print(f"goals: >= {GOALS['vs_runner']}x ProjectionRunner, >= {GOALS['vs_decode']}x read+decode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runner-events", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG)
    args = parser.parse_args()
    results = run(args)
    print_table(results)
    met = all(r[k] >= goal for r in results.values() for k, goal in GOALS.items())
    print(json.dumps({"bench": "rebuild", "args": vars(args), "results": results, "met": met}))


if __name__ == "__main__":
    main()
