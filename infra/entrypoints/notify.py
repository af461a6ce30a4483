"""The notify role: the notification worker (emails, SMS, reminders) and webhook deliveries."""

from __future__ import annotations

import signal
from pathlib import Path

from infra.entrypoints.shared import describe, metrics_endpoint, open_container
from infra.logs import configure_logging
from infra.serving import say


def run(data_dir: Path | None, metrics_host: str, metrics_port: int | None) -> None:
    from infra.notify.service import NotifyWorker

    configure_logging()
    container = open_container(data_dir)
    assert container.notify is not None  # the composition root always builds it
    worker = NotifyWorker(container.notify, container.app, container.settings.notify_poll_seconds)
    container.start_webhook_worker()  # webhook deliveries in a thread of this process
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    say(f"slotwise notify: running; {describe(container.settings)}")
    try:
        with metrics_endpoint(container, "notify", metrics_host, metrics_port):
            worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
