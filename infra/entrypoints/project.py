"""The project role: a Kafka consumer group member feeding the read models."""

from __future__ import annotations

from infra.entrypoints.shared import (
    describe,
    fail,
    metrics_endpoint,
    production_settings,
    sentences,
)
from infra.logs import configure_logging
from infra.serving import say


def run(
    names: list[str], log_level: str | None, metrics_host: str, metrics_port: int | None
) -> None:
    from infra.bootstrap import build_projectors
    from infra.kafka.processes import build_worker, run_until_signalled

    configure_logging(log_level)
    with sentences():
        settings = production_settings()
        say(f"slotwise project: {describe(settings)}; Kafka {settings.kafka}")
        container = build_projectors(settings)
    try:
        try:
            worker = build_worker(container, names)
        except KeyError as error:
            fail(str(error.args[0]))
        with metrics_endpoint(container, "project", metrics_host, metrics_port):
            run_until_signalled(worker)
    finally:
        container.close()
