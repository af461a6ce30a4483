"""Live events: one broadcaster per read-API process fans the read side's progress out.

The broadcaster sleeps until the read side advances: the in-process follower
calls it after each pass, or (no follower: Kafka) PostgreSQL's NOTIFY says a
write happened and it checks the projections' progress until they caught up;
a slow poll (SLOTWISE_EVENTS_POLL_SECONDS) is the fallback while streams are
open. Each advance reads the new events from the log once, for every stream of
this process, and puts each into the bounded queue of the streams of its
business. A stream whose queue is full is cut (it resumes by Last-Event-ID).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from anyio import to_thread

from domain.envelope import Envelope
from read_api.consistency import DIRECTORY

log = logging.getLogger(__name__)
# The projections the stream waits for: they know each booking's and service's business.
LIVE = (*DIRECTORY, "service_catalogue", "bookings")
CHASE_SECONDS = 10.0  # after a wakeup, how long to watch for the projections to catch up


@dataclass(eq=False)
class Subscriber:
    """One open stream: its business, its queue, and whether it fell too far behind."""

    business_id: str
    queue: asyncio.Queue[Envelope]
    start: int  # the stream receives events after this position through the queue
    dropped: bool = False


@dataclass
class Sources:
    """What the broadcaster reads (blocking calls, run in threads)."""

    reached: Callable[[], int]  # the position the projections of LIVE reflect
    head: Callable[[], int]  # the end of the event log
    # Up to `limit` records after a position: the last position read, and (business id,
    # envelope) of the public events among them.
    read: Callable[[int, int], tuple[int, list[tuple[str, Envelope]]]]


@dataclass(eq=False)
class Broadcaster:
    """Reads each advance of the read side once and hands it to every stream."""

    sources: Sources
    queue_size: int = 1000
    poll_seconds: float = 1.0
    page: int = 500
    cursor: int = 0
    streams: dict[str, set[Subscriber]] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _task: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="slotwise-live-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake_threadsafe(self) -> None:
        """The read side may have advanced (called from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def subscribe(self, business_id: str) -> Subscriber:
        """A stream of `business_id` from the broadcaster's position on."""
        async with self._lock:
            idle = not self.streams
            if idle:  # idle broadcasters do not follow; catch up without reading
                self.cursor = max(self.cursor, await to_thread.run_sync(self.sources.reached))
            subscriber = Subscriber(business_id, asyncio.Queue(self.queue_size), self.cursor)
            self.streams.setdefault(business_id, set()).add(subscriber)
        if idle:
            # The loop waits without a deadline while idle, and the wakeups of writes made
            # just before (NOTIFY) were spent on no stream: with Kafka the projections may
            # still be behind them, and nothing else would wake it to follow them.
            self._wake.set()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        found = self.streams.get(subscriber.business_id)
        if found is not None:
            found.discard(subscriber)
            if not found:
                del self.streams[subscriber.business_id]

    async def _run(self) -> None:
        while True:
            try:
                timeout = self.poll_seconds if self.streams else None
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._chase()
            except Exception:  # a database away: the next wakeup or poll tries again
                log.exception("live events could not read the log; retrying")

    async def _chase(self) -> None:
        """Advance; if the log is ahead of the projections, keep looking for a while."""
        await self._advance()
        if not self.streams:
            return
        head = await to_thread.run_sync(self.sources.head)
        deadline, pause = time.monotonic() + CHASE_SECONDS, 0.01
        while self.cursor < head and self.streams and time.monotonic() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
            await self._advance()

    async def _advance(self) -> None:
        async with self._lock:
            if not self.streams:
                return
            reached = await to_thread.run_sync(self.sources.reached)
            while self.cursor < reached:
                last, found = await to_thread.run_sync(self.sources.read, self.cursor, self.page)
                for business_id, envelope in found:
                    if envelope.position <= reached:  # the projections know its business
                        self._hand_out(business_id, envelope)
                self.cursor = reached if last <= self.cursor or last >= reached else last

    def _hand_out(self, business_id: str, envelope: Envelope) -> None:
        for subscriber in list(self.streams.get(business_id, ())):
            try:
                subscriber.queue.put_nowait(envelope)
            except asyncio.QueueFull:
                subscriber.dropped = True
                self.unsubscribe(subscriber)
