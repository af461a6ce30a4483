"""The production stack for tests: PostgreSQL event store and read models in their own
schemas, Redis, a real Kafka-protocol broker, the relay and two projector workers.

The relay and the workers run here as threads, each with its own container
(its own pools) built by its role's composition root, exactly the code
`slotwise relay` and `slotwise project` run; the fault tests run them as
subprocesses instead, to SIGKILL them.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import redis

from infra.bootstrap import Container, build_projectors
from infra.bootstrap import build_relay as relay_role
from infra.kafka.processes import Stoppable, build_relay, build_worker
from infra.kafka.worker import ProjectorWorker
from infra.settings import Settings
from tests.conftest import drop_schema, new_schema
from tests.kafka_messages import assert_follows_the_contract, read_topics

REDIS = "redis://127.0.0.1:6379/0"
# Group joins wait about half the session timeout: short ones keep the tests quick, but
# not so short that a busy machine (two cores, CI) expires a session and rebalances.
QUICK_GROUPS = {
    "kafka_session_timeout_ms": 3000,
    "kafka_heartbeat_interval_ms": 500,
    "kafka_max_poll_interval_ms": 10_000,
    "kafka_request_timeout_ms": 5_000,
    "kafka_fetch_max_wait_ms": 20,
    "relay_poll_seconds": 0.02,
}


# A stack's relay and two workers each hold an event-store and a read-model pool; a test
# sends a handful of requests, and the Kafka worker keeps three stacks (the test's, the
# next one warming, the last one retiring) beside the other xdist worker's tests, all
# within PostgreSQL's 100 connections.
SMALL_POOLS = {"event_store_pool_size": 1, "read_db_pool_size": 1}


def forget_redis_keys(settings: Settings) -> None:
    """Remove a test's Redis keys (its namespace is its own)."""
    client = redis.Redis.from_url(REDIS)
    try:
        names = list(client.scan_iter(match=f"{settings.redis_prefix}:*", count=1000))
        if names:
            client.delete(*names)
    finally:
        client.close()


def production_settings(
    dsn: str, events: str, reads: str, servers: str, jwt_secret: str, partitions: int = 3
) -> Settings:
    unique = uuid.uuid4().hex[:10]
    return Settings(
        event_store=f"{dsn}?schema={events}",
        read_db=f"{dsn}?schema={reads}",
        kafka=servers,
        redis=REDIS,
        redis_prefix=f"test:{unique}",
        kafka_topic_prefix=f"t{unique}",
        kafka_group=f"t{unique}.projectors",
        kafka_partitions=partitions,
        jwt_secret=jwt_secret,
        idempotency_ttl_seconds=600,
        consistency_wait_seconds=10.0,  # a rebalance on a loaded machine takes seconds
        cache_ttl_seconds=600,
        **QUICK_GROUPS,
        **SMALL_POOLS,
    )


@dataclass
class Running:
    process: Stoppable
    container: Container
    thread: threading.Thread


@dataclass
class InProcessStack:
    """A relay and projector workers as threads; `stop_workers()` halts delivery."""

    settings: Settings
    running: list[Running] = field(default_factory=list)

    def start_relay(self) -> None:
        container = relay_role(self.settings)
        self._run(build_relay(container), container)

    def start_worker(self, names: Sequence[str] = ()) -> ProjectorWorker:
        container = build_projectors(self.settings)
        worker = build_worker(container, names)
        self._run(worker, container)
        return worker

    def start(self, workers: int = 2) -> None:
        self.start_relay()
        started = [self.start_worker() for _ in range(workers)]
        deadline = time.monotonic() + 30
        for worker in started:
            if not worker.assigned.wait(max(deadline - time.monotonic(), 0)):
                raise RuntimeError("a projector worker got no partitions within 30 s")

    def _run(self, process: Stoppable, container: Container) -> None:
        thread = threading.Thread(target=process.run, daemon=True)
        thread.start()
        self.running.append(Running(process, container, thread))

    def stop_workers(self) -> None:
        self._stop([r for r in self.running if isinstance(r.process, ProjectorWorker)])

    def stop(self) -> None:
        self._stop(list(self.running))

    def _stop(self, which: list[Running]) -> None:
        for running in which:
            running.process.stop()
        for running in which:
            running.thread.join(timeout=30)
            running.container.close()
            self.running.remove(running)


@dataclass
class Prepared:
    """A running stack on fresh schemas, ready for one test."""

    settings: Settings
    stack: InProcessStack
    dsn: str
    schemas: tuple[str, str]

    def discard(self) -> None:
        self.stack.stop()
        for schema in self.schemas:
            drop_schema(self.dsn, schema)
        forget_redis_keys(self.settings)


class WarmStacks:
    """Starts the next test's stack while the current test runs.

    A consumer group takes about a second to settle its members; preparing the
    next stack in the background keeps that second out of every test's time.
    """

    def __init__(self, dsn: str, servers: str, jwt_secret: str, ahead: int = 1) -> None:
        self.dsn, self.servers, self.jwt_secret = dsn, servers, jwt_secret
        # How many stacks warm at once. A consumer group's first join waits about 2 s in the
        # broker whatever the test does, so two would hide more of it, but each holds about
        # 16 PostgreSQL connections (relay, two workers): two warming, the test's own and one
        # retiring came to the server's 100 beside the other xdist worker's tests.
        self.ahead = ahead
        self._executor = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="warm-stack")
        self._retiring = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retire-stack")
        self._retired: list[Future[None]] = []
        self._next: deque[Future[Prepared]] = deque()

    def retire(self, used: Prepared) -> None:
        """Stop a test's stack, check what it published against the contract, drop it.

        In the background: a contract violation fails the session at its end.
        """
        self._retired.append(self._retiring.submit(self._check_and_discard, used))

    def _check_and_discard(self, used: Prepared) -> None:
        try:
            used.stack.stop()
            assert_follows_the_contract(read_topics(used.settings))
        finally:
            for schema in used.schemas:
                drop_schema(used.dsn, schema)
            forget_redis_keys(used.settings)

    def take(self) -> Prepared:
        while len(self._next) < self.ahead + 1:
            self._next.append(self._executor.submit(self._prepare))
        return self._next.popleft().result()

    def _prepare(self) -> Prepared:
        schemas = (new_schema(self.dsn), new_schema(self.dsn))
        settings = production_settings(self.dsn, *schemas, self.servers, self.jwt_secret)
        stack = InProcessStack(settings)
        stack.start(workers=2)
        return Prepared(settings, stack, self.dsn, schemas)

    def close(self) -> None:
        for warming in self._next:
            with contextlib.suppress(Exception):
                warming.result().discard()
        self._executor.shutdown()
        self._retiring.shutdown()
        for retired in self._retired:
            retired.result()  # raises what a retired stack's check found
