"""The live-events broadcaster: one read per advance for every stream, slow streams cut."""

from __future__ import annotations

import asyncio

from domain.envelope import Envelope
from read_api.live import Broadcaster, Sources


def envelope(position: int, subject: str) -> Envelope:
    return Envelope(
        id=str(position),
        type="slotwise.booking.placed",
        subject=subject,
        time="2027-03-01T12:00:00+00:00",
        data={},
        position=position,
        aggregatetype="booking",
        aggregateversion=1,
        schemaversion=1,
        actorid="ann",
        actorrole="customer",
        correlationid="c",
        causationid="c",
    )


class Log:
    """A log of events of businesses "a" and "b", and how often it was read."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Envelope]] = []
        self.reached = 0
        self.reads = 0

    def append(self, business: str) -> None:
        position = len(self.entries) + 1
        self.entries.append((business, envelope(position, f"booking-{position}")))
        self.reached = position

    def read(self, after: int, limit: int) -> tuple[int, list[tuple[str, Envelope]]]:
        self.reads += 1
        found = [(b, e) for b, e in self.entries if e.position > after][:limit]
        return (found[-1][1].position if found else after), found

    def sources(self) -> Sources:
        return Sources(lambda: self.reached, lambda: len(self.entries), self.read)


def test_each_advance_is_read_once_for_every_stream_of_its_business() -> None:
    async def scenario() -> None:
        log = Log()
        broadcaster = Broadcaster(log.sources(), poll_seconds=60)
        broadcaster.start()
        streams = [await broadcaster.subscribe(b) for b in ("a", "a", "b")]
        for business in ("a", "b", "a"):
            log.append(business)
        broadcaster.wake_threadsafe()
        for stream, count in zip(streams, (2, 2, 1), strict=True):
            got = [await asyncio.wait_for(stream.queue.get(), 1) for _ in range(count)]
            assert all(e.position <= 3 for e in got)
            assert stream.queue.empty()
        assert log.reads == 1
        await broadcaster.stop()

    asyncio.run(scenario())


def test_a_stream_too_far_behind_is_dropped_and_others_go_on() -> None:
    async def scenario() -> None:
        log = Log()
        broadcaster = Broadcaster(log.sources(), queue_size=2, poll_seconds=60)
        broadcaster.start()
        slow, fast = await broadcaster.subscribe("a"), await broadcaster.subscribe("a")
        for _ in range(2):
            log.append("a")
        broadcaster.wake_threadsafe()
        await asyncio.wait_for(fast.queue.get(), 1)
        await asyncio.wait_for(fast.queue.get(), 1)
        log.append("a")
        broadcaster.wake_threadsafe()
        assert (await asyncio.wait_for(fast.queue.get(), 1)).position == 3
        assert slow.dropped and slow not in broadcaster.streams["a"]
        await broadcaster.stop()

    asyncio.run(scenario())


def test_an_idle_broadcaster_reads_nothing_and_starts_new_streams_at_the_present() -> None:
    async def scenario() -> None:
        log = Log()
        broadcaster = Broadcaster(log.sources(), poll_seconds=60)
        broadcaster.start()
        for _ in range(5):
            log.append("a")
        broadcaster.wake_threadsafe()
        await asyncio.sleep(0.05)
        stream = await broadcaster.subscribe("a")
        assert log.reads == 0 and stream.start == 5
        await broadcaster.stop()

    asyncio.run(scenario())


def test_a_stream_opened_on_an_idle_broadcaster_gets_what_the_projections_reach_later() -> None:
    """Kafka: the writes' wakeups came while no stream was open and before the projections
    had the events; the stream still gets them once they do, with no further wakeup."""

    async def scenario() -> None:
        log = Log()
        broadcaster = Broadcaster(log.sources(), poll_seconds=60)
        broadcaster.start()
        log.append("a")
        for _ in range(2):
            log.append("a")
            log.reached = 1  # the projections are behind the log
        broadcaster.wake_threadsafe()  # the writes' NOTIFY, spent while idle
        await asyncio.sleep(0.05)
        stream = await broadcaster.subscribe("a")
        assert stream.start == 1
        log.reached = 3  # the projector workers catch up; nobody says so
        got = [await asyncio.wait_for(stream.queue.get(), 2) for _ in range(2)]
        assert [e.position for e in got] == [2, 3]
        await broadcaster.stop()

    asyncio.run(scenario())
