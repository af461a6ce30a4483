"""The composition root: builds every adapter from settings; tests override any of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from commands.app import SlotWise
from commands.base import utc_now
from infra.auth import TokenPolicy, TokenVerifier
from infra.consumers.dead_letters import DeadLetters
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.follower import (
    LOG_PARTITION,
    LOG_SOURCE,
    Follower,
    adopt_legacy_tracking,
    catch_up,
    refetch_from_log,
)
from infra.idempotency import IdempotencyStore
from infra.jwks import JwksFile, JwksUrl, SigningKeys
from infra.metrics import Metrics
from infra.payments.service import Payments, build_payments
from infra.payments.worker import PaymentWorker
from infra.readdb import ReadDatabase, open_read_database, sqlite_engine
from infra.settings import DEV_JWT_SECRET, Settings, pool_options
from infra.web.ratelimit import RateLimiter, rate_limiter_for
from projections import all_projectors


@dataclass
class Container:
    """Everything a process needs, built once and closed once."""

    settings: Settings
    app: SlotWise
    read_db: ReadDatabase
    runtime: ConsumerRuntime
    idempotency: IdempotencyStore
    payments: Payments
    clock: Callable[[], datetime] = utc_now
    follower: Follower | None = field(default=None)
    verifier: TokenVerifier = field(default_factory=lambda: TokenVerifier(DEV_JWT_SECRET))
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    payment_worker: PaymentWorker | None = field(default=None)

    @property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.runtime, refetch_from_log(self.app.recorder, self.app.mapper))

    def catch_up(self) -> int:
        """Deliver everything recorded so far to every consumer (embedded delivery)."""
        return catch_up(self.app.recorder, self.app.mapper, self.runtime)

    def reached(self, consumers: tuple[str, ...]) -> int:
        """The log position that all of `consumers` reflect."""
        found = self.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)
        return min((found[name].position for name in consumers), default=0)

    def start_follower(self) -> Follower:
        """In-process delivery to the projectors (the embedded stack)."""
        if self.follower is None:
            self.follower = Follower(
                self.app.recorder,
                self.app.mapper,
                self.runtime,
                poll_seconds=self.settings.follower_poll_seconds,
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

    def close(self) -> None:
        if self.payment_worker is not None:
            self.payment_worker.stop()
            self.payment_worker = None
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        self.read_db.dispose()
        self.idempotency.engine.dispose()
        self.app.close()


def event_store_engine(settings: Settings) -> Engine:
    url = settings.event_store_sqlalchemy_url()
    if url.startswith("sqlite"):
        return sqlite_engine(url, immediate=True)
    options = pool_options(settings.event_store_url, pool_size=5)
    return create_engine(url, pool_pre_ping=True, **options)


SETUP_LOCK_KEY = 0x51075E7  # any constant: the advisory lock that serialises table creation


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    """Processes starting at once on one PostgreSQL create their tables one at a time."""
    if not settings.uses_postgres:
        yield
        return
    engine = create_engine(settings.event_store_sqlalchemy_url(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK_KEY})
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


def projection_positions(runtime: ConsumerRuntime) -> Callable[[], dict[str, int]]:
    """Each projector's position in the embedded log, for the metrics."""

    def positions() -> dict[str, int]:
        reached = runtime.checkpoints(LOG_SOURCE, LOG_PARTITION)
        return {name: checkpoint.position for name, checkpoint in reached.items()}

    return positions


def bootstrap(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> Container:
    settings = settings or Settings()
    verifier = token_verifier(settings)  # a broken JWKS file fails here, before any database
    limiter = rate_limiter_for(
        settings.redis,
        settings.rate_limit_per_token,
        settings.rate_limit_per_address,
        settings.redis_prefix,
    )
    with setup_lock(settings):
        app = SlotWise(
            env=settings.eventsourcing_env(),
            clock=clock,
            snapshot_interval=settings.snapshot_interval,
        )
        read_db = open_read_database(settings.read_db_url)
        retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
        runtime = ConsumerRuntime(read_db.writer, all_projectors(), retry)
        runtime.setup()
        adopt_legacy_tracking(runtime)
        read_db.create_tables()
        our_tables = event_store_engine(settings)  # beside the events: keys, payment saga
        idempotency = IdempotencyStore(
            our_tables,
            lease_seconds=settings.idempotency_lease_seconds,
            ttl_seconds=settings.idempotency_ttl_seconds,
        )
        idempotency.setup()
        payments = build_payments(settings, app, our_tables, clock)
    metrics = Metrics()
    metrics.watch_projections(projection_positions(runtime), app.recorder.max_notification_id)
    metrics.watch_dead_letters(DeadLetters(runtime).counts)
    app.on_conflict_retry = metrics.conflict_retries.inc
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
    )
