"""Times the embedded stack's background passes, for bench/pass_cpu.py (never imported by
SlotWise: Python loads it at start when this directory is on PYTHONPATH).

With SLOTWISE_PASS_TIMING=FILE it appends one line per pass to FILE: what passed (the
follower's and each worker's `catch_up`, by thread name, counted when it delivered
something; the waitlist and webhook workers' whole steps), then its start (perf_counter),
wall seconds, CPU seconds of its thread, and how many records or tasks it handled.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

PATH = os.environ.get("SLOTWISE_PASS_TIMING")


def _install(path: str) -> None:
    import infra.follower as follower
    from infra.waitlist.service import WaitlistWorker
    from infra.webhooks.worker import WebhookWorker

    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life
    lock = threading.Lock()

    def write(name: str, began: float, cpu_began: float, count: int) -> None:
        wall, cpu = time.perf_counter() - began, time.thread_time() - cpu_began
        with lock:
            out.write(f"{name} {began:.6f} {wall:.6f} {cpu:.6f} {count}\n")

    real_catch_up = follower.catch_up

    def catch_up(*args: Any, **kwargs: Any) -> int:
        began, cpu_began = time.perf_counter(), time.thread_time()
        read: int = real_catch_up(*args, **kwargs)
        if read:
            name = "catch_up:" + threading.current_thread().name.replace(" ", "_")
            write(name, began, cpu_began, read)
        return read

    follower.catch_up = catch_up  # the follower calls it through the module

    def timed(cls: type[Any]) -> None:
        real_step: Callable[[Any], int] = cls.step

        def step(self: Any) -> int:
            began, cpu_began = time.perf_counter(), time.thread_time()
            done = real_step(self)
            write(f"step:{cls.__name__}", began, cpu_began, done)
            return done

        cls.step = step

    timed(WaitlistWorker)
    timed(WebhookWorker)


if PATH:
    _install(PATH)
