"""What the embedded stack's background passes cost: CPU and wall time per pass, by thread.

Runs `bench/lag.py --stacks embedded` (20/s for --seconds, then --sequential bookings one
at a time) from each tree in turn, --rounds times, with bench/pass_timing on the
`slotwise dev` process's path: every pass of the projection follower and of the waitlist
and webhook workers is timed with its thread's CPU clock. Prints, per tree, each kind of
pass's count, wall p50/p99, CPU p50/p99 and total CPU (medians over the rounds), then one
JSON line. The instrumentation costs a few microseconds a pass.

    .venv/bin/python bench/pass_cpu.py [--trees .,/path/to/other/checkout]
        [--rounds 2] [--sequential 400] [--seconds 5]

Each tree needs infra/follower.py's `catch_up` and the two workers (any release since the
webhook worker came).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import harness

TIMING = harness.ROOT / "bench" / "pass_timing"


Passes = dict[str, list[tuple[float, float]]]


def run_once(tree: Path, args: argparse.Namespace) -> tuple[Passes, str]:
    """One lag run from `tree`: its passes as (wall ms, CPU ms) by kind, and its lag rows."""
    with tempfile.NamedTemporaryFile(prefix="slotwise-passes-", suffix=".txt") as record:
        env = {
            **os.environ,
            "SLOTWISE_PASS_TIMING": record.name,
            "PYTHONPATH": os.pathsep.join([str(tree), str(TIMING)]),
        }
        command = [sys.executable, str(tree / "bench" / "lag.py"), "--stacks", "embedded"]
        command += ["--rates", "20", "--seconds", str(args.seconds)]
        command += ["--sequential", str(args.sequential)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bench/lag.py from {tree} failed:\n{done.stdout}\n{done.stderr}")
        passes: Passes = defaultdict(list)
        for line in Path(record.name).read_text().splitlines():
            name, _began, wall, cpu, _count = line.split()
            passes[name].append((1000 * float(wall), 1000 * float(cpu)))
    rows = "\n".join(r for r in done.stdout.splitlines() if r.startswith("embedded"))
    return passes, rows


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(passes: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [w for w, _ in passes], [c for _, c in passes]
    return {
        "passes": len(passes),
        "wall_p50_ms": round(quantile(walls, 0.5), 2),
        "wall_p99_ms": round(quantile(walls, 0.99), 2),
        "cpu_p50_ms": round(quantile(cpus, 0.5), 2),
        "cpu_p99_ms": round(quantile(cpus, 0.99), 2),
        "cpu_total_ms": round(sum(cpus), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", default=str(harness.ROOT), help="checkouts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sequential", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    trees = [Path(t).resolve() for t in args.trees.split(",") if t.strip()]
    figures: dict[str, dict[str, list[dict[str, float]]]] = {}
    for tree in trees:
        figures[str(tree)] = defaultdict(list)
    for round_no in range(args.rounds):
        for tree in trees if round_no % 2 == 0 else list(reversed(trees)):
            harness.progress(f"round {round_no + 1}/{args.rounds}: {tree}")
            passes, rows = run_once(tree, args)
            print(f"{tree} round {round_no + 1}\n{rows}")
            for name, timed in passes.items():
                figures[str(tree)][name].append(summary(timed))
    results: dict[str, Any] = {}
    print(
        f"{'tree / pass':<52} {'n':>5} {'wall p50':>9} {'p99':>7} {'CPU p50':>8} {'p99':>7}"
        f" {'total':>8}"
    )
    for tree, kinds in figures.items():
        results[tree] = {}
        for name, rounds in sorted(kinds.items()):
            median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            results[tree][name] = median
            label = f"{Path(tree).name}: {name}"[:52]
            print(
                f"{label:<52} {median['passes']:>5.0f} {median['wall_p50_ms']:>9.2f} "
                f"{median['wall_p99_ms']:>7.2f} {median['cpu_p50_ms']:>8.2f} "
                f"{median['cpu_p99_ms']:>7.2f} {median['cpu_total_ms']:>8.0f}"
            )
    machine = harness.machine()
    harness.emit({"bench": "pass_cpu", **machine, "rounds": args.rounds, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
