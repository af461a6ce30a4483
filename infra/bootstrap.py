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
from infra.follower import Follower
from infra.idempotency import IdempotencyStore
from infra.jwks import JwksFile, JwksUrl, SigningKeys
from infra.metrics import Metrics
from infra.readdb import ReadDatabase, open_read_database, sqlite_engine
from infra.settings import DEV_JWT_SECRET, Settings, pool_options
from infra.web.ratelimit import RateLimiter, rate_limiter_for
from projections import all_projectors
from projections.base import ProjectionRunner


@dataclass
class Container:
    """Everything a process needs, built once and closed once."""

    settings: Settings
    app: SlotWise
    read_db: ReadDatabase
    runner: ProjectionRunner
    idempotency: IdempotencyStore
    clock: Callable[[], datetime] = utc_now
    follower: Follower | None = field(default=None)
    verifier: TokenVerifier = field(default_factory=lambda: TokenVerifier(DEV_JWT_SECRET))
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    metrics: Metrics = field(default_factory=Metrics)

    def start_follower(self) -> Follower:
        """In-process delivery to the projectors (the embedded stack)."""
        if self.follower is None:
            self.follower = Follower(
                self.app.recorder,
                self.app.mapper,
                self.runner,
                poll_seconds=self.settings.follower_poll_seconds,
            )
            self.follower.start()
        return self.follower

    def close(self) -> None:
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
        app = SlotWise(env=settings.eventsourcing_env(), clock=clock)
        read_db = open_read_database(settings.read_db_url)
        runner = ProjectionRunner(read_db.writer, all_projectors())
        runner.setup()
        idempotency = IdempotencyStore(event_store_engine(settings))
        idempotency.setup()
    metrics = Metrics()
    metrics.watch_projections(runner.positions, app.recorder.max_notification_id)
    app.on_conflict_retry = metrics.conflict_retries.inc
    return Container(
        settings,
        app,
        read_db,
        runner,
        idempotency,
        clock,
        verifier=verifier,
        rate_limiter=limiter,
        metrics=metrics,
    )
