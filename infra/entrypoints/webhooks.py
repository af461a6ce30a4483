"""The webhooks role: webhook deliveries alone (`slotwise notify` runs them too)."""

from __future__ import annotations

import signal
from pathlib import Path

from infra.entrypoints.shared import describe, open_container
from infra.logs import configure_logging
from infra.serving import say


def run(data_dir: Path | None) -> None:
    from infra.webhooks.worker import WebhookWorker, build_webhooks

    configure_logging()
    container = open_container(data_dir)
    assert container.event_store_tables is not None  # the composition root always builds it
    hooks = build_webhooks(
        container.settings, container.app, container.event_store_tables, container.clock
    )
    worker = WebhookWorker(hooks, container.app, container.settings.webhooks_poll_seconds)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    say(f"slotwise webhooks worker: running; {describe(container.settings)}")
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        container.close()
