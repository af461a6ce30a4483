"""Read-your-writes: a read carrying X-Consistency-Token waits until projections caught up."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import Depends, Header
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidInput
from infra.web.deps import ContainerDep
from infra.web.problems import StaleRead


async def wait_for_token(
    container: ContainerDep,
    token: Annotated[str | None, Header(alias="X-Consistency-Token")] = None,
) -> None:
    if token is None:
        return
    if not (token.isascii() and token.isdecimal() and len(token) <= 18):
        raise InvalidInput(
            "X-Consistency-Token must be a token returned by the write API",
            field="X-Consistency-Token",
        )
    wanted = int(token)
    deadline = time.monotonic() + container.settings.consistency_wait_seconds
    pause = 0.005
    while await run_in_threadpool(container.runner.low_water_mark) < wanted:
        if time.monotonic() >= deadline:
            raise StaleRead("the read models have not caught up with that write yet")
        if container.follower is not None:
            container.follower.nudge()
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


Consistent = Depends(wait_for_token)
ConsistentDep = Annotated[None, Consistent]
