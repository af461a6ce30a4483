"""Prometheus metrics of one process: requests, command outcomes, conflicts, projections.

Each container has its own registry, so two apps built in one process (tests,
`slotwise dev`) never collide; the `api` label tells the write and read APIs
apart. Under `--workers N` the CLI sets `PROMETHEUS_MULTIPROC_DIR` before the
workers start: counters and histograms then live in files there and every
worker answers with the sum of all of them (prometheus_client's multiprocess
mode). The gauges are computed when scraped, from the databases, so whichever
worker answers reads the same; there are no live `Gauge` objects, hence no
`multiprocess_mode` to choose.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ProjectionCollector(Collector):
    """Each projector's position and lag behind the event log, read when scraped.

    Takes two callables so it does not care how consumers track their positions
    (the consumer runtime's checkpoints in the embedded log, or Kafka's).
    """

    def __init__(
        self, positions: Callable[[], dict[str, int]], head: Callable[[], int | None]
    ) -> None:
        self.positions, self.head = positions, head

    def collect(self) -> Iterator[Metric]:
        try:
            positions, head = self.positions(), self.head() or 0
        except Exception as error:  # a scrape must not fail because a database is down
            log.warning("projection positions unavailable: %s", error.__class__.__name__)
            return
        position = GaugeMetricFamily(
            "slotwise_projection_position",
            "Last event log position applied by each projector",
            labels=["projector"],
        )
        lag = GaugeMetricFamily(
            "slotwise_projection_lag_events",
            "Events recorded but not yet applied by each projector",
            labels=["projector"],
        )
        for name, at in sorted(positions.items()):
            position.add_metric([name], at)
            lag.add_metric([name], max(head - at, 0))
        yield position
        yield lag
        yield GaugeMetricFamily(
            "slotwise_event_log_head", "Position of the newest recorded event", value=head
        )


class GaugeCollector(Collector):
    """One gauge family whose labelled values are read when scraped (dead letters, Kafka lag).

    A scrape must not fail because a database is down: the family is then left out
    and a warning names what was unavailable.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: list[str],
        read: Callable[[], Iterable[tuple[Sequence[str], int]]],
    ) -> None:
        self.name, self.documentation, self.labels, self.read = name, documentation, labels, read

    def collect(self) -> Iterator[Metric]:
        try:
            values = self.read()
        except Exception as error:
            log.warning("%s unavailable: %s", self.name, error.__class__.__name__)
            return
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, value in sorted(values, key=lambda row: tuple(row[0])):
            family.add_metric(list(labels), value)
        yield family


class WorkerProcessCollector(Collector):
    """`process_*` of every live worker sharing a multiprocess directory, labelled by `pid`.

    The library's ProcessCollector reports only the process that answers the
    scrape, which alternates between workers; MultiProcessCollector reports none.
    """

    def __init__(self, directory: str, proc: str = "/proc") -> None:
        self.directory, self.proc = directory, proc

    def live_pids(self) -> list[int]:
        """Workers that wrote metrics files (each does at start) and still run."""
        found = {f.stem.rsplit("_", 1)[-1] for f in Path(self.directory).glob("*_*.db")}
        return sorted(int(pid) for pid in found if pid.isdigit() and Path(self.proc, pid).is_dir())

    def read(self, pid: int) -> Iterable[Metric]:
        return ProcessCollector(pid=lambda: pid, proc=self.proc, registry=None).collect()

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for pid in self.live_pids():
            for family in self.read(pid):
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    into.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from merged.values()


class Metrics:
    """The metrics one process exposes on /metrics."""

    def __init__(self) -> None:
        # The `_created` series exist in one mode and not the other: leave them out in both.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the library is untyped here
        self.registry = CollectorRegistry()
        shared = os.environ.get(MULTIPROCESS_DIR)
        owned = None if shared else self.registry  # in multiprocess mode values live in files
        self.requests = Histogram(
            "slotwise_http_request_duration_seconds",
            "HTTP requests by API, method, route template and status",
            ["api", "method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=owned,
        )
        self.commands = Counter(
            "slotwise_command_outcomes",
            "Commands by name and result (ok, or the problem type's slug)",
            ["command", "result"],
            registry=owned,
        )
        self.conflict_retries = Counter(
            "slotwise_conflict_retries",
            "Commands re-run because a concurrent writer changed an aggregate first",
            registry=owned,
        )
        self.rate_limited = Counter(
            "slotwise_rate_limited_requests",
            "Requests refused with 429, by API and limit (address or token)",
            ["api", "scope"],
            registry=owned,
        )
        self.rate_limiter_unavailable = Counter(
            "slotwise_rate_limiter_unavailable",
            "Requests let through unlimited because the limiter's Redis was away (fail open)",
            registry=owned,
        )
        if shared:
            MultiProcessCollector(self.registry, shared)  # type: ignore[no-untyped-call]
            self.registry.register(WorkerProcessCollector(shared))
        else:
            ProcessCollector(registry=self.registry)

    def watch_projections(
        self, positions: Callable[[], dict[str, int]], head: Callable[[], int | None]
    ) -> None:
        self.registry.register(ProjectionCollector(positions, head))

    def watch_dead_letters(self, counts: Callable[[], dict[tuple[str, str], int]]) -> None:
        """Events each consumer parked after repeated failures, or holds behind them."""
        self.registry.register(
            GaugeCollector(
                "slotwise_dead_letter_events",
                "Events a consumer parked after repeated failures (parked) or holds behind "
                "them (held)",
                ["consumer", "status"],
                lambda: counts().items(),
            )
        )

    def watch_kafka_lag(self, lag: Callable[[], dict[str, int]]) -> None:
        """What the relay has yet to publish and each projector yet to apply, through Kafka."""
        self.registry.register(
            GaugeCollector(
                "slotwise_kafka_lag_events",
                "Events the relay has yet to publish, and messages each projector has yet to apply",
                ["consumer"],
                lambda: [((consumer,), behind) for consumer, behind in lag().items()],
            )
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
