"""One settings object, read from SLOTWISE_* environment variables (and .env); fails fast."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "slotwise-development-secret-change-me"


# "600/minute": a rate every `limits` version reads (others are checked by `limits` itself).
SIMPLE_LIMIT = re.compile(r"\s*[0-9]+\s*/\s*(second|minute|hour|day)\s*")


class ConfigurationError(ValueError):
    """A setting that cannot work; the CLI says it in one sentence."""


class Settings(BaseSettings):
    """Unset everything and you get the embedded stack under ./.slotwise."""

    model_config = SettingsConfigDict(env_prefix="SLOTWISE_", env_file=".env", extra="ignore")

    # "development" lets the APIs serve with the public development secret or a short
    # one (infra/secret_policy.py); `slotwise dev` and `slotwise token` are development.
    env: Literal["production", "development"] = "production"
    data_dir: Path = Path(".slotwise")
    event_store: str = ""
    read_db: str = ""
    kafka: str = ""
    redis: str = ""
    jwt_secret: str = ""
    stripe_api_key: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    # Several secrets, comma-separated, while a webhook endpoint's secret is rotated.
    stripe_webhook_secret: str = ""
    # A Stripe call waits this long; the library retries it this often under the same
    # idempotency key (3 x 8 s fits in the 30 s Idempotency-Key lease of a booking request).
    stripe_timeout_seconds: float = Field(default=8.0, gt=0, le=120)
    stripe_max_network_retries: int = Field(default=2, ge=0, le=10)
    # While a booking request waits for its PaymentIntent: one try this long, no retries (the
    # booking is held and the payment worker creates the intent when Stripe answers again).
    stripe_request_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    # How often the payment worker looks for new events and due tasks (holds, retries).
    payments_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # How often the waitlist process manager looks for new events and due offers' ends, and
    # how long a task it claimed is its own (a killed worker's tasks wait that long at most).
    waitlist_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    waitlist_lease_seconds: float = Field(default=10.0, gt=0, le=3600)
    # Webhooks: loopback/private addresses and plain http allowed (tests, development only).
    webhooks_allow_private: bool = False
    webhooks_poll_seconds: float = Field(default=0.1, gt=0, le=60)
    webhooks_concurrency: int = Field(default=16, ge=1, le=256)
    # Notifications (slotwise notify): SMTP server (unset: no email), sender, SMS API
    # (a Twilio-compatible Messages API base; unset: no SMS) and its account.
    smtp_url: str = ""
    mail_from: str = "SlotWise <bookings@slotwise.invalid>"
    sms_url: str = ""
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = "SlotWise"
    # How often the notifier looks for due messages (a reminder is never later than this),
    # and how long a claimed message is its worker's before another may take it.
    notify_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    notify_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Where the read API is reached from outside (calendar feed URLs point there).
    read_api_url: str = "http://127.0.0.1:8001"
    # Aggregates the command side keeps in memory per process (0: none; commands/cache.py).
    aggregate_cache_size: int = Field(default=10_000, ge=0, le=1_000_000)
    # How long a Business or Service read from the event store is trusted without reading
    # it again: the most a command may lag another process's change to them.
    aggregate_cache_max_age_seconds: float = Field(default=1.0, ge=0, le=3600)
    consistency_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    follower_poll_seconds: float = Field(default=0.05, gt=0, le=5)
    # Take a snapshot of a business, service or day allocation every N events (0: never).
    snapshot_interval: int = Field(default=20, ge=0, le=100_000)
    # An Idempotency-Key claim is a lease: a crashed request's key is free again after it.
    idempotency_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How long a completed key keeps answering with its stored response.
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    # A consumer retries a failing event this often, with backoff, before parking it.
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)
    consumer_backoff_seconds: float = Field(default=0.05, gt=0, le=60)
    # Tokens from an identity provider (RS256/ES256); HS256 needs jwt_secret.
    jwt_jwks_url: str = ""
    jwt_jwks_file: Path | None = None
    jwt_jwks_cooldown_seconds: float = Field(default=30, ge=0, le=3600)
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_max_lifetime_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # The dashboard's sign-in through an OpenID Connect provider (authorization code with
    # PKCE, a public client): the provider's issuer URL and the dashboard's client id there.
    # Its access tokens must verify against the JWKS above and carry `sub` and `role`.
    oidc_issuer: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    oidc_client_id: str = Field(default="", pattern=r"^[\x21-\x7e]{0,200}$")
    oidc_scope: str = Field(default="openid", pattern=r"^[\x21\x23-\x5b\x5d-\x7e ]{1,500}$")
    # Abuse limits: "N/second|minute|hour|day" (limits' notation); "off" disables one.
    rate_limit_per_token: str = "600/minute"
    rate_limit_per_address: str = "1200/minute"
    # Every Redis key starts with it: deployments (or tests) sharing a server stay apart.
    redis_prefix: str = Field(default="slotwise", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Browser origins allowed to call both APIs (comma-separated, e.g. https://app.example);
    # none by default: a browser on another origin is refused.
    cors_origins: str = ""
    # The write API's public address, for the dashboard and widget pages the read API
    # serves (e.g. https://api.example); empty: the same origin as the read API.
    write_api_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    # Live events (GET /v1/businesses/{id}/events): a comment this often keeps idle
    # streams open through proxies; a client this many events behind is disconnected;
    # the read side's progress is also checked this often when nothing wakes the stream.
    events_keepalive_seconds: float = Field(default=15.0, gt=0, le=300)
    events_queue_size: int = Field(default=1000, ge=1, le=100_000)
    events_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    events_replay_page: int = Field(default=500, ge=1, le=10_000)

    @field_validator("kafka_retention_ms")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value != -1 and value < 60_000:
            raise ValueError("must be -1 (keep for ever) or at least 60000 (one minute)")
        return value

    @field_validator("rate_limit_per_token", "rate_limit_per_address")
    @classmethod
    def _limit(cls, value: str) -> str:
        if value.strip().lower() in ("", "off") or SIMPLE_LIMIT.fullmatch(value):
            return value  # a form `limits` reads, told without importing it (slow: 60 ms)
        import limits

        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"must be like 600/minute or off, not {value!r}") from None
        return value

    # PostgreSQL connection budget per process (see docs/operations.md): the event
    # store's pool is opened eagerly, the SQLAlchemy pools lazily. A `pool_size` or
    # `max_overflow` in a database URL overrides these for that database.
    event_store_pool_size: int = Field(default=2, ge=1, le=100)
    event_store_max_overflow: int = Field(default=4, ge=0, le=100)
    read_db_pool_size: int = Field(default=2, ge=1, le=100)
    read_db_max_overflow: int = Field(default=4, ge=0, le=100)
    # Our own tables in the event-store database: idempotency keys, the relay's progress.
    event_store_tables_pool_size: int = Field(default=1, ge=1, le=100)
    event_store_tables_max_overflow: int = Field(default=2, ge=0, le=100)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Opening a PostgreSQL connection gives up after this long (libpq connect_timeout).
    db_connect_timeout_seconds: int = Field(default=3, ge=1, le=300)
    # Within a request, the longest wait for any one PostgreSQL answer (more than the
    # event store's 5 s lock_timeout); then the connection is closed and the request is
    # a 503. Background work (projectors, relay, rebuilds) has no such deadline.
    db_request_timeout_seconds: float = Field(default=6.0, gt=0, le=300)
    # /ready answers within this long even if a dependency hangs (that one reports failing).
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # PostgreSQL: insert each save with one server-side function that holds the events
    # table's lock only while it runs (infra/pg_recorder.py); off: the library's recorder.
    event_store_server_side_insert: bool = True

    # Log level of every process (`--log-level` overrides); kafka-python's INFO lines only at debug.
    log_level: str = Field(default="info", pattern=r"(?i)^(debug|info|warning|error)$")

    # Kafka (production delivery): SLOTWISE_KAFKA is the bootstrap servers list.
    kafka_topic_prefix: str = Field(default="slotwise", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    kafka_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    # retention.ms of the topics the relay creates: -1 keeps every record (analytics
    # consumers replay the topics); otherwise at least a minute.
    kafka_retention_ms: int = -1
    kafka_group: str = Field(default="slotwise.projectors", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    kafka_max_message_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=500, le=300_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100, le=60_000)
    # Also how long a rebalance may wait for members that left without a word.
    kafka_max_poll_interval_ms: int = Field(default=30_000, ge=1_000, le=3_600_000)
    # How long the broker may hold a fetch that found nothing new (latency of an idle worker).
    kafka_fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    kafka_request_timeout_ms: int = Field(default=10_000, ge=500, le=300_000)
    relay_batch_size: int = Field(default=500, ge=1, le=100_000)
    relay_poll_seconds: float = Field(default=0.05, gt=0, le=5)
    # How often a relay that is not the leader tries to take the leader lock.
    relay_leader_retry_seconds: float = Field(default=1.0, gt=0, le=60)

    # Redis (production cache and idempotency keys): SLOTWISE_REDIS is a redis:// URL.
    redis_pool_size: int = Field(default=10, ge=1, le=1000)
    # Deadlines of every Redis call (connect, answer, a free pooled connection); after a
    # failure Redis is left alone this long: reads skip the cache, limits are not counted,
    # keyed commands answer 503 at once (no request waits on a Redis known to be away).
    redis_timeout_seconds: float = Field(default=1.0, gt=0, le=60)
    redis_retry_seconds: float = Field(default=5.0, ge=0, le=300)
    cache_ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    # The read cache (availability answers): Redis when SLOTWISE_REDIS is set, else memory.
    read_cache: bool = True
    read_cache_entries: int = Field(default=10_000, ge=1, le=10_000_000)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            parts = urlsplit(origin)
            plain = parts.scheme in ("http", "https") and parts.netloc
            if origin != "*" and not (plain and origin == f"{parts.scheme}://{parts.netloc}"):
                raise ValueError(f"each origin must be like https://app.example, not {origin!r}")
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @model_validator(mode="after")
    def _check(self) -> Self:
        scheme = urlsplit(self.event_store_url).scheme
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"SLOTWISE_EVENT_STORE must be sqlite:///PATH or postgresql://..., got {scheme!r}"
            )
        if self.uses_postgres and not self.jwt_secret and not self.uses_jwks:
            raise ValueError(
                "SLOTWISE_JWT_SECRET (or SLOTWISE_JWT_JWKS_URL / _FILE) is required "
                "outside the embedded stack"
            )
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise ValueError(
                "SLOTWISE_OIDC_ISSUER and SLOTWISE_OIDC_CLIENT_ID go together: set both or neither"
            )
        if self.oidc_issuer and not self.uses_jwks:
            raise ValueError(
                "SLOTWISE_OIDC_ISSUER needs SLOTWISE_JWT_JWKS_URL (or _FILE): the provider's "
                "tokens are checked against its public keys"
            )
        if self.redis and urlsplit(self.redis).scheme not in ("redis", "rediss"):
            raise ValueError("SLOTWISE_REDIS must be a redis:// or rediss:// URL")
        if self.kafka and not self.uses_postgres:
            raise ValueError(
                "SLOTWISE_KAFKA needs a PostgreSQL event store (SLOTWISE_EVENT_STORE): "
                "the relay's leader lock is a PostgreSQL advisory lock"
            )
        return self

    @property
    def uses_jwks(self) -> bool:
        return bool(self.jwt_jwks_url or self.jwt_jwks_file)

    @property
    def development_secret_in_use(self) -> bool:
        """HS256 tokens are checked with the public development secret."""
        return not self.jwt_secret and not self.uses_jwks

    @property
    def event_store_url(self) -> str:
        return self.event_store or f"sqlite:///{self.data_dir / 'events.sqlite'}"

    @property
    def read_db_url(self) -> str:
        return self.read_db or f"sqlite:///{self.data_dir / 'read.sqlite'}"

    @property
    def uses_postgres(self) -> bool:
        return urlsplit(self.event_store_url).scheme in ("postgresql", "postgres")

    @property
    def stripe_webhook_secrets(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.stripe_webhook_secret.split(",") if s.strip())

    @property
    def jwt_key(self) -> str:
        """The HS256 secret: the configured one, else (embedded, no JWKS) the development one."""
        return self.jwt_secret or ("" if self.uses_jwks else DEV_JWT_SECRET)

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the eventsourcing library reads to build its recorder."""
        env = {"TRANSCODER_TOPIC": "infra.transcoder:OrjsonTranscoder"}
        url = urlsplit(self.event_store_url)
        if url.scheme == "sqlite":
            path = Path(url.path[1:] if url.path.startswith("/") else url.path)
            path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(path),
                SQLITE_LOCK_TIMEOUT="10",
                APPLICATION_RECORDER_TOPIC="infra.audit.sqlite_chain:ChainedSQLiteRecorder",
            )
            return env
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        env.update(
            PERSISTENCE_MODULE="infra.pg_factory:DeadlinePostgresFactory",
            POSTGRES_LIBPQ_CONNECT_TIMEOUT=query.get(
                "connect_timeout", str(self.db_connect_timeout_seconds)
            ),
            POSTGRES_DBNAME=url.path.lstrip("/") or "slotwise",
            POSTGRES_HOST=url.hostname or "127.0.0.1",
            POSTGRES_PORT=str(url.port or 5432),
            POSTGRES_USER=url.username or "postgres",
            POSTGRES_PASSWORD=url.password or "",
            POSTGRES_SCHEMA=query.get("schema", "public"),
            POSTGRES_POOL_SIZE=query.get("pool_size", str(self.event_store_pool_size)),
            POSTGRES_MAX_OVERFLOW=query.get("max_overflow", str(self.event_store_max_overflow)),
            POSTGRES_LOCK_TIMEOUT=query.get("lock_timeout", "5"),
        )
        env["APPLICATION_RECORDER_TOPIC"] = (
            "infra.pg_recorder:LockedInsertRecorder"
            if self.event_store_server_side_insert
            else "infra.audit.pg_chain:ChainedPostgresRecorder"
        )
        # The library's "connect timeout" is how long one waits for a pooled connection.
        pool_wait = query.get("connect_timeout", str(max(1, round(self.db_pool_timeout_seconds))))
        env["POSTGRES_CONNECT_TIMEOUT"] = pool_wait
        return env

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka.split(",") if s.strip()]

    def event_store_sqlalchemy_url(self) -> str:
        """The same database as the event store, for our own tables (idempotency keys)."""
        return sqlalchemy_url(self.event_store_url)


OUR_OPTIONS = (
    "schema",
    "pool_size",
    "max_overflow",
    "lock_timeout",
    "pool_timeout",
    "connect_timeout",
)
POOL_DEFAULTS = {"pool_size": 10, "max_overflow": 20, "pool_timeout": 10.0}


def pool_options(url: str, **defaults: float) -> dict[str, float]:
    """SQLAlchemy pool settings from a PostgreSQL URL's query (`pool_size`, `max_overflow`,
    `pool_timeout` seconds a request waits for a connection before answering 503)."""
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    chosen = {**POOL_DEFAULTS, **defaults}
    try:
        return {
            "pool_size": int(query.get("pool_size", chosen["pool_size"])),
            "max_overflow": int(query.get("max_overflow", chosen["max_overflow"])),
            "pool_timeout": float(query.get("pool_timeout", chosen["pool_timeout"])),
        }
    except ValueError:
        raise ConfigurationError(
            "pool_size, max_overflow and pool_timeout must be numbers"
        ) from None


def sqlalchemy_url(url: str) -> str:
    """Point postgresql:// URLs at psycopg 3; `schema=X` becomes the search path."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return url
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    kept = {k: v for k, v in query.items() if k not in OUR_OPTIONS}
    if "schema" in query:
        kept["options"] = f"-csearch_path={query['schema']}"
    return parts._replace(scheme="postgresql+psycopg", query=urlencode(kept)).geturl()


def with_local_pages(settings: Settings, host: str, write_port: int, read_port: int) -> Settings:
    """The read API's pages call the write API on its port (unless already configured)."""
    hosts = [host, "localhost"] if host == "127.0.0.1" else [host]
    update: dict[str, str] = {}
    if not settings.write_api_url:
        update["write_api_url"] = f"http://{host}:{write_port}"
    if not settings.cors_origins:
        update["cors_origins"] = ",".join(f"http://{name}:{read_port}" for name in hosts)
    return settings.model_copy(update=update)
