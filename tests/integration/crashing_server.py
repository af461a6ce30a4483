"""A write-API process the crash tests SIGKILL and restart, and what clients hear from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from commands.app import SlotWise
from infra.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_concurrent_booking import (
    ROOT,
    WriteServer,
    free_port,
    stop_server,
    wait_healthy,
)

PROBLEMS = "https://slotwise.dev/problems/"
IN_FLIGHT = PROBLEMS + "idempotency-key-in-flight"


class CrashingServer:
    """One write-API process at a time on one store: started, SIGKILLed and started again.

    Each start is a new generation on a new port; `up` is clear while none answers.
    """

    def __init__(self, store_url: str, log_dir: Path, env: dict[str, str]) -> None:
        self.store_url, self.log_dir, self.env = store_url, log_dir, env
        self.processes: list[WriteServer] = []
        self.up = threading.Event()

    def current(self) -> tuple[int, WriteServer]:
        """The generation and process to send to now."""
        generation = len(self.processes) - 1
        return generation, self.processes[generation]

    def start(self) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
        env.update(
            SLOTWISE_EVENT_STORE=self.store_url,
            SLOTWISE_READ_DB=self.store_url,
            SLOTWISE_JWT_SECRET=JWT_SECRET,
            PYTHONUNBUFFERED="1",
            **self.env,
        )
        log = self.log_dir / f"write-api-{len(self.processes)}-{port}.log"
        command = [sys.executable, "-m", "uvicorn", "write_api.app:create_app", "--factory"]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = WriteServer(port, process, log)
        self.processes.append(server)
        wait_healthy(server)
        self.up.set()

    def kill9(self) -> None:
        """SIGKILL the current process (it must still be running) and wait for it to die."""
        self.up.clear()
        _, server = self.current()
        assert server.process.poll() is None, f"the write API died on its own\n{self.logs()}"
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)

    def stop(self) -> None:
        self.up.clear()
        for server in self.processes:
            stop_server(server)

    def logs(self) -> str:
        return "\n".join(
            f"----- write API {n} on port {s.port} (exit code {s.process.poll()}) -----\n"
            f"{s.tail(8_000)}"
            for n, s in enumerate(self.processes)
        )


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, kept whole so a replay can be compared byte for byte."""

    status: int
    content: bytes
    headers: dict[str, str]

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return cls(response.status_code, response.content, headers)

    def __repr__(self) -> str:
        return f"Answer({self.status} {self.content[:200]!r})"

    @property
    def body(self) -> dict[str, Any]:
        try:
            parsed = orjson.loads(self.content)
        except orjson.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def problem_type(self) -> str:
        return str(self.body.get("type", ""))

    @property
    def kind(self) -> str:
        return str(self.status) if self.status < 400 else self.problem_type.removeprefix(PROBLEMS)

    @property
    def in_flight(self) -> bool:
        return self.status == 409 and self.problem_type == IN_FLIGHT

    @property
    def is_final(self) -> bool:
        """A 201, or a 4xx problem other than 'still in flight'."""
        return self.status == 201 or (400 <= self.status < 500 and not self.in_flight)

    @property
    def booking_id(self) -> str | None:
        return str(self.body["id"]) if self.status == 201 else None

    @property
    def retry_after(self) -> int:
        return int(self.headers["retry-after"])


@dataclass(frozen=True)
class Placed:
    booking_id: str
    customer_id: str
    start: datetime


def placed_bookings(app: SlotWise, business_id: str) -> list[Placed]:
    """Every Booking.Placed of the business, read from the event store itself."""
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    assert len(notifications) < 100_000, "raise the limit: the log has grown"
    found = []
    for notification in notifications:
        event: Any = app.mapper.to_domain_event(notification)
        if type(event).__qualname__ == "Booking.Placed" and str(event.business_id) == business_id:
            found.append(Placed(str(event.originator_id), event.customer_id, event.start))
    return found


def read_store(store_url: str, business_id: str) -> tuple[list[Placed], int]:
    """The business's bookings and the end of the notification log, from a fresh reader."""
    settings = Settings(event_store=store_url, read_db=store_url, jwt_secret=JWT_SECRET)
    app = SlotWise(env=settings.eventsourcing_env())
    try:
        return placed_bookings(app, business_id), int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()
