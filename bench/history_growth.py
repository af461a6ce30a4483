"""History growth: per-command latency for a business with ~10 events against one with ~10,000.

For each event-store backend (SQLite file, PostgreSQL schema) this drives the
`SlotWise` application in-process (no HTTP). It writes an "old" business whose
Business, Service and one UTC day's DayAllocation each have --events events
(Business: alternating SetHours/SetPolicy, state that does not grow; Service:
UpdateService; the day: bookings placed and cancelled, a few holds left live),
and a pool of "young" businesses whose three aggregates have ~10 events each.
The history is written by the aggregates' own methods and saved through the
application in big batches, so the real recorder stores it and snapshots are
taken every --snapshot-interval events, as in production.

It then times --commands rounds. Each round runs, for a fresh young business
and for the old one, taking turns (who goes first alternates) so noise on a
shared machine hits both: SetPolicy, UpdateService, PlaceBooking on the
churned day and CancelBooking of that booking. Last, a second application on
the same store with snapshotting off runs a few rounds (--unsnapshotted-commands,
also capped in time) to show what snapshots buy.

Run from the repository root:

    .venv/bin/python bench/history_growth.py [--events 10000] [--commands 200]
        [--snapshot-interval 50] [--unsnapshotted-commands 10]
        [--backends sqlite,postgres] [--pg-dsn postgresql://postgres@127.0.0.1:5432/test]

Prints a table, then one JSON line with every figure. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from commands.app import SlotWise  # noqa: E402
from commands.messages import (  # noqa: E402
    CancelBooking,
    Command,
    PlaceBooking,
    SetPolicy,
    UpdateService,
)
from domain.actor import Actor, Role  # noqa: E402
from domain.allocation import DayAllocation, allocate  # noqa: E402
from domain.booking import Booking, BookingStatus  # noqa: E402
from domain.business import Business, SlugIndex  # noqa: E402
from domain.cause import Cause, caused_by  # noqa: E402
from domain.service import Service, ServiceTerms  # noqa: E402
from domain.values import WEEKDAYS, BookingPolicy, Money  # noqa: E402
from infra.bootstrap import event_store_engine  # noqa: E402
from infra.personal_data import PersonalDataKeys  # noqa: E402
from infra.settings import Settings  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = ("SetPolicy", "UpdateService", "PlaceBooking", "CancelBooking")
YOUNG_EVENTS = 10  # per aggregate of a young business
GOAL_RATIO = 1.5  # issue 5: old/young per-command latency
LIVE_HOLDS = 3  # bookings left standing on the churned day, young and old alike
BATCH = 1000  # events per save while writing history
WARMUP = 3  # rounds run first and not counted
UNSNAPSHOTTED_SECONDS = 90.0  # per backend: stop the snapshot-off rounds after this
AHEAD = timedelta(days=30)  # the churned day, from today (UTC)
SLOT = timedelta(minutes=15)
LIVE_SLOTS = (4, 8, 12)  # 01:00, 02:00, 03:00
TIMED_SLOT = 24  # 06:00: booked and cancelled in every round
CHURN_SLOTS = range(40, 88)  # 10:00-21:45: where the history's bookings come and go
OWNER = Actor("bench-owner", Role.OWNER)
HISTORY = Cause(OWNER.id, OWNER.role.value, "bench-history", "bench-history")
WEEKLY = [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEKDAYS]
POLICIES = (BookingPolicy(), BookingPolicy(min_notice_minutes=60))
PRICES = (Money.of("25.00", "EUR"), Money.of("26.00", "EUR"))
TERMS = ServiceTerms("Quarter hour", 15, PRICES[0], seats=1, slot_interval_minutes=15)


def progress(message: str) -> None:
    print(f"[history_growth] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Subject:
    """A business under test, its service and the start of the day whose allocation churns."""

    business_id: UUID
    service_id: UUID
    midnight: datetime

    def at(self, slot: int) -> datetime:
        return self.midnight + slot * SLOT


# --- writing history -------------------------------------------------------------------


def grow(
    app: SlotWise, aggregate: Aggregate, events: int, step: Callable[[int], list[Any]]
) -> None:
    """Call step(k) until `aggregate` has `events` events; save (with step's extras) per BATCH."""
    extras: list[Any] = []
    k = 0
    while aggregate.version < events:
        extras += step(k)
        k += 1
        if len(aggregate.pending_events) >= BATCH:
            app.save(aggregate, *extras)
            extras = []
    app.save(aggregate, *extras)


def place(alloc: DayAllocation, business: Business, service: Service, start: datetime) -> Booking:
    """What PlaceBooking does to the aggregates, without loading them again."""
    booking_id = uuid4()
    held = allocate([alloc], business.capacity, service.shape(), booking_id, start)
    return Booking(
        id=booking_id,
        business_id=business.id,
        service_id=service.id,
        customer_id=f"bench-customer-{booking_id.hex[:8]}",
        placed_by=OWNER.id,
        start=held.start,
        end=held.end,
        occupied_start=held.occupied_start,
        occupied_end=held.occupied_end,
        timezone=business.timezone,
        service_name=service.name,
        price_amount=service.price_amount,
        currency=service.currency,
        personal_data=None,
        legacy_notes="",
        status=BookingStatus.CONFIRMED,
        resources=[],
        series_id=None,
    )


def write_history(app: SlotWise, events: int, midnight: datetime) -> Subject:
    """A business whose Business, Service and DayAllocation each have `events` events."""
    with caused_by(HISTORY):
        slug = f"bench-{secrets.token_hex(6)}"
        business = Business.register(OWNER.id, "Bench", slug, "UTC", capacity=1)
        business.set_hours(WEEKLY)
        app.save(business, SlugIndex(slug=slug, business_id=business.id))

        def business_step(k: int) -> list[Any]:
            if k % 2:
                business.set_hours(WEEKLY)
            else:
                business.set_policy(POLICIES[k // 2 % 2])
            return []

        grow(app, business, events, business_step)
        service = Service.create(business.id, TERMS)

        def service_step(k: int) -> list[Any]:
            service.update(replace(TERMS, price=PRICES[(k + 1) % 2]))
            return []

        grow(app, service, events, service_step)
        alloc = DayAllocation(business_id=business.id, day=midnight.date())
        live = [place(alloc, business, service, midnight + s * SLOT) for s in LIVE_SLOTS]
        app.save(alloc, *live)

        def churn_step(k: int) -> list[Any]:
            start = midnight + CHURN_SLOTS[k % len(CHURN_SLOTS)] * SLOT
            booking = place(alloc, business, service, start)
            booking.cancel(OWNER.id, None, start, timedelta(0), staff=True)
            alloc.release(booking.id)
            return [booking]

        grow(app, alloc, events - 1, churn_step)  # two events a step: ends on `events` if even
    return Subject(business.id, service.id, midnight)


def history_of(app: SlotWise, subject: Subject) -> dict[str, Any]:
    """Versions of the subject's aggregates and of their latest snapshots."""
    ids = {
        "business": subject.business_id,
        "service": subject.service_id,
        "allocation": DayAllocation.create_id(subject.business_id, subject.midnight.date()),
    }
    found: dict[str, Any] = {}
    for name, aggregate_id in ids.items():
        aggregate: Aggregate = app.repository.get(aggregate_id)
        latest = app.snapshots.get(aggregate_id, desc=True, limit=1) if app.snapshots else []
        at = [snapshot.originator_version for snapshot in latest]
        found[name] = {"events": aggregate.version, "snapshot_at": at[0] if at else 0}
    return found


# --- timing ----------------------------------------------------------------------------


def command(kind: str, subject: Subject, n: int, placed: UUID | None) -> Command:
    """Round n's command of `kind`; SetPolicy and UpdateService alternate between two values."""
    customer = Actor(f"bench-customer-{n}", Role.CUSTOMER)
    if kind == "SetPolicy":
        return SetPolicy(OWNER, business_id=subject.business_id, policy=POLICIES[n % 2])
    if kind == "UpdateService":
        changes = {"price": PRICES[n % 2]}
        return UpdateService(OWNER, service_id=subject.service_id, changes=changes)
    if kind == "PlaceBooking":
        return PlaceBooking(customer, service_id=subject.service_id, start=subject.at(TIMED_SLOT))
    assert placed is not None
    return CancelBooking(customer, booking_id=placed, reason="bench")


Samples = dict[str, dict[str, list[float]]]  # kind -> "young"/"old" -> milliseconds


@dataclass(frozen=True)
class Plan:
    """How many rounds to run, how many of them first as an uncounted warm-up, and for how long."""

    rounds: int
    warmup: int = WARMUP
    budget_s: float = float("inf")

    @property
    def businesses(self) -> int:
        return self.warmup + self.rounds  # a fresh young business per round


def run_round(app: SlotWise, young: Subject, old: Subject, n: int, samples: Samples | None) -> None:
    """The four commands on both businesses, interleaved; young goes first in even rounds."""
    ages = [("young", young), ("old", old)]
    if n % 2:
        ages.reverse()
    placed: dict[str, UUID] = {}
    for kind in KINDS:
        for age, subject in ages:
            cmd = command(kind, subject, n, placed.get(age))
            began = time.perf_counter()
            done = app.handle(cmd)
            elapsed = (time.perf_counter() - began) * 1000.0
            if kind == "PlaceBooking":
                placed[age] = done.id
            if samples is not None:
                samples[kind][age].append(elapsed)


def run_rounds(
    app: SlotWise, young: Sequence[Subject], old: Subject, plan: Plan
) -> tuple[Samples, int]:
    """plan.warmup uncounted rounds, then plan.rounds counted ones (fewer if out of time)."""
    samples: Samples = defaultdict(lambda: defaultdict(list))
    gc.collect()  # the history left garbage; do not let its collection land in a timed command
    began = time.monotonic()
    counted = 0
    for n in range(plan.warmup + plan.rounds):
        if time.monotonic() - began > plan.budget_s:
            progress(f"  time cap {plan.budget_s:.0f}s reached after {counted} rounds")
            break
        run_round(app, young[n], old, n, samples if n >= plan.warmup else None)
        counted = max(n + 1 - plan.warmup, 0)
        if counted and counted % 25 == 0:
            progress(f"  {counted}/{plan.rounds} rounds, {time.monotonic() - began:.1f}s")
    return samples, counted


def stats(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        one = values[0] if values else 0.0
        return {"n": len(values), "p50_ms": one, "p95_ms": one, "mean_ms": one}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def summarise(samples: Samples) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        young, old = stats(samples[kind]["young"]), stats(samples[kind]["old"])
        ratio = {
            key: round(old[f"{key}_ms"] / young[f"{key}_ms"], 2) if young[f"{key}_ms"] else None
            for key in ("p50", "p95", "mean")
        }
        out[kind] = {"young": young, "old": old, "ratio": ratio}
    return out


# --- backends --------------------------------------------------------------------------


def open_app(url: str, now: datetime, snapshot_interval: int) -> SlotWise:
    settings = Settings(event_store=url, jwt_secret="bench-not-used")
    app = SlotWise(
        env=settings.eventsourcing_env(), clock=lambda: now, snapshot_interval=snapshot_interval
    )
    # Cancellations seal their reason (personal data): the keys' table beside the events, as
    # the composition root sets it.
    keys = PersonalDataKeys(event_store_engine(settings, 1, 2))
    keys.setup()
    app.sealer = keys
    return app


def bench_store(url: str, args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = datetime.combine((now + AHEAD).date(), datetime.min.time(), UTC)
    on = Plan(args.commands)
    # Without snapshots a round on the old business takes seconds: one warm-up, and a cap.
    off = Plan(args.unsnapshotted_commands, 1, UNSNAPSHOTTED_SECONDS)
    app = open_app(url, now, args.snapshot_interval)
    try:
        began = time.monotonic()
        progress(f"  writing {args.events} events to each old aggregate")
        old = write_history(app, args.events, midnight)
        progress(f"  writing {on.businesses + off.businesses} young businesses")
        young = [write_history(app, YOUNG_EVENTS, midnight) for _ in range(on.businesses)]
        young_off = [write_history(app, YOUNG_EVENTS, midnight) for _ in range(off.businesses)]
        build_s = time.monotonic() - began
        history = {"old": history_of(app, old), "young": history_of(app, young[0])}
        progress(f"  history written in {build_s:.1f}s; timing {on.rounds} rounds")
        samples, _ = run_rounds(app, young, old, on)
    finally:
        app.close()
    result = {"build_s": round(build_s, 1), "history": history, "snapshots_on": summarise(samples)}
    if off.rounds and args.snapshot_interval:
        progress(f"  snapshots off: up to {off.rounds} rounds")
        plain = open_app(url, now, 0)  # the same store, read without its snapshots
        try:
            samples, done = run_rounds(plain, young_off, old, off)
        finally:
            plain.close()
        result["snapshots_off"] = {"rounds": done, **summarise(samples)}
    return result


@contextmanager
def pg_schema(dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped (with everything in it) afterwards."""
    import psycopg
    from psycopg import sql

    name = f"slotwise_bench_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="slotwise-bench-") as tmp:
        return bench_store(f"sqlite:///{tmp}/events.sqlite", args)


def run_postgres(args: argparse.Namespace) -> dict[str, Any]:
    with pg_schema(args.pg_dsn) as schema:
        joiner = "&" if "?" in args.pg_dsn else "?"
        # One thread runs every command: two pooled connections are plenty.
        url = f"{args.pg_dsn}{joiner}schema={schema}&pool_size=2&max_overflow=2"
        return bench_store(url, args)


# --- report ----------------------------------------------------------------------------


def row(name: str, mode: str, kind: str, r: dict[str, Any]) -> str:
    y, o, q = r["young"], r["old"], r["ratio"]
    return (
        f"{name:<9} {mode:<5} {kind:<14} {o['n']:>4} | "
        f"{y['p50_ms']:>8.2f} {y['p95_ms']:>8.2f} {y['mean_ms']:>8.2f} | "
        f"{o['p50_ms']:>8.2f} {o['p95_ms']:>8.2f} {o['mean_ms']:>8.2f} | "
        f"{ratio(q['p50'])} {ratio(q['mean'])}"
    )


def ratio(value: float | None) -> str:
    return f"{value:>6.2f}" if value is not None else f"{'-':>6}"


def worst(result: dict[str, Any], key: str) -> tuple[float, str]:
    """The highest old/young ratio (p50 or mean) with snapshots on, and its command."""
    return max((result["snapshots_on"][kind]["ratio"][key] or 0.0, kind) for kind in KINDS)


def print_table(results: dict[str, dict[str, Any]], interval: int) -> None:
    """`snap.` is the snapshot interval the commands ran with ("off": none taken or read)."""
    cols = f"{'p50':>8} {'p95':>8} {'mean':>8}"
    print(f"{'':<35} | {'young business, ms':^26} | {'old business, ms':^26} | old/young")
    print(f"{'backend':<9} {'snap.':<5} {'command':<14} {'n':>4} | {cols} | {cols} |    p50   mean")
    modes = (("snapshots_on", str(interval or "off")), ("snapshots_off", "off"))
    for name, result in results.items():
        for key, label in modes:
            for kind in KINDS if key in result else ():
                print(row(name, label, kind, result[key][kind]))
    for name, result in results.items():
        for age in ("young", "old"):
            parts = [
                f"{aggregate} {h['events']} (snapshot at {h['snapshot_at']})"
                for aggregate, h in result["history"][age].items()
            ]
            print(f"{name}: {age} business, events per aggregate: {'; '.join(parts)}")
        (p50, p50_kind), (mean, mean_kind) = worst(result, "p50"), worst(result, "mean")
        print(
            f"{name}: history written in {result['build_s']:.1f}s; with snapshots, highest "
            f"old/young: p50 {p50:.2f} ({p50_kind}), mean {mean:.2f} ({mean_kind}); "
            f"goal <= {GOAL_RATIO}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--events", type=int, default=10_000, help="per old aggregate")
    parser.add_argument("--commands", type=int, default=200, help="timed rounds")
    parser.add_argument(
        "--snapshot-interval",
        type=int,
        default=Settings.model_fields["snapshot_interval"].default,
        help="0: never (default: SLOTWISE_SNAPSHOT_INTERVAL's default)",
    )
    parser.add_argument(
        "--unsnapshotted-commands", type=int, default=10, help="rounds with snapshots off (0: skip)"
    )
    parser.add_argument("--pg-dsn", default=DEFAULT_PG, help="database for the schema")
    args = parser.parse_args(argv)
    if not 2 * YOUNG_EVENTS <= args.events <= 1_000_000:
        parser.error(f"--events must be between {2 * YOUNG_EVENTS} and 1000000")
    if not 2 <= args.commands <= 10_000:
        parser.error("--commands must be between 2 and 10000")
    if not 0 <= args.snapshot_interval <= 100_000:
        parser.error("--snapshot-interval must be between 0 and 100000")
    if not 0 <= args.unsnapshotted_commands <= 1_000:
        parser.error("--unsnapshotted-commands must be between 0 and 1000")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or not set(args.backends) <= {"sqlite", "postgres"}:
        parser.error("--backends takes sqlite, postgres or both")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A terminated run still drops its schema and temporary directory (the `finally`s run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runners = {"sqlite": run_sqlite, "postgres": run_postgres}
    results = {}
    for name in args.backends:
        progress(f"{name}:")
        results[name] = runners[name](args)
    print_table(results, args.snapshot_interval)
    report = {
        "bench": "history_growth",
        "events": args.events,
        "young_events": YOUNG_EVENTS,
        "goal_ratio": GOAL_RATIO,
        "commands": args.commands,
        "snapshot_interval": args.snapshot_interval,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **results,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
