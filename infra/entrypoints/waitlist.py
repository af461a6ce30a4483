"""The waitlist role: the process manager that offers freed seats to the line and ends offers."""

from __future__ import annotations

import signal
from pathlib import Path

from infra.entrypoints.shared import describe, metrics_endpoint, open_container
from infra.logs import configure_logging
from infra.serving import say


def run(data_dir: Path | None, metrics_host: str, metrics_port: int | None) -> None:
    from infra.waitlist.service import WaitlistWorker

    configure_logging()
    container = open_container(data_dir, role="waitlist")
    worker = WaitlistWorker(
        container.waitlist, container.app, container.settings.waitlist_poll_seconds
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    say(f"slotwise waitlist: running; {describe(container.settings)}")
    try:
        with metrics_endpoint(container, "waitlist", metrics_host, metrics_port):
            worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
