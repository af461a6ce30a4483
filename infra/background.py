"""The loop every background worker runs: a step, then a pause when it found nothing to do."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PollingLoop:
    """Runs `step` in a thread of its own until `stop`; a failing step (a database outage,
    say) is logged and tried again a second later, never fatal."""

    name = "slotwise-worker"

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by `nudge` and `stop`: end the pause at once
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """One round of work; how much it did (0: wait `poll_seconds` before the next)."""
        raise NotImplementedError

    def run(self) -> None:
        """Loop until `stop` is called."""
        while not self._stop.is_set():
            self._wake.clear()  # a nudge during the step ends the pause that follows it
            try:
                worked = self.step()
            except Exception:
                log.exception("%s: step failed; retrying", self.name)
                self._stop.wait(1.0)
                continue
            if not worked:
                self._wake.wait(self.poll_seconds)

    def nudge(self) -> None:
        """Something was just written: look now instead of after the pause."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
