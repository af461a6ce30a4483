"""Read-your-writes and lag through Kafka.

The relay publishes in global-position order and Kafka keeps order within a
partition, so a consumer that applied position p in a partition holds every
event of that partition older than p. A partition that received nothing
recent is known to be caught up through the relay's record of what it
published there. A token T is reached by a consumer when the relay's saved
position is >= T and, in every (topic, partition) the relay published to,
the consumer's checkpoint has position >= T or offset >= the last offset the
relay published there (as of the relay's saved position). A consumer that
stopped right before a batch of the relay began in a partition (offset + 1 is
that batch's first offset) holds every event there older than the batch's first
position, which keeps an idle or stopped consumer's old tokens answerable. So:

    reached = min(relay position, min over partitions of
                  relay position               if offset >= published offset
                  max(checkpoint position, batch start position - 1)
                                               if a relay batch began at offset + 1
                  checkpoint position          otherwise)

The relay's state is read first and the consumers' second; both only grow, so
the answer is never ahead of the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from infra.consumers.runtime import NOTHING_YET, Checkpoint, ConsumerRuntime
from infra.consumers.tables import checkpoints, dead_letters
from infra.follower import LOG_PARTITION, LOG_SOURCE
from infra.kafka.relay_tables import RELAY, batch_starts, published, published_so_far


@dataclass(frozen=True)
class RelayState:
    position: int
    published: dict[tuple[str, int], tuple[int, int]]  # (topic, partition) -> (position, offset)


def relay_state(event_store: Engine) -> RelayState:
    with event_store.connect() as conn:
        position = conn.execute(
            select(checkpoints.c.last_position).where(
                (checkpoints.c.consumer == RELAY)
                & (checkpoints.c.source == LOG_SOURCE)
                & (checkpoints.c.partition == LOG_PARTITION)
            )
        ).scalar_one_or_none()
        if position is None:
            return RelayState(0, {})
        return RelayState(int(position), published_so_far(conn))


def consumer_checkpoints(
    read_db: Engine, consumers: Iterable[str], topics: Iterable[str]
) -> dict[tuple[str, str, int], Checkpoint]:
    """(consumer, topic, partition) -> checkpoint, for the given consumers and topics."""
    with read_db.connect() as conn:
        rows = conn.execute(
            select(checkpoints).where(
                checkpoints.c.consumer.in_(list(consumers)) & checkpoints.c.source.in_(list(topics))
            )
        )
        return {
            (r.consumer, r.source, r.partition): Checkpoint(r.last_offset, r.last_position)
            for r in rows
        }


class KafkaProgress:
    """The read-your-writes oracle and the lag of each projector, fed by Kafka."""

    def __init__(self, event_store: Engine, runtime: ConsumerRuntime) -> None:
        self.event_store, self.runtime = event_store, runtime

    def reached(self, consumers: tuple[str, ...]) -> int:
        """The log position that all of `consumers` reflect."""
        relay = relay_state(self.event_store)
        topics = {topic for topic, _ in relay.published}
        found = consumer_checkpoints(self.runtime.engine, consumers, topics)
        behind: list[tuple[str, int, Checkpoint]] = []
        for (topic, partition), (_, last_offset) in relay.published.items():
            for name in consumers:
                mine = found.get((name, topic, partition), Checkpoint(NOTHING_YET, 0))
                if mine.offset < last_offset:
                    behind.append((topic, partition, mine))
        if not behind:
            return relay.position
        with self.event_store.connect() as conn:
            starts = batch_starts(conn, {(t, p, c.offset + 1) for t, p, c in behind})
        reached = relay.position
        for topic, partition, mine in behind:
            start = starts.get((topic, partition, mine.offset + 1))
            held = mine.position if start is None else max(mine.position, start - 1)
            reached = min(reached, held)
        return reached

    def hurry(self) -> None:
        """Nothing to wake: the projector workers poll Kafka on their own."""

    def after_next_pass(self, callback: Callable[[], None]) -> bool:
        """No pass to wait for here (the workers are other processes): the reader polls."""
        return False

    def relay_parked(self) -> int:
        """Events Kafka refused (and those held behind them): the relay's dead letters."""
        with self.event_store.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(dead_letters)
                .where(dead_letters.c.consumer == RELAY)
            ).scalar_one()
        return int(count)

    def lag(self, written: int) -> dict[str, int]:
        """Events the relay has yet to publish, and messages each projector has yet to apply."""
        relay = relay_state(self.event_store)
        names = [c.name for c in self.runtime.consumers]
        topics = {topic for topic, _ in relay.published}
        found = consumer_checkpoints(self.runtime.engine, names, topics)
        lag = {"relay": max(written - relay.position, 0)}
        for name in names:
            lag[name] = sum(
                max(last_offset - found.get((name, t, p), Checkpoint(NOTHING_YET, 0)).offset, 0)
                for (t, p), (_, last_offset) in relay.published.items()
            )
        return lag


__all__ = ["KafkaProgress", "RelayState", "published", "relay_state"]
