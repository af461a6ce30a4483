"""The relay role: publishes the event log to Kafka."""

from __future__ import annotations

from infra.entrypoints.shared import describe, metrics_endpoint, production_settings, sentences
from infra.logs import configure_logging
from infra.serving import say


def run(log_level: str | None, metrics_host: str, metrics_port: int | None) -> None:
    from infra.bootstrap import build_relay as relay_role
    from infra.kafka.processes import build_relay, run_until_signalled

    configure_logging(log_level)
    with sentences():
        settings = production_settings()
        say(f"slotwise relay: {describe(settings)}; Kafka {settings.kafka}")
        container = relay_role(settings)
    try:
        with metrics_endpoint(container, "relay", metrics_host, metrics_port):
            run_until_signalled(build_relay(container))
    finally:
        container.close()
