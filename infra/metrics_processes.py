"""Metrics across processes: the shared directory of API workers, and a port for each worker role.

Under `--workers N`, uvicorn's workers answer one port in turn; each keeping its
own counters made consecutive scrapes disagree. They write to one private
directory instead (prometheus_client's multiprocess mode), which the CLI makes
before they start and removes when the server stops. The relay, projector and
payment workers are not HTTP servers: `--metrics-port` gives each a plain one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socket import socket

import uvicorn
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.supervisors import Multiprocess

from infra.metrics import MULTIPROCESS_DIR


@contextmanager
def private_multiprocess_dir(name: str) -> Iterator[str]:
    """A fresh, empty directory for one server's workers, named in their environment.

    Set before prometheus_client is imported by the workers (they are spawned),
    so their counters go to files there; stale files of another run can never be
    summed in, since no two servers share a directory.
    """
    directory = tempfile.mkdtemp(prefix=f"slotwise-{name}-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
        shutil.rmtree(directory, ignore_errors=True)


class MetricsSupervisor(Multiprocess):
    """uvicorn's worker supervisor, telling prometheus_client about each worker it loses.

    A worker that died or was retired (restart, SIGTTOU) keeps its counters in
    the totals; `mark_process_dead` drops what only a live process may report.
    """

    def __init__(self, config: uvicorn.Config, sockets: list[socket], directory: str) -> None:
        super().__init__(config, sockets)
        self.directory = directory

    def keep_subprocess_alive(self) -> None:
        self._marking(super().keep_subprocess_alive)

    def handle_signals(self) -> None:
        self._marking(super().handle_signals)

    def _marking(self, step: Callable[[], None]) -> None:
        before = {process.pid for process in self.processes}
        step()
        for pid in before - {process.pid for process in self.processes}:
            if pid is not None:
                mark_process_dead(pid, self.directory)  # type: ignore[no-untyped-call]


def start_metrics_port(
    registry: CollectorRegistry, host: str, port: int
) -> tuple[int, Callable[[], None]]:
    """Serve `registry` at http://host:port/metrics from a thread; OSError if it cannot listen.

    Returns the port (the one the system chose, for 0) and the function that stops it.
    """
    server, thread = start_http_server(port, addr=host, registry=registry)

    def stop() -> None:
        server.shutdown()  # returns once the serving thread has left its loop
        server.server_close()
        thread.join(timeout=5)

    return int(server.server_port), stop
