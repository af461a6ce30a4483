"""The payments role: the payment saga's worker (webhooks' news, hold expiry, Stripe retries)."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from infra.entrypoints.shared import describe, metrics_endpoint, open_container
from infra.logs import configure_logging
from infra.serving import say


def run(data_dir: Path | None, metrics_host: str, metrics_port: int | None) -> None:
    from infra.payments.worker import PaymentWorker

    configure_logging()
    container = open_container(data_dir, role="payments")
    if not container.payments.configured:  # a deployment without online payment
        container.close()
        say("slotwise payments worker: SLOTWISE_STRIPE_API_KEY is not set; nothing to do")
        raise typer.Exit(0)
    worker = PaymentWorker(
        container.payments,
        container.app.recorder,
        container.app.mapper,
        poll_seconds=container.settings.payments_poll_seconds,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    say(f"slotwise payments worker: running; {describe(container.settings)}")
    try:
        with metrics_endpoint(container, "payments worker", metrics_host, metrics_port):
            worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
