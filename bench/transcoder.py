"""Transcoder speed: eventsourcing's JSONTranscoder against infra.transcoder.OrjsonTranscoder.

Both encode the state of a realistic Booking.Placed event (built by the real
Booking aggregate, then stripped of originator id and version exactly as the
eventsourcing Mapper does): UUIDs, aware datetimes, a Decimal price, a StrEnum
status and a non-ASCII note. The JSONTranscoder gets UUIDAsHex, DecimalAsStr
and DatetimeAsISO, the transcodings the library registers for its own types.

It times encode, decode and a full round trip: --repeat runs of --number calls
each, the two transcoders taking turns within every run so that noise on a
shared machine hits both. Calls/s is reported as the best and the median run;
the ratio orjson/json is the median of the per-run ratios. It also checks that
each transcoder decodes the other's output to a dict equal to the original
state, with the same value types.

Run from the repository root:

    .venv/bin/python bench/transcoder.py [--number 20000] [--repeat 5]

Prints a table, then one JSON line with every figure. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoder,
    UUIDAsHex,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.booking import Booking, BookingStatus  # noqa: E402
from domain.personal import Sealed  # noqa: E402
from infra.transcoder import OrjsonTranscoder  # noqa: E402

OPERATIONS = ("encode", "decode", "round_trip")


def placed_state() -> dict[str, Any]:
    """The state a Booking.Placed event is stored with (what Mapper.to_stored_event encodes)."""
    start = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    booking = Booking(
        id=uuid4(),
        business_id=uuid4(),
        service_id=uuid4(),
        customer_id="auth0|6543a1f09c2d4e0012ab34cd",
        placed_by="auth0|6543a1f09c2d4e0012ab34cd",
        start=start,
        end=start + timedelta(minutes=45),
        occupied_start=start - timedelta(minutes=10),
        occupied_end=start + timedelta(minutes=55),
        timezone="Europe/Berlin",
        service_name="Haircut & beard trim",
        price_amount=Decimal("42.50"),
        currency="EUR",
        personal_data=Sealed("auth0|6543a1f09c2d4e0012ab34cd", 1, bytes(range(96))),
        legacy_notes="",
        status=BookingStatus.CONFIRMED,
        resources=[],
        series_id=None,
    )
    (placed,) = booking.collect_events()
    state = dict(vars(placed))
    del state["originator_id"], state["originator_version"]
    return state


def json_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


def rate(job: Callable[[], Any], number: int) -> float:
    """Calls per second over `number` calls of `job`."""
    began = time.perf_counter()
    for _ in range(number):
        job()
    return number / (time.perf_counter() - began)


def jobs_for(transcoder: Transcoder, state: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    encoded = transcoder.encode(state)
    return {
        "encode": lambda: transcoder.encode(state),
        "decode": lambda: transcoder.decode(encoded),
        "round_trip": lambda: transcoder.decode(transcoder.encode(state)),
    }


def measure(
    transcoders: dict[str, Transcoder], state: dict[str, Any], number: int, repeat: int
) -> dict[str, dict[str, list[float]]]:
    """Rates per transcoder and operation; the transcoders take turns within each repeat,
    so a burst of noise on the machine hits both rather than one."""
    jobs = {name: jobs_for(tc, state) for name, tc in transcoders.items()}
    rates: dict[str, dict[str, list[float]]] = {name: {} for name in transcoders}
    for name in transcoders:
        rate(jobs[name]["round_trip"], max(1, number // 10))  # warm up
    for _ in range(repeat):
        for operation in OPERATIONS:
            for name in transcoders:
                rates[name].setdefault(operation, []).append(rate(jobs[name][operation], number))
    return rates


def paired_ratio(fast: list[float], slow: list[float]) -> float:
    return round(statistics.median(f / s for f, s in zip(fast, slow, strict=True)), 3)


def summarise(
    rates: dict[str, dict[str, list[float]]], sizes: dict[str, int]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Best and median calls/s per transcoder; orjson/json as the median of paired ratios."""
    results: dict[str, Any] = {}
    for name, by_op in rates.items():
        results[name] = {"bytes": sizes[name]}
        for op, runs in by_op.items():
            best, median = round(max(runs)), round(statistics.median(runs))
            results[name][op] = {"best_per_s": best, "median_per_s": median}
    ratios = {op: paired_ratio(rates["orjson"][op], rates["json"][op]) for op in OPERATIONS}
    return results, ratios


def check(json_tc: Transcoder, orjson_tc: Transcoder, state: dict[str, Any]) -> dict[str, bool]:
    """Each decodes its own and the other's output to the original state, with equal types."""
    by_json, by_orjson = json_tc.encode(state), orjson_tc.encode(state)
    types_via_json = {k: type(v) for k, v in json_tc.decode(by_orjson).items()}
    types_via_orjson = {k: type(v) for k, v in orjson_tc.decode(by_json).items()}
    return {
        "json_decodes_own": json_tc.decode(by_json) == state,
        "orjson_decodes_own": orjson_tc.decode(by_orjson) == state,
        "json_decodes_orjson": json_tc.decode(by_orjson) == state,
        "orjson_decodes_json": orjson_tc.decode(by_json) == state,
        "same_value_types": types_via_json == types_via_orjson,
        "same_bytes": by_json == by_orjson,
    }


def print_table(results: dict[str, dict[str, Any]], ratios: dict[str, float]) -> None:
    print(f"{'operation':<11} {'json /s':>10} {'orjson /s':>10} {'ratio':>7}")
    for operation in OPERATIONS:
        slow = results["json"][operation]["median_per_s"]
        fast = results["orjson"][operation]["median_per_s"]
        print(f"{operation:<11} {slow:>10,} {fast:>10,} {ratios[operation]:>6.2f}x")
    print("calls/s: median of the runs; ratio: median over runs of orjson/json in the same run")
    print(f"encoded size: json {results['json']['bytes']} B, orjson {results['orjson']['bytes']} B")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation")
    args = parser.parse_args(argv)
    if not 100 <= args.number <= 10_000_000:
        parser.error("--number must be between 100 and 10000000")
    if not 1 <= args.repeat <= 100:
        parser.error("--repeat must be between 1 and 100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = placed_state()
    json_tc, orjson_tc = json_transcoder(), OrjsonTranscoder()
    checks = check(json_tc, orjson_tc, state)
    transcoders: dict[str, Transcoder] = {"json": json_tc, "orjson": orjson_tc}
    rates = measure(transcoders, state, args.number, args.repeat)
    sizes = {name: len(tc.encode(state)) for name, tc in transcoders.items()}
    results, ratios = summarise(rates, sizes)
    print_table(results, ratios)
    print("checks: " + ", ".join(f"{name}={ok}" for name, ok in checks.items()))
    report = {
        "bench": "transcoder",
        "number": args.number,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **results,
        "orjson_over_json": ratios,
        "checks": checks,
    }
    print(json.dumps(report))
    interoperable = {k: v for k, v in checks.items() if k != "same_bytes"}
    return 0 if all(interoperable.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
