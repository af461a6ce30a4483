"""What the read API needs, as small ports, and the FastAPI dependencies that resolve them.

`read_api.app.ports_for` fills `ReadPorts` from the adapters the role's composition root
built (infra/bootstrap.py), once, when the app starts; routes see only these Protocols. A
test swaps an adapter by handing it to the builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import Depends, Request
from sqlalchemy import Engine

from domain.envelope import Envelope
from infra.audit.search import EventQuery, Found
from infra.audit.trail import ChainHead
from read_api.personal import PersonalDataReader

Clock = Callable[[], datetime]


class ReadModels(Protocol):
    """The read models' database: `reader` is the engine queries run on."""

    @property
    def reader(self) -> Engine: ...


class AnswerCache(Protocol):
    """Cached answers (availability), by key."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...


class Progress(Protocol):
    """How far the read models are: read-your-writes waits on it."""

    def reached(self, consumers: tuple[str, ...]) -> int: ...

    def hurry(self) -> None: ...

    def after_next_pass(self, callback: Callable[[], None]) -> bool:
        """`callback` once this process's projectors end their next pass (False: they run
        elsewhere)."""


class EventLog(Protocol):
    """The event store's notification log: how far it goes, and its envelopes after a point."""

    def max_notification_id(self) -> int | None: ...

    def read(self, after: int, limit: int) -> tuple[int, list[Envelope]]: ...


class Delivered(Protocol):
    """Calls `wake` whenever the read side may have advanced; the result stops it."""

    def __call__(self, wake: Callable[[], None]) -> Callable[[], None]: ...


class AuditTrail(Protocol):
    """The audit reads of the event store."""

    def history(self, aggregate_id: UUID) -> list[Envelope]: ...

    def state(self, aggregate_id: UUID, version: int | None) -> Any | None: ...

    def version_at(self, aggregate_id: UUID, at: datetime) -> int: ...

    def search(self, query: EventQuery, after: int, limit: int) -> tuple[list[Found], int | None]:
        """Up to `limit` matching events after `after`, and the position to go on after."""

    def head(self) -> ChainHead | None: ...


class FeedLookup(Protocol):
    """Which business a calendar feed key belongs to (None: no such key, or rotated)."""

    def business_of(self, key: str) -> str | None: ...


class NotificationLog(Protocol):
    """A business's notification log, newest first, paged by sequence number."""

    def page(
        self, business_id: str, limit: int, after: int | None
    ) -> tuple[list[dict[str, Any]], int | None]: ...


class WebhookReads(Protocol):
    """A business's webhooks (never their secrets) and each one's delivery attempts."""

    def subscriptions(self, business_id: str) -> list[dict[str, Any]]: ...

    def owner(self, webhook_id: str) -> str | None: ...

    def attempts(self, webhook_id: str, limit: int, before: int | None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ReadConfig:
    """The settings the read API's routes go by."""

    consistency_wait_seconds: float  # how long a read waits for its consistency token
    events_keepalive_seconds: float
    events_queue_size: int
    events_poll_seconds: float
    events_replay_page: int
    write_api_url: str  # where the pages send commands ("": this origin)
    oidc_issuer: str = ""  # where the dashboard signs in ("": paste a token)
    oidc_client_id: str = ""
    oidc_scope: str = ""


@dataclass(frozen=True)
class ReadPorts:
    """Every adapter the read API uses, by the port it fills."""

    read_models: ReadModels
    cache: AnswerCache
    progress: Progress
    log: EventLog
    delivered: Delivered
    clock: Clock
    personal_data: PersonalDataReader | None
    audit: AuditTrail
    feeds: FeedLookup
    notifications: NotificationLog
    webhooks: WebhookReads
    config: ReadConfig


def ports(request: Request) -> ReadPorts:
    found: ReadPorts = request.app.state.ports
    return found


async def get_read_models(request: Request) -> ReadModels:
    return ports(request).read_models


async def get_cache(request: Request) -> AnswerCache:
    return ports(request).cache


async def get_progress(request: Request) -> Progress:
    return ports(request).progress


async def get_log(request: Request) -> EventLog:
    return ports(request).log


async def get_clock(request: Request) -> Clock:
    return ports(request).clock


async def get_personal_data(request: Request) -> PersonalDataReader | None:
    return ports(request).personal_data


async def get_audit(request: Request) -> AuditTrail:
    return ports(request).audit


async def get_feeds(request: Request) -> FeedLookup:
    return ports(request).feeds


async def get_notifications(request: Request) -> NotificationLog:
    return ports(request).notifications


async def get_webhooks(request: Request) -> WebhookReads:
    return ports(request).webhooks


async def get_config(request: Request) -> ReadConfig:
    return ports(request).config


ReadDbDep = Annotated[ReadModels, Depends(get_read_models)]
CacheDep = Annotated[AnswerCache, Depends(get_cache)]
ProgressDep = Annotated[Progress, Depends(get_progress)]
EventLogDep = Annotated[EventLog, Depends(get_log)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PersonalDataDep = Annotated[PersonalDataReader | None, Depends(get_personal_data)]
AuditDep = Annotated[AuditTrail, Depends(get_audit)]
FeedsDep = Annotated[FeedLookup, Depends(get_feeds)]
NotificationsDep = Annotated[NotificationLog, Depends(get_notifications)]
WebhooksDep = Annotated[WebhookReads, Depends(get_webhooks)]
ConfigDep = Annotated[ReadConfig, Depends(get_config)]
