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

from fastapi import Depends, Header
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidInput
from infra.follower import Follower
from infra.web.deps import ContainerDep
from infra.web.problems import StaleRead

TOKEN = "X-Consistency-Token"
DIRECTORY = ("business_directory",)
CATALOGUE = ("business_directory", "service_catalogue")
AVAILABILITY = ("business_directory", "service_catalogue", "availability")
BOOKINGS = ("business_directory", "bookings")
STATS = ("business_directory", "business_stats")


def parse_token(token: str) -> int:
    if not (token.isascii() and token.isdecimal() and len(token) <= 18):
        raise InvalidInput(f"{TOKEN} must be a token returned by the write API", field=TOKEN)
    return int(token)


def consistent_with(*consumers: str) -> Callable[..., Awaitable[None]]:
    """A dependency that waits (bounded) until `consumers` reflect the request's token."""

    async def wait(
        container: ContainerDep, token: Annotated[str | None, Header(alias=TOKEN)] = None
    ) -> None:
        if token is None:
            return
        wanted = parse_token(token)
        if await run_in_threadpool(container.reached, consumers) >= wanted:
            return
        written = await run_in_threadpool(container.app.recorder.max_notification_id)
        if wanted > (written or 0):
            raise InvalidInput(f"{TOKEN} is beyond the end of the event log", field=TOKEN)
        deadline = time.monotonic() + container.settings.consistency_wait_seconds
        pause = 0.005
        while await run_in_threadpool(container.reached, consumers) < wanted:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StaleRead("the read models have not caught up with that write yet")
            follower = container.follower
            if follower is None:  # projected elsewhere (Kafka workers): poll
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, 0.05)
                continue
            # Woken as soon as this process's follower ends a pass (polling with a growing
            # pause used to answer up to a pause late: p50 34 ms instead of a few).
            passed = next_pass(follower)
            follower.nudge()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(passed, timeout=min(0.05, left))

    return wait


def next_pass(follower: Follower) -> asyncio.Future[None]:
    """A future of this event loop settled when the follower's next pass ends."""
    loop = asyncio.get_running_loop()
    passed: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not passed.done():
            passed.set_result(None)

    def wake() -> None:  # in the follower's thread
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(settle)

    follower.after_next_pass(wake)
    return passed


# What each family of reads waits for.
DirectoryRead = Annotated[None, Depends(consistent_with(*DIRECTORY))]
CatalogueRead = Annotated[None, Depends(consistent_with(*CATALOGUE))]
AvailabilityRead = Annotated[None, Depends(consistent_with(*AVAILABILITY))]
BookingsRead = Annotated[None, Depends(consistent_with(*BOOKINGS))]
StatsRead = Annotated[None, Depends(consistent_with(*STATS))]
