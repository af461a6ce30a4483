"""Off a terminal, a rebuild reports progress as a plain line every few seconds."""

from __future__ import annotations

import io

from infra.rebuild import PlainProgress


def test_progress_lines_give_events_done_rate_and_eta_every_few_seconds() -> None:
    now = [100.0]
    out = io.StringIO()
    progress = PlainProgress(total=10_000, every=2.0, out=out, clock=lambda: now[0])

    now[0] = 101.0
    progress.advance(2_000)  # within the first two seconds: quiet
    now[0] = 102.0
    progress.advance(2_000)
    now[0] = 104.0
    progress.advance(6_000)  # the last batch always reports

    assert out.getvalue().splitlines() == [
        "rebuild: 4000/10000 events (40%), 2,000 events/s, ETA 3s",
        "rebuild: 10000/10000 events (100%), 2,500 events/s, ETA 0s",
    ]
