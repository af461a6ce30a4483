"""The relay publishes the event store to Kafka: once, in order, keyed, by one leader."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from commands.messages import CancelBooking, PlaceBooking
from infra.bootstrap import Container, bootstrap
from infra.consumers.dead_letters import DeadLetters
from infra.follower import read_log
from infra.kafka.processes import build_relay
from infra.kafka.relay import Relay
from infra.kafka.relay_tables import RELAY
from infra.settings import Settings
from tests.kafka.conftest import CUSTOMERS, Threads, Workload, wait_until
from tests.kafka_broker import Broker
from tests.kafka_messages import assert_follows_the_contract, read_topics

PUBLIC = ("business", "service", "booking")


def relay_position(relay: Relay) -> int:
    return relay.runtime.checkpoints("log", 0)[RELAY].offset


def start_relay(settings: Settings, threads: Threads) -> Relay:
    container = bootstrap(settings)
    relay = build_relay(container)
    threads.start(relay, container)
    return relay


def written(container: Container) -> int:
    return int(container.app.recorder.max_notification_id() or 0)


def test_every_public_event_is_published_once_in_order_keyed_by_its_aggregate(
    container: Container, settings: Settings, threads: Threads
) -> None:
    load = Workload(container)
    for _ in range(40):
        load.next()
    relay = start_relay(settings, threads)

    wait_until(lambda: relay_position(relay) >= written(container), what="the relay")
    messages = read_topics(settings)

    log = read_log(container.app.recorder, container.app.mapper, 0, 10_000)
    public = [d.envelope for d in log if d.envelope.aggregatetype in PUBLIC]
    assert sorted(m.value["id"] for m in messages) == sorted(e.id for e in public)
    assert {m.value["aggregatetype"] for m in messages} == set(PUBLIC)  # no internal ones
    by_partition = defaultdict(list)
    for m in messages:
        by_partition[(m.topic, m.partition)].append(m.value["position"])
    assert all(p == sorted(p) for p in by_partition.values())
    assert_follows_the_contract(messages)


def test_a_message_kafka_refuses_is_parked_and_later_events_of_its_aggregate_wait(
    container: Container, settings: Settings, threads: Threads
) -> None:
    small = settings.model_copy(
        update={
            "kafka_max_message_bytes": 2048,
            "consumer_max_attempts": 2,
            "consumer_backoff_seconds": 0.01,
        }
    )
    load = Workload(container, businesses=1)
    ann, bob = CUSTOMERS[0], CUSTOMERS[1]
    service = load.services[0].id
    huge = container.app.place_booking(PlaceBooking(ann, service, load.slot(1), notes="x" * 3000))
    container.app.cancel_booking(CancelBooking(ann, huge.id, "too long anyway"))
    fine = container.app.place_booking(PlaceBooking(bob, service, load.slot(2)))
    relay = start_relay(small, threads)

    wait_until(lambda: relay_position(relay) >= written(container), what="the relay")

    subjects = Counter(m.value["subject"] for m in read_topics(settings))
    assert subjects[str(fine.id)] == 1
    assert subjects[str(huge.id)] == 0  # neither the refused event nor the one behind it
    letters = DeadLetters(relay.runtime).entries(RELAY)
    assert [(d.status, d.event_type) for d in letters] == [
        ("parked", "slotwise.booking.placed"),
        ("held", "slotwise.booking.cancelled"),
    ]
    assert "MessageSizeTooLarge" in letters[0].error
    assert container.kafka_progress is not None
    assert container.kafka_progress.relay_parked() == 2  # what /ready reports


def test_of_two_relays_only_the_leader_publishes_and_the_other_takes_over(
    container: Container, settings: Settings, threads: Threads
) -> None:
    load = Workload(container)
    first, second = start_relay(settings, threads), start_relay(settings, threads)
    wait_until(lambda: first.leading.is_set() or second.leading.is_set(), what="a leader")
    leader, standby = (first, second) if first.leading.is_set() else (second, first)
    for _ in range(30):
        load.next()
    wait_until(lambda: relay_position(leader) >= written(container), what="the leader")

    threads.stop(leader)  # the leader goes away; the standby takes the lock within seconds
    for _ in range(30):
        load.next()
    wait_until(lambda: relay_position(standby) >= written(container), what="the takeover")

    ids = Counter(m.value["id"] for m in read_topics(settings))
    assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    log = read_log(container.app.recorder, container.app.mapper, 0, 10_000)
    assert len(ids) == sum(1 for d in log if d.envelope.aggregatetype in PUBLIC)


def test_the_relay_waits_out_a_broker_restart_and_publishes_again_what_the_broker_lost(
    container: Container, settings: Settings, threads: Threads, tmp_path: Path
) -> None:
    broker = Broker(tmp_path / "tansu.log")  # its own broker: a restart empties it
    broker.start()
    try:
        own = settings.model_copy(update={"kafka": broker.servers})
        load = Workload(container)
        relay = start_relay(own, threads)
        for _ in range(20):
            load.next()
        wait_until(lambda: relay_position(relay) >= written(container), what="the relay")
        saved = relay_position(relay)

        broker.stop()
        for _ in range(20):  # written while Kafka is away
            load.next()
        broker.start()  # back, but memory-only: empty
        for _ in range(10):
            load.next()
        wait_until(lambda: relay_position(relay) >= written(container), 60, "the relay")

        messages = read_topics(own)
        log = read_log(container.app.recorder, container.app.mapper, 0, 10_000)
        unsent = [
            d.envelope for d in log if d.envelope.aggregatetype in PUBLIC and d.offset > saved
        ]
        assert sorted(m.value["position"] for m in messages) == [e.position for e in unsent]
        assert_follows_the_contract(messages)
    finally:
        broker.stop()
