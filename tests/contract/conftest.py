"""The fuzzer's tally: every request it made, by app and status, printed at the end of the run
and written to build/schemathesis-summary.json for the closing note."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

# (app, status) -> requests; filled in by the fuzz tests.
TALLY: Counter[tuple[str, int]] = Counter()
SUMMARY = Path(__file__).resolve().parents[2] / "build" / "schemathesis-summary.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    requests = sum(TALLY.values())
    server_errors = sum(n for (_, status), n in TALLY.items() if status >= 500 and status != 503)
    by_status = Counter[int]()
    for (_, status), n in TALLY.items():
        by_status[status] += n
    summary = {
        "requests": requests,
        "server_errors": server_errors,
        "by_app": {app: sum(n for (a, _), n in TALLY.items() if a == app) for app, _ in TALLY},
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
    }
    SUMMARY.parent.mkdir(exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    terminalreporter.write_line(
        f"schemathesis: {requests} requests, {server_errors} server errors (5xx but 503); "
        f"statuses {summary['by_status']} (also in {SUMMARY.relative_to(SUMMARY.parents[1])})"
    )
