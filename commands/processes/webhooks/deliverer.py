"""The deliverer: sends the head of each webhook's queue, a bounded pool of them at once.

A webhook's next event waits until the current one is delivered or
dead-lettered (log order per webhook); webhooks never wait for each other: a
slow endpoint holds one pool thread and its own queue, nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from commands.processes.webhooks.ports import (
    DeliveryQueue,
    Disabler,
    Due,
    SecretReader,
    Sender,
)
from commands.processes.webhooks.retries import RetrySchedule
from commands.processes.webhooks.signing import headers

log = logging.getLogger(__name__)
PENDING, DELIVERED, GONE, DEAD = "pending", "delivered", "gone", "dead"


class Deliverer:
    """Claims due queue heads and sends them on a pool of `concurrency` threads."""

    RUN_LENGTH = 100  # deliveries in a row for one webhook before its thread is given back

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: Sender,
        secrets: SecretReader,
        disable: Disabler,
        clock: Callable[[], datetime],
        schedule: RetrySchedule | None = None,
        concurrency: int = 16,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.queue, self.sender, self.secrets = queue, sender, secrets
        self.disable, self.clock, self.wall = disable, clock, wall
        self.schedule = schedule or RetrySchedule()
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="slotwise-webhook")
        self._busy: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def dispatch(self) -> int:
        """Start an attempt for each due head whose webhook is not busy; returns how many."""
        with self._lock:
            self._busy = {k: f for k, f in self._busy.items() if not f.done()}
            room = self.concurrency - len(self._busy)
            if room <= 0:
                return 0
            heads = self.queue.claim_heads(self.clock(), set(self._busy), room)
            for due in heads:
                self._busy[due.webhook_id] = self._pool.submit(self.attempt, due)
            return len(heads)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for the attempts in flight (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        for future in list(self._busy.values()):
            future.result(timeout=max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def attempt(self, due: Due) -> None:
        """Send `due`; while that succeeds, go on with the webhook's next due event at once."""
        for run in range(1, self.RUN_LENGTH + 1):
            try:
                if not self._attempt(due) or run == self.RUN_LENGTH:
                    return
            except Exception:  # the claim's lease runs out and the head is tried again
                log.exception("webhook delivery %s failed unexpectedly", due.delivery_id)
                return
            heads = self.queue.claim_heads(self.clock(), set(), 1, only=due.webhook_id)
            if not heads:
                return
            due = heads[0]

    def _attempt(self, due: Due) -> bool:
        """One try; True when it was delivered."""
        body = due.body
        signed = headers(self.secrets.reveal(due.secret_ids), due.event_id, int(self.wall()), body)
        answer = self.sender.send(due.url, signed, body)
        now = self.clock()
        if answer.status is not None and 200 <= answer.status < 300:
            self.queue.record(due, answer, now, DELIVERED, None)
            return True
        if answer.status == 410:
            self.queue.record(due, answer, now, GONE, None)
            self._give_up(due, "the endpoint answered 410 Gone")
        elif self.schedule.exhausted(due.first_attempt_at or now, now):
            self.queue.record(due, answer, now, DEAD, None)
            hours = self.schedule.give_up_after.total_seconds() / 3600
            self._give_up(due, f"no success in {hours:g} hours: dead-lettered")
        else:
            later = now + self.schedule.delay(due.attempts + 1)
            self.queue.record(due, answer, now, PENDING, later)
        return False

    def _give_up(self, due: Due, reason: str) -> None:
        """Disable the webhook: its `disabled` event is what the notifier emails the owner of."""
        log.warning("webhook %s disabled: %s", due.webhook_id, reason)
        self.disable(due.webhook_id, reason, due.event_id)
