"""What `/ready` checks beyond the databases, and the lag a metrics collector can read."""

from __future__ import annotations

import socket
from collections.abc import Callable

from infra.bootstrap import Container


def kafka_reachable(servers: list[str], timeout: float = 1.0) -> None:
    """Raise unless one of the bootstrap servers accepts a connection."""
    errors = []
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout).close()
            return
        except (OSError, ValueError) as error:
            errors.append(f"{server}: {error}")
    raise ConnectionError("; ".join(errors) or "no Kafka bootstrap servers configured")


def redis_reachable(container: Container) -> None:
    """PING through the process's Redis client (its deadlines apply; its breaker does not)."""
    if container.redis is not None:
        container.redis.client.ping()


def lag(container: Container) -> dict[str, int]:
    """Events the relay has yet to publish, and messages each projector has yet to apply.

    Empty on the embedded stack (the follower has no lag of its own to report).
    """
    if container.kafka_progress is None:
        return {}
    written = container.app.recorder.max_notification_id() or 0
    return container.kafka_progress.lag(written)


def production_probes(container: Container) -> dict[str, Callable[[], object]]:
    """The extra dependencies this configuration has: Kafka, Redis."""
    probes: dict[str, Callable[[], object]] = {}
    if container.settings.kafka:
        probes["kafka"] = lambda: kafka_reachable(container.settings.kafka_servers)
    if container.settings.redis:
        probes["redis"] = lambda: redis_reachable(container)
    return probes
