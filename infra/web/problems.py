"""RFC 9457 problem+json: the one place where errors become HTTP answers."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import orjson
from eventsourcing.persistence import DatabaseError as PersistenceDatabaseError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import exc as sqlalchemy_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unavailable
from infra.auth import KeysUnavailable, Unauthenticated
from infra.breaker import DependencyUnavailable

log = logging.getLogger(__name__)
# The problem types a request answered with, for the command-outcome metric (set per request).
PROBLEM_CODES: ContextVar[list[str] | None] = ContextVar("slotwise_problem_codes", default=None)
PROBLEM_BASE = "https://slotwise.dev/problems/"
STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (Unavailable, 503),
)


class StaleRead(Exception):
    """A read asked for a write the read models do not reflect yet; try again shortly."""


def _unavailable() -> tuple[type[Exception], ...]:
    """Errors that mean a database is out of reach or out of connections, not a bug."""
    kinds: list[type[Exception]] = [
        sqlalchemy_exc.TimeoutError,  # a pool's wait for a free connection ran out
        sqlalchemy_exc.OperationalError,  # unreachable, too many connections, locked
        PersistenceOperationalError,  # the event store's, after its own retries
    ]
    try:
        import psycopg  # only with the postgres extra
    except ImportError:
        return tuple(kinds)
    return (*kinds, psycopg.OperationalError)  # PoolTimeout is one


DATABASE_UNAVAILABLE = _unavailable()


def _redis_away() -> tuple[type[Exception], ...]:
    """Redis did not answer in time or cannot be reached (only with the redis extra)."""
    try:
        import redis
    except ImportError:
        return ()
    return (redis.ConnectionError, redis.TimeoutError)


REDIS_UNAVAILABLE = _redis_away()
# Errors that are a bug unless a request's PostgreSQL deadline is behind them.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy_exc.DatabaseError,
    PersistenceDatabaseError,
)


def timed_out(error: BaseException | None) -> bool:
    """Whether a request's PostgreSQL deadline (infra/pg_deadline.py) caused `error`."""
    seen = 0
    while error is not None and seen < 10:
        if type(error).__name__ == "DatabaseTimeout":  # psycopg is an optional extra
            return True
        orig = getattr(error, "orig", None)  # SQLAlchemy keeps the driver's error there
        error = orig if isinstance(orig, BaseException) else error.__cause__
        seen += 1
    return False


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    codes = PROBLEM_CODES.get()
    if codes is not None:
        codes.append(code)
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def status_for(error: DomainError) -> int:
    return next((status for kind, status in STATUS_OF if isinstance(error, kind)), 400)


def domain_problem(error: DomainError) -> Response:
    extra: dict[str, Any] = error.members()
    if error.field:
        extra["errors"] = [{"field": error.field, "message": error.detail}]
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem(
        status_for(error), error.code, error.title, error.detail, headers=headers, **extra
    )


def dependency_problem(dependency: str, retry_after: int) -> Response:
    """A dependency that did not answer in time: 503, try again after `retry_after` s."""
    return problem(
        503,
        "dependency-unavailable",
        "Dependency unavailable",
        f"{dependency} did not answer in time or is out of reach; retry shortly",
        headers={"Retry-After": str(retry_after)},
        dependency=dependency.split(" ")[0].lower(),
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"] or [str(loc[0])]
    return ".".join(parts)


def validation_problem(error: RequestValidationError) -> Response:
    issues = list(error.errors())
    if any(i.get("type") == "json_invalid" for i in issues):
        detail = next(i.get("ctx", {}).get("error", "") for i in issues)
        return problem(
            400,
            "malformed-json",
            "Malformed JSON body",
            f"the request body is not valid JSON: {detail}",
        )
    errors = [{"field": _field(tuple(i["loc"])), "message": i["msg"]} for i in issues]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "validation-error", "Invalid request", detail, errors=errors)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, error: DomainError) -> Response:
        return domain_problem(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> Response:
        return validation_problem(error)

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, error: Unauthenticated) -> Response:
        return problem(
            401,
            "unauthenticated",
            "Unauthenticated",
            str(error),
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(KeysUnavailable)
    async def _keys(_: Request, error: KeysUnavailable) -> Response:
        return problem(
            503,
            "identity-provider-unavailable",
            "Identity provider unavailable",
            "bearer tokens cannot be checked right now: the identity provider's keys "
            "cannot be fetched; retry shortly",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StaleRead)
    async def _stale(_: Request, error: StaleRead) -> Response:
        return problem(
            503,
            "not-yet-consistent",
            "Read models still catching up",
            str(error),
            headers={"Retry-After": "1"},
        )

    async def _database_unavailable(_: Request, error: Exception) -> Response:
        log.warning("database unavailable: %s", error.__class__.__name__)
        return problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "the database is busy or out of reach; retry shortly",
            headers={"Retry-After": "1"},
        )

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, _database_unavailable)

    async def _database_error(request: Request, error: Exception) -> Response:
        if timed_out(error):  # the request's deadline, wrapped by a library
            return await _database_unavailable(request, error)
        return await _bug(request, error)

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)

    @app.exception_handler(DependencyUnavailable)
    async def _dependency(_: Request, error: DependencyUnavailable) -> Response:
        return dependency_problem(error.dependency, error.retry_after)

    async def _redis_unavailable(_: Request, error: Exception) -> Response:
        log.warning("redis unavailable: %r", error)
        return dependency_problem("Redis", 1)

    for kind in REDIS_UNAVAILABLE:
        app.add_exception_handler(kind, _redis_unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        return problem(
            error.status_code,
            code,
            str(error.detail),
            str(error.detail),
            headers=getattr(error, "headers", None),
        )

    async def _bug(_: Request, error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem(
            500,
            "internal-error",
            "Internal server error",
            "an unexpected error occurred; it has been logged",
        )

    app.add_exception_handler(Exception, _bug)
