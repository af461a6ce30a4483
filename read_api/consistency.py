"""Read-your-writes: a read carrying X-Consistency-Token waits until its read models caught up.

Each endpoint names the consumers (projectors) whose tables it reads, and waits
for those alone: a stuck stats projector never delays an availability read.
A token beyond the end of the log was never issued by the write API and is
refused at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidInput
from infra.web.problems import StaleRead
from read_api.ports import Progress, ports

TOKEN = "X-Consistency-Token"
DIRECTORY = ("business_directory",)
CATALOGUE = ("business_directory", "service_catalogue")
AVAILABILITY = ("business_directory", "service_catalogue", "availability", "resources")
BOOKINGS = ("business_directory", "bookings")
RESOURCES = ("business_directory", "resources")
STATS = ("business_directory", "business_stats")
WAITLIST = ("waitlist",)


def parse_token(token: str) -> int:
    if not (token.isascii() and token.isdecimal() and len(token) <= 18):
        raise InvalidInput(f"{TOKEN} must be a token returned by the write API", field=TOKEN)
    return int(token)


def consistent_with(*consumers: str) -> Callable[..., Awaitable[None]]:
    """A dependency that waits (bounded) until `consumers` reflect the request's token."""

    async def wait(
        request: Request, token: Annotated[str | None, Header(alias=TOKEN)] = None
    ) -> None:
        if token is None:
            return  # most reads: no port is even looked up
        wanted = parse_token(token)
        found = ports(request)
        progress, log, config = found.progress, found.log, found.config
        if await run_in_threadpool(progress.reached, consumers) >= wanted:
            return
        written = await run_in_threadpool(log.max_notification_id)
        if wanted > (written or 0):
            raise InvalidInput(f"{TOKEN} is beyond the end of the event log", field=TOKEN)
        deadline = time.monotonic() + config.consistency_wait_seconds
        pause = 0.005
        while await run_in_threadpool(progress.reached, consumers) < wanted:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StaleRead("the read models have not caught up with that write yet")
            passed = next_pass(progress)
            progress.hurry()
            if passed is None:  # projected elsewhere (Kafka workers): poll
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, 0.05)
                continue
            # Woken as soon as this process's follower ends a pass (polling with a growing
            # pause used to answer up to a pause late: p50 34 ms instead of a few).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(passed, timeout=min(0.05, left))

    return wait


def next_pass(progress: Progress) -> asyncio.Future[None] | None:
    """A future of this event loop settled when the follower's next pass ends; None when no
    follower runs in this process (the projectors are elsewhere)."""
    loop = asyncio.get_running_loop()
    passed: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not passed.done():
            passed.set_result(None)

    def wake() -> None:  # in the follower's thread
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(settle)

    return passed if progress.after_next_pass(wake) else None


# What each family of reads waits for.
DirectoryRead = Annotated[None, Depends(consistent_with(*DIRECTORY))]
CatalogueRead = Annotated[None, Depends(consistent_with(*CATALOGUE))]
AvailabilityRead = Annotated[None, Depends(consistent_with(*AVAILABILITY))]
BookingsRead = Annotated[None, Depends(consistent_with(*BOOKINGS))]
ResourcesRead = Annotated[None, Depends(consistent_with(*RESOURCES))]
StatsRead = Annotated[None, Depends(consistent_with(*STATS))]
WaitlistRead = Annotated[None, Depends(consistent_with(*WAITLIST))]
