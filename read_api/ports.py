"""What the read API needs, as small ports, and the FastAPI dependencies that resolve them.

The adapters come from the role's composition root (infra/bootstrap.py), held on
`app.state`; they are looked up per request, so a test may swap one on a running app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import Engine

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


def _container(request: Request) -> Any:
    return request.app.state.container


async def get_read_models(request: Request) -> ReadModels:
    models: ReadModels = _container(request).read_db
    return models


async def get_cache(request: Request) -> AnswerCache:
    cache: AnswerCache = _container(request).cache
    return cache


async def get_progress(request: Request) -> Progress:
    progress: Progress = _container(request).progress
    return progress


async def get_clock(request: Request) -> Clock:
    clock: Clock = _container(request).clock
    return clock


async def get_personal_data(request: Request) -> PersonalDataReader | None:
    keys: PersonalDataReader | None = _container(request).personal_data
    return keys


ReadDbDep = Annotated[ReadModels, Depends(get_read_models)]
CacheDep = Annotated[AnswerCache, Depends(get_cache)]
ProgressDep = Annotated[Progress, Depends(get_progress)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PersonalDataDep = Annotated[PersonalDataReader | None, Depends(get_personal_data)]
