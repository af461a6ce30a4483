"""GET /v1/businesses/{id}/events: the business's public events as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from domain.envelope import Envelope
from domain.errors import InvalidInput
from infra.envelopes import envelope_to_json
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from read_api.consistency import DirectoryRead
from read_api.live import Broadcaster, Subscriber
from read_api.ports import ConfigDep, ReadDbDep
from read_api.routes.bookings import staff_business

router = APIRouter(tags=["events"])
KEEP_ALIVE = b": keep-alive\n\n"
TOO_SLOW = b": too slow: reconnect with Last-Event-ID to resume\n\n"
STREAM = {
    "description": "text/event-stream: `id:` the log position, `event:` the CloudEvents type, "
    "`data:` the CloudEvents envelope (JSON); a `: keep-alive` comment when idle",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


def frame(envelope: Envelope) -> bytes:
    """One event as the stream sends it."""
    data = envelope_to_json(envelope)
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (envelope.position, envelope.type.encode(), data)


def parse_position(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 18):
        raise InvalidInput(f"{name} must be an event id this stream sent", field=name)
    return int(raw)


@router.get(
    "/v1/businesses/{business_id}/events",
    response_class=StreamingResponse,
    responses={200: STREAM},
    openapi_extra=problems(403, 404),
)
async def stream_events(
    business_id: UUID,
    request: Request,
    actor: ActorDep,
    read_db: ReadDbDep,
    config: ConfigDep,
    _: DirectoryRead,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_query: Annotated[str | None, Query(alias="last_event_id")] = None,
) -> StreamingResponse:
    """Live events of the business (owner or admin); Last-Event-ID resumes without gaps."""
    raw, name = (
        (last_event_id, "Last-Event-ID") if last_event_id else (last_event_query, "last_event_id")
    )
    after = parse_position(raw, name) if raw else None

    def check() -> None:
        with read_db.reader.connect() as conn:
            staff_business(conn, actor, business_id)

    await to_thread.run_sync(check)
    broadcaster: Broadcaster = request.app.state.broadcaster
    subscriber = await broadcaster.subscribe(str(business_id))
    keep_alive = config.events_keepalive_seconds
    return StreamingResponse(
        _stream(broadcaster, subscriber, after, keep_alive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    broadcaster: Broadcaster, subscriber: Subscriber, after: int | None, keep_alive: float
) -> AsyncIterator[bytes]:
    sent = subscriber.start if after is None else after
    try:
        yield b"retry: 2000\n\n"
        if after is not None:
            async for envelope in _replay(broadcaster, subscriber, after):
                sent = envelope.position
                yield frame(envelope)
        while True:
            try:
                async with asyncio.timeout(keep_alive):
                    envelope = await subscriber.queue.get()
            except TimeoutError:
                yield KEEP_ALIVE
                continue
            if subscriber.dropped:
                yield TOO_SLOW
                return
            if envelope.position > sent:  # replayed already
                sent = envelope.position
                yield frame(envelope)
    finally:
        broadcaster.unsubscribe(subscriber)


async def _replay(
    broadcaster: Broadcaster, subscriber: Subscriber, after: int
) -> AsyncIterator[Envelope]:
    """The business's events after `after` up to where the live queue begins, page by page."""
    cursor = after
    while cursor < subscriber.start:
        last, found = await to_thread.run_sync(broadcaster.sources.read, cursor, broadcaster.page)
        for business_id, envelope in found:
            if business_id == subscriber.business_id and envelope.position <= subscriber.start:
                yield envelope
        if last <= cursor:
            return
        cursor = last
