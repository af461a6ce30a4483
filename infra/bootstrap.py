"""The composition roots, one per process role; each takes its adapters as overridable keywords."""

from __future__ import annotations

import logging
import os
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
    LogReader,
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
from infra.personal_data import PersonalDataKeys, ShownPersonalData
from infra.read_cache import MemoryReadCache, NoCache, ReadCache, RedisReadCache
from infra.readdb import (
    ReadDatabase,
    occasional_reader,
    open_read_database,
    postgres_engine,
    sqlite_engine,
)
from infra.settings import DEV_JWT_SECRET, Settings, sqlalchemy_url
from infra.versions import versions_checker
from infra.waitlist.service import Waitlist, WaitlistWorker, build_waitlist
from infra.wakeups import PostgresWakeups
from infra.web.ratelimit import RateLimiter, WindowRateLimiter, rate_limiter_for
from infra.webhooks.secrets import SqlWebhookSecrets
from infra.webhooks.sender import AddressGuard
from infra.webhooks.worker import WebhookWorker, build_webhooks
from projections import all_projectors


class MissingAdapter(LookupError):
    """A role asked for an adapter its composition root did not build."""


def _built(adapter: Any, name: str) -> Any:
    if adapter is None:
        raise MissingAdapter(f"this process role did not build the {name}")
    return adapter


log = logging.getLogger(__name__)


@dataclass
class Container:
    """What one process role built, closed once; asking for what it did not build is an error."""

    settings: Settings
    app: SlotWise
    clock: Callable[[], datetime] = utc_now
    # Built only by the roles that use them (see build_write_api, build_read_api, ...).
    built_read_db: ReadDatabase | None = None
    built_runtime: ConsumerRuntime | None = None
    built_idempotency: KeyStore | None = None
    built_payments: Payments | None = None
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
    # What the read models show of a customer's personal data (the write API's erasure answer).
    built_shown_personal_data: ShownPersonalData | None = None
    # The waitlist process manager: its checkpoint, tasks and watch list (event-store database).
    built_waitlist: Waitlist | None = None
    waitlist_worker: WaitlistWorker | None = None

    @property
    def read_db(self) -> ReadDatabase:
        return _built(self.built_read_db, "read database")  # type: ignore[no-any-return]

    @property
    def runtime(self) -> ConsumerRuntime:
        return _built(self.built_runtime, "projector runtime")  # type: ignore[no-any-return]

    @property
    def idempotency(self) -> KeyStore:
        return _built(self.built_idempotency, "idempotency store")  # type: ignore[no-any-return]

    @property
    def payments(self) -> Payments:
        return _built(self.built_payments, "payment adapters")  # type: ignore[no-any-return]

    @property
    def shown_personal_data(self) -> ShownPersonalData:
        built = self.built_shown_personal_data
        return _built(built, "read-model reader")  # type: ignore[no-any-return]

    @property
    def waitlist(self) -> Waitlist:
        return _built(self.built_waitlist, "waitlist process manager")  # type: ignore[no-any-return]

    @property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.runtime, refetch_from_log(self.app.recorder, self.app.mapper))

    def catch_up(self) -> int:
        """Deliver everything recorded so far to every consumer (embedded delivery)."""
        return catch_up(self.app.recorder, self.app.mapper, self.runtime)

    @property
    def progress(self) -> CheckpointProgress | KafkaProgress:
        """One port for read-your-writes and lag; the stack feeding the read side picks it."""
        return self.kafka_progress or CheckpointProgress(self.runtime, self.nudge, self.after_pass)

    def reached(self, consumers: tuple[str, ...]) -> int:
        """The log position that all of `consumers` reflect."""
        return self.progress.reached(consumers)

    def after_pass(self, callback: Callable[[], None]) -> bool:
        """`callback` once this process's follower ends its next pass (False: none runs)."""
        if self.follower is None:
            return False
        self.follower.after_next_pass(callback)
        return True

    @property
    def log_reader(self) -> LogReader:
        """The notification log as envelopes (live events read it)."""
        return LogReader(self.app.recorder, self.app.mapper)

    def on_delivered(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` whenever the read side may have advanced; returns what stops it.

        This process's follower calls it after each pass; without one (Kafka workers, or a
        follower in another process) a PostgreSQL NOTIFY of each write does. SQLite without
        a follower here has neither: the caller's own poll is all there is.
        """
        follower = self.follower
        if follower is not None:
            follower.listeners.append(wake)

            def forget() -> None:
                if wake in follower.listeners:
                    follower.listeners.remove(wake)

            return forget
        wakeups = PostgresWakeups.for_recorder(self.app.recorder)
        if wakeups is None:
            return lambda: None
        wakeups.start(wake)
        return wakeups.stop

    def nudge(self) -> None:
        """Something was just written: embedded delivery looks now (Kafka: nothing to do for
        the read side), and so does this process's waitlist process manager: once the
        follower's pass is over if a follower runs here (it is one of the follower's
        listeners, also woken by writes of other processes), at once otherwise. Woken
        together, the two shared the one process's CPU just when a read waited for the
        follower (bench/lag.py at 20/s: p99 about 17 -> 13 ms, docs/benchmarks.md)."""
        if self.follower is not None:
            self.follower.nudge()
        elif self.waitlist_worker is not None:
            self.waitlist_worker.nudge()

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

    def start_waitlist_worker(self) -> WaitlistWorker:
        """The waitlist process manager and its timers in a thread (as `slotwise waitlist`)."""
        if self.waitlist_worker is None:
            poll = self.settings.waitlist_poll_seconds
            self.waitlist_worker = WaitlistWorker(self.waitlist, self.app, poll)
            self.waitlist_worker.start()
            if self.follower is not None:
                self.follower.listeners.append(self.waitlist_worker.nudge)
        return self.waitlist_worker

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

    def start_embedded_delivery(self) -> None:
        """Without Kafka: the projector follower, and the payment worker when Stripe is set.
        Not over read models rebuilt as of the past (`projections rebuild --until`): they stay
        as they stood."""
        if self.settings.kafka:
            return
        from infra.past import past_position

        stands_at = past_position(self.read_db.writer)
        if stands_at is not None:
            log.warning(
                "read models as of position %d (a past rebuild): not following the log", stands_at
            )
            return
        self.start_follower()
        if self.built_payments is not None and self.built_payments.configured:
            self.start_payment_worker()
        if self.built_waitlist is not None:
            self.start_waitlist_worker()
        if self.notify is not None and (self.settings.smtp_url or self.settings.sms_url):
            self.start_notify_worker()

    def close(self) -> None:
        if self.waitlist_worker is not None:
            self.waitlist_worker.stop()
            self.waitlist_worker = None
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
        for owned in (self.built_read_db, self.event_store_tables):
            if owned is not None:
                owned.dispose()
        if self.built_idempotency is not None:
            self.built_idempotency.close()
        if self.built_shown_personal_data is not None:
            self.built_shown_personal_data.close()
        self.cache.close()
        if self.redis is not None:
            self.redis.close()
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


Clock = Callable[[], datetime]


def _event_store(settings: Settings, clock: Clock, app: SlotWise | None) -> SlotWise:
    return app or SlotWise(
        env=settings.eventsourcing_env(),
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
        aggregate_cache_size=settings.aggregate_cache_size,
        aggregate_cache_max_age=settings.aggregate_cache_max_age_seconds,
    )


def _core(
    settings: Settings, clock: Clock, app: SlotWise | None, *, web: bool, redis: bool
) -> Container:
    """The event store, our tables beside it and the metrics: what every role uses.

    `web` adds the token verifier and rate limiter (the APIs), `redis` the shared client.
    Call inside `setup_lock(settings)`.
    """
    verifier = token_verifier(settings) if web else TokenVerifier(DEV_JWT_SECRET)
    link = RedisLink.open(settings) if redis else None
    ensure_schemas(settings)
    store = _event_store(settings, clock, app)
    tables = event_store_engine(
        settings, settings.event_store_tables_pool_size, settings.event_store_tables_max_overflow
    )
    keys = PersonalDataKeys(tables)
    keys.setup()
    store.sealer = keys
    store.webhook_secrets = SqlWebhookSecrets(tables)
    store.webhook_secrets.setup()
    store.webhook_urls = AddressGuard(settings.webhooks_allow_private)
    metrics = Metrics()
    store.on_conflict_retry = metrics.conflict_retries.inc
    store.versions_checker = versions_checker(store.recorder)
    container = Container(
        settings,
        store,
        clock,
        verifier=verifier,
        metrics=metrics,
        event_store_tables=tables,
        redis=link,
        personal_data=keys,
    )
    if web:
        container.rate_limiter = _rate_limiter(settings, link, metrics)
    return container


def _rate_limiter(settings: Settings, redis: RedisLink | None, metrics: Metrics) -> RateLimiter:
    limiter = rate_limiter_for(
        settings.redis,
        settings.rate_limit_per_token,
        settings.rate_limit_per_address,
        settings.redis_prefix,
        redis.pool if redis else None,
        redis.breaker if redis else None,
    )
    if isinstance(limiter, WindowRateLimiter):
        limiter.on_unavailable = metrics.rate_limiter_unavailable.inc
    return limiter


def _add_read_side(
    container: Container, read_db: ReadDatabase | None = None, cache: ReadCache | None = None
) -> None:
    """The read models, the projector runtime over them, and the progress port's adapter."""
    settings = container.settings
    read_db = read_db or open_read_database(
        settings.read_db_url,
        settings.read_db_pool_size,
        settings.read_db_max_overflow,
        settings.db_pool_timeout_seconds,
        settings.db_connect_timeout_seconds,
    )
    retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
    # Read models are made again from the log: their commits need not wait for the disk.
    runtime = ConsumerRuntime(
        read_db.writer, all_projectors(), retry, rebuildable=True, reader=read_db.reader
    )
    runtime.setup()
    adopt_legacy_tracking(runtime)
    read_db.create_tables()
    container.built_read_db, container.built_runtime = read_db, runtime
    container.cache = cache or read_cache(settings, container.redis)
    if settings.kafka:
        assert container.event_store_tables is not None
        _add_kafka_tables(container)
        container.kafka_progress = KafkaProgress(container.event_store_tables, runtime)
    _watch_read_side(container)


def _add_kafka_tables(container: Container) -> None:
    assert container.event_store_tables is not None
    relay_metadata.create_all(container.event_store_tables)
    consumers_metadata.create_all(container.event_store_tables)


def _watch_relay(container: Container) -> None:
    """The relay's own lag (it has no read side to report on): what it has yet to publish."""
    from infra.kafka.progress import relay_state

    tables, head = container.event_store_tables, container.app.recorder.max_notification_id
    assert tables is not None

    def lag() -> dict[str, int]:
        return {"relay": max((head() or 0) - relay_state(tables).position, 0)}

    container.metrics.watch_kafka_lag(lag)


def _watch_read_side(container: Container) -> None:
    app, runtime, metrics = container.app, container.runtime, container.metrics
    progress = container.kafka_progress
    metrics.watch_projections(
        projection_positions(runtime, progress), app.recorder.max_notification_id
    )
    metrics.watch_dead_letters(DeadLetters(runtime).counts)
    if progress is not None:
        kafka = progress
        metrics.watch_kafka_lag(lambda: kafka.lag(app.recorder.max_notification_id() or 0))


def _add_idempotency(container: Container, idempotency: KeyStore | None = None) -> None:
    assert container.event_store_tables is not None
    store = idempotency or idempotency_store(
        container.settings, container.event_store_tables, container.redis
    )
    store.setup()
    if isinstance(store, IdempotencyStore):
        store.folds = answers_ride_with_events(container.app.recorder, store.engine)
    container.built_idempotency = store


def answers_ride_with_events(recorder: Any, tables: Engine) -> bool:
    """Whether the event store's recorder can write the key table's rows in the events'
    transaction: it says it keeps answers, and it writes the database the table is in."""
    if not getattr(recorder, "keeps_answers", False):
        return False
    if tables.dialect.name == "postgresql":
        return True  # the same URL and schema (Settings.event_store_sqlalchemy_url)
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    db_name = getattr(pool, "db_name", "")
    memory = getattr(pool, "is_sqlite_memory_mode", True)
    found = tables.url.database
    same = bool(found) and os.path.realpath(found or "") == os.path.realpath(db_name or "")
    return bool(db_name) and not memory and same


def _add_payments(container: Container, payments: Payments | None = None) -> None:
    assert container.event_store_tables is not None
    container.built_payments = payments or build_payments(
        container.settings, container.app, container.event_store_tables, container.clock
    )


def _add_notify(container: Container) -> None:
    assert container.event_store_tables is not None and container.personal_data is not None
    container.notify = build_notify(
        container.settings,
        container.app,
        container.event_store_tables,
        container.personal_data,
        container.clock,
    )


def _add_waitlist(container: Container, waitlist: Waitlist | None = None) -> None:
    assert container.event_store_tables is not None
    container.built_waitlist = waitlist or build_waitlist(
        container.settings, container.app, container.event_store_tables, container.clock
    )


def build_write_api(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    app: SlotWise | None = None,
    idempotency: KeyStore | None = None,
    payments: Payments | None = None,
    read_models: Engine | None = None,
) -> Container:
    """The write-api role: event store, idempotency keys, payment provider; no read models
    but `read_models`, an engine the erasure's answer counts with (by default one opened
    for the occasion: no pool)."""
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, clock, app, web=True, redis=True)
        _add_idempotency(container, idempotency)
        _add_payments(container, payments)
        _add_notify(container)  # notification settings and calendar feed keys
        url, timeout = settings.read_db_url, settings.db_connect_timeout_seconds
        reader = read_models or occasional_reader(url, timeout)
        container.built_shown_personal_data = ShownPersonalData(reader, owned=read_models is None)
    return container


def build_read_api(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    app: SlotWise | None = None,
    read_db: ReadDatabase | None = None,
    cache: ReadCache | None = None,
    payments: Payments | None = None,
) -> Container:
    """The read-api role: read models, cache, progress; no idempotency store.

    Without Kafka the role also delivers (follower; payment worker when Stripe is set;
    notifier when SMTP or SMS is): only then does it build the payment adapters.
    """
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, clock, app, web=True, redis=True)
        _add_read_side(container, read_db, cache)
        _add_notify(container)  # calendar feeds
        if not settings.kafka:
            _add_payments(container, payments)
            _add_waitlist(container)
    return container


def build_relay(settings: Settings | None = None, *, app: SlotWise | None = None) -> Container:
    """The relay role: the event store and the relay's tables; no read side, no web, no Stripe."""
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, utc_now, app, web=False, redis=False)
        _add_kafka_tables(container)
        _watch_relay(container)
    return container


def build_projectors(
    settings: Settings | None = None,
    *,
    app: SlotWise | None = None,
    read_db: ReadDatabase | None = None,
) -> Container:
    """The project role: the read models and their runtime (no cache, web or Stripe)."""
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, utc_now, app, web=False, redis=False)
        _add_read_side(container, read_db, NoCache())
    return container


def build_payment_worker(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    app: SlotWise | None = None,
    payments: Payments | None = None,
) -> Container:
    """The payments role: the event store and the payment adapters."""
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, clock, app, web=False, redis=False)
        _add_payments(container, payments)
    return container


def build_waitlist_worker(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    app: SlotWise | None = None,
    waitlist: Waitlist | None = None,
) -> Container:
    """The waitlist role: the event store and the waitlist process manager (commands it
    sends need no read side; a paid offer's payment starts when its customer accepts)."""
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, clock, app, web=False, redis=False)
        _add_waitlist(container, waitlist)
    return container


def bootstrap(
    settings: Settings | None = None,
    clock: Clock = utc_now,
    *,
    app: SlotWise | None = None,
    read_db: ReadDatabase | None = None,
    cache: ReadCache | None = None,
    idempotency: KeyStore | None = None,
    payments: Payments | None = None,
) -> Container:
    """The dev (and test) composition: every role's adapters in one container, nothing started.

    `slotwise dev` adds the follower, payment and waitlist workers (`start_embedded_delivery`).
    """
    settings = settings or Settings()
    with setup_lock(settings):
        container = _core(settings, clock, app, web=True, redis=True)
        _add_read_side(container, read_db, cache)
        _add_idempotency(container, idempotency)
        _add_payments(container, payments)
        _add_notify(container)
        container.built_shown_personal_data = ShownPersonalData(container.read_db.reader)
        _add_waitlist(container)
    return container


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
        """The client, once Redis has answered (unreachable at start: the caller's sentence)."""
        if not settings.redis:
            return None
        from infra.redis_keys import redis_client

        client = redis_client(settings)
        try:
            client.ping()
        except BaseException:
            client.close()
            raise
        return cls(client, Breaker(settings.redis_retry_seconds))

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


def read_api_process(settings: Settings | None = None) -> Container:
    """A read-api process of its own: its adapters, plus embedded delivery without Kafka."""
    container = build_read_api(settings)
    try:
        container.start_embedded_delivery()
    except BaseException:
        container.close()
        raise
    return container
