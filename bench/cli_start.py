"""How long `slotwise token` and `slotwise --help` take from a cold process (issue 19).

Runs each command --runs times (default 10) as a new process of this
checkout's virtualenv, with a throwaway HS256 secret, and reports the best and
median wall time and the best CPU time (user + system, from the children's
resource usage). The best run is the figure to compare: on a shared machine
the others measure the neighbours.

    .venv/bin/python bench/cli_start.py [--runs 10]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import harness

SLOTWISE = Path(sys.executable).with_name("slotwise")
COMMANDS = {
    "token": [str(SLOTWISE), "token", "--sub", "bench", "--role", "owner"],
    "help": [str(SLOTWISE), "--help"],
}


def timed(command: list[str], runs: int) -> dict[str, float]:
    env = {**os.environ, "SLOTWISE_JWT_SECRET": "bench-secret-of-at-least-32-characters!"}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "best_s": round(min(walls), 3),
        "median_s": round(statistics.median(walls), 3),
        "cpu_best_s": round(min(cpus), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    results = {name: timed(command, args.runs) for name, command in COMMANDS.items()}
    print(f"{'command':10} {'best s':>8} {'median s':>9} {'cpu best s':>11}")
    for name, figures in results.items():
        print(
            f"{name:10} {figures['best_s']:8.3f} {figures['median_s']:9.3f} "
            f"{figures['cpu_best_s']:11.3f}"
        )
    print(json.dumps({"bench": "cli_start", "runs": args.runs, **harness.machine(), **results}))


if __name__ == "__main__":
    main()
