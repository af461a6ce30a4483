"""The composition root: builds every adapter from settings; tests override any of them."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from commands.app import SlotWise
from commands.base import utc_now
from infra.auth import TokenPolicy, TokenVerifier
from infra.breaker import Breaker
from infra.consumers.dead_letters import DeadLetters
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.consumers.tables import metadata as consumers_metadata
from infra.follower import (
    CheckpointProgress,
    Follower,
    adopt_legacy_tracking,
    catch_up,
    refetch_from_log,
)
from infra.idempotency import IdempotencyStore, KeyStore
from infra.jwks import JwksFile, JwksUrl, SigningKeys
from infra.kafka.progress import KafkaProgress
from infra.kafka.relay_tables import metadata as relay_metadata
from infra.metrics import Metrics
from infra.notify.service import Notify, NotifyWorker, build_notify
from infra.payments.service import Payments, build_payments
from infra.payments.worker import PaymentWorker
from infra.personal_data import PersonalDataKeys
from infra.read_cache import MemoryReadCache, NoCache, ReadCache, RedisReadCache
from infra.readdb import ReadDatabase, open_read_database, postgres_engine, sqlite_engine
from infra.settings import DEV_JWT_SECRET, Settings, sqlalchemy_url
from infra.versions import versions_checker
from infra.wakeups import PostgresWakeups
from infra.web.ratelimit import RateLimiter, WindowRateLimiter, rate_limiter_for
from infra.webhooks.secrets import SqlWebhookSecrets
from infra.webhooks.sender import AddressGuard
from infra.webhooks.worker import WebhookWorker, build_webhooks
from projections import all_projectors


@dataclass
class Container:
    """Everything a process needs, built once and closed once."""

    settings: Settings
    app: SlotWise
    read_db: ReadDatabase
    runtime: ConsumerRuntime
    idempotency: KeyStore
    payments: Payments
    clock: Callable[[], datetime] = utc_now
    follower: Follower | None = field(default=None)
    verifier: TokenVerifier = field(default_factory=lambda: TokenVerifier(DEV_JWT_SECRET))
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    payment_worker: PaymentWorker | None = field(default=None)
    webhook_worker: WebhookWorker | None = field(default=None)
    # Our own tables in the event-store database (idempotency keys, the relay's progress).
    event_store_tables: Engine | None = None
    # Set when Kafka feeds the read side: read-your-writes and lag come from it.
    kafka_progress: KafkaProgress | None = None
    cache: ReadCache = field(default_factory=NoCache)
    redis: RedisLink | None = None  # the shared Redis client, when SLOTWISE_REDIS is set
    # Per-customer keys of the personal data (in the event-store database).
    personal_data: PersonalDataKeys | None = None
    # The notifier: its checkpoint, outbox and calendar feeds (in the event-store database).
    notify: Notify | None = None
    notify_worker: NotifyWorker | None = None

    @property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.runtime, refetch_from_log(self.app.recorder, self.app.mapper))

    def catch_up(self) -> int:
        """Deliver everything recorded so far to every consumer (embedded delivery)."""
        return catch_up(self.app.recorder, self.app.mapper, self.runtime)

    def __post_init__(self) -> None:
        # One port for read-your-writes and lag; the stack feeding the read side picks it.
        self.progress: CheckpointProgress | KafkaProgress = (
            self.kafka_progress or CheckpointProgress(self.runtime, self.nudge)
        )

    def reached(self, consumers: tuple[str, ...]) -> int:
        """The log position that all of `consumers` reflect."""
        return self.progress.reached(consumers)

    def nudge(self) -> None:
        """Something was just written: embedded delivery looks now (Kafka: nothing to do)."""
        if self.follower is not None:
            self.follower.nudge()

    def start_follower(self) -> Follower:
        """In-process delivery to the projectors (the embedded stack)."""
        if self.follower is None:
            self.follower = Follower(
                self.app.recorder,
                self.app.mapper,
                self.runtime,
                poll_seconds=self.settings.follower_poll_seconds,
                wakeups=PostgresWakeups.for_recorder(self.app.recorder),
            )
            self.follower.start()
        return self.follower

    def start_payment_worker(self) -> PaymentWorker:
        """The payment saga and its timers in a thread (as `slotwise payments worker` does)."""
        if self.payment_worker is None:
            self.payment_worker = PaymentWorker(
                self.payments,
                self.app.recorder,
                self.app.mapper,
                poll_seconds=self.settings.payments_poll_seconds,
            )
            self.payment_worker.start()
        return self.payment_worker

    def start_webhook_worker(self) -> WebhookWorker:
        """Webhook deliveries in a thread (as `slotwise webhooks worker` does)."""
        if self.webhook_worker is None:
            assert self.event_store_tables is not None
            hooks = build_webhooks(self.settings, self.app, self.event_store_tables, self.clock)
            poll = self.settings.webhooks_poll_seconds
            self.webhook_worker = WebhookWorker(hooks, self.app, poll)
            self.webhook_worker.start()
        return self.webhook_worker

    def start_notify_worker(self) -> NotifyWorker:
        """Emails, SMS and reminders in a thread (as `slotwise notify` does)."""
        if self.notify_worker is None and self.notify is not None:
            self.notify_worker = NotifyWorker(
                self.notify, self.app, self.settings.notify_poll_seconds
            )
            self.notify_worker.start()
        assert self.notify_worker is not None
        return self.notify_worker

    def close(self) -> None:
        if self.webhook_worker is not None:
            self.webhook_worker.stop()
            self.webhook_worker = None
        if self.notify_worker is not None:
            self.notify_worker.stop()
            self.notify_worker = None
        if self.payment_worker is not None:
            self.payment_worker.stop()
            self.payment_worker = None
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        self.read_db.dispose()
        self.idempotency.close()
        self.cache.close()
        if self.redis is not None:
            self.redis.close()
        if self.event_store_tables is not None:
            self.event_store_tables.dispose()
        self.app.close()


def event_store_engine(settings: Settings, pool_size: int, max_overflow: int) -> Engine:
    """Our own tables in the event-store database (idempotency keys, the relay's progress)."""
    url = settings.event_store_sqlalchemy_url()
    if url.startswith("sqlite"):
        return sqlite_engine(url, immediate=True)
    timeout, connect = settings.db_pool_timeout_seconds, settings.db_connect_timeout_seconds
    return postgres_engine(settings.event_store_url, pool_size, max_overflow, timeout, connect)


SETUP_LOCK_KEY = 0x51075E7  # any constant: the advisory locks that serialise table creation


def schema_keys(settings: Settings) -> list[int]:
    """One lock per PostgreSQL database and schema this process creates tables in.

    Processes creating tables in different schemas (other deployments, tests)
    need not wait for each other.
    """
    keys = set()
    for url in (settings.event_store_url, settings.read_db_url):
        parts = urlsplit(url)
        if parts.scheme in ("postgresql", "postgres"):
            schema = parse_qs(parts.query).get("schema", ["public"])[-1]
            where = f"{parts.hostname}:{parts.port}{parts.path}?{schema}"
            keys.add(zlib.crc32(where.encode()) & 0x7FFFFFFF)
    return sorted(keys)  # always taken in the same order: no deadlock between processes


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    """Processes starting at once on one PostgreSQL create their tables one at a time."""
    if not settings.uses_postgres:
        yield
        return
    keys = [{"space": SETUP_LOCK_KEY, "key": key} for key in schema_keys(settings)]
    engine = create_engine(settings.event_store_sqlalchemy_url(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for key in keys:
                conn.execute(text("SELECT pg_advisory_lock(:space, :key)"), key)
            try:
                yield
            finally:
                for key in reversed(keys):
                    conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), key)
    finally:
        engine.dispose()


def token_verifier(settings: Settings) -> TokenVerifier:
    """HS256 with the configured (or development) secret, RS256/ES256 from a JWKS if set."""
    keys: SigningKeys | None = None
    if settings.jwt_jwks_file is not None:
        keys = JwksFile(settings.jwt_jwks_file)
    elif settings.jwt_jwks_url:
        keys = JwksUrl(settings.jwt_jwks_url, settings.jwt_jwks_cooldown_seconds)
    policy = TokenPolicy(
        max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
        leeway_seconds=settings.jwt_leeway_seconds,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return TokenVerifier(settings.jwt_key or None, keys, policy)


def projection_positions(
    runtime: ConsumerRuntime, progress: KafkaProgress | None = None
) -> Callable[[], dict[str, int]]:
    """Each projector's position in the log, for the metrics.

    Fed from Kafka, a projector's checkpoints are offsets per partition; the log
    position it reflects is what read-your-writes uses, `KafkaProgress.reached`.
    """

    reads = progress or CheckpointProgress(runtime, lambda: None)

    def positions() -> dict[str, int]:
        return {c.name: reads.reached((c.name,)) for c in runtime.consumers}

    return positions


def ensure_schemas(settings: Settings) -> None:
    """Create the PostgreSQL schemas the URLs name (`?schema=events`), if missing."""
    for url in {settings.event_store_url, settings.read_db_url}:
        parts = urlsplit(url)
        schema = parse_qs(parts.query).get("schema", [""])[-1]
        if parts.scheme not in ("postgresql", "postgres") or schema in ("", "public"):
            continue
        engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
        finally:
            engine.dispose()


def bootstrap(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> Container:
    settings = settings or Settings()
    verifier = token_verifier(settings)  # a broken JWKS file fails here, before any database
    redis = RedisLink.open(settings)
    limiter = rate_limiter_for(
        settings.redis,
        settings.rate_limit_per_token,
        settings.rate_limit_per_address,
        settings.redis_prefix,
        redis.pool if redis else None,
        redis.breaker if redis else None,
    )
    with setup_lock(settings):
        ensure_schemas(settings)
        app = SlotWise(
            env=settings.eventsourcing_env(),
            clock=clock,
            snapshot_interval=settings.snapshot_interval,
            aggregate_cache_size=settings.aggregate_cache_size,
            aggregate_cache_max_age=settings.aggregate_cache_max_age_seconds,
        )
        read_db = open_read_database(
            settings.read_db_url,
            settings.read_db_pool_size,
            settings.read_db_max_overflow,
            settings.db_pool_timeout_seconds,
            settings.db_connect_timeout_seconds,
        )
        retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
        runtime = ConsumerRuntime(read_db.writer, all_projectors(), retry)
        runtime.setup()
        adopt_legacy_tracking(runtime)
        read_db.create_tables()
        tables = event_store_engine(
            settings,
            settings.event_store_tables_pool_size,
            settings.event_store_tables_max_overflow,
        )
        idempotency = idempotency_store(settings, tables, redis)
        idempotency.setup()
        keys = PersonalDataKeys(tables)
        keys.setup()
        app.sealer = keys
        app.webhook_secrets = SqlWebhookSecrets(tables)
        app.webhook_secrets.setup()
        app.webhook_urls = AddressGuard(settings.webhooks_allow_private)
        payments = build_payments(settings, app, tables, clock)
        notify = build_notify(settings, app, tables, keys, clock)
        progress = None
        if settings.kafka:
            relay_metadata.create_all(tables)
            consumers_metadata.create_all(tables)
            progress = KafkaProgress(tables, runtime)
    metrics = Metrics()
    metrics.watch_projections(
        projection_positions(runtime, progress), app.recorder.max_notification_id
    )
    metrics.watch_dead_letters(DeadLetters(runtime).counts)
    if progress is not None:
        kafka = progress
        metrics.watch_kafka_lag(lambda: kafka.lag(app.recorder.max_notification_id() or 0))
    app.on_conflict_retry = metrics.conflict_retries.inc
    app.versions_checker = versions_checker(app.recorder)
    if isinstance(limiter, WindowRateLimiter):
        limiter.on_unavailable = metrics.rate_limiter_unavailable.inc
    return Container(
        settings,
        app,
        read_db,
        runtime,
        idempotency,
        payments,
        clock,
        verifier=verifier,
        rate_limiter=limiter,
        metrics=metrics,
        event_store_tables=tables,
        kafka_progress=progress,
        cache=read_cache(settings, redis),
        redis=redis,
        personal_data=keys,
        notify=notify,
    )


@dataclass(frozen=True)
class RedisLink:
    """The process's one Redis client (every call with a deadline) and its breaker."""

    client: Any
    breaker: Breaker

    @property
    def pool(self) -> Any:
        return self.client.connection_pool

    @classmethod
    def open(cls, settings: Settings) -> RedisLink | None:
        if not settings.redis:
            return None
        from infra.redis_keys import redis_client

        return cls(redis_client(settings), Breaker(settings.redis_retry_seconds))

    def close(self) -> None:
        self.client.close()
        self.pool.disconnect()


def read_cache(settings: Settings, redis: RedisLink | None = None) -> ReadCache:
    if not settings.read_cache:
        return NoCache()
    if redis is None:
        return MemoryReadCache(settings.read_cache_entries)
    namespace = f"{settings.redis_prefix}:read"
    return RedisReadCache(redis.client, settings.cache_ttl_seconds, namespace, redis.breaker)


def idempotency_store(
    settings: Settings, tables: Engine, redis: RedisLink | None = None
) -> KeyStore:
    """Redis when configured (production), else a table next to the events."""
    lease, ttl = settings.idempotency_lease_seconds, settings.idempotency_ttl_seconds
    if redis is not None:
        from infra.redis_keys import RedisIdempotencyStore

        namespace = f"{settings.redis_prefix}:idem"
        return RedisIdempotencyStore(redis.client, lease, ttl, namespace, redis.breaker)
    return IdempotencyStore(tables, lease_seconds=lease, ttl_seconds=ttl)
