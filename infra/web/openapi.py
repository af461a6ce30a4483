"""OpenAPI that tells the truth: every problem+json answer, and the headers read and set.

Routes declare the problems particular to them (`problems(401, 403, 404)`);
what every route can answer is added here once: 422 for a bad parameter, 429
and 503 from the limits and the databases, 400 and 413 where a body is read,
401 where a token is checked. FastAPI's own 422 (`{"detail": [...]}`), which
the API never sends, is replaced by the shared `Problem` schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

PROBLEM_MEDIA = "application/problem+json"
REF = "#/components/schemas/{model}"
DESCRIPTIONS = {
    400: "Malformed JSON body, Content-Length or cursor",
    401: "Missing, invalid or expired bearer token",
    403: "The caller's role may not do this, or the resource is another tenant's",
    404: "No such resource",
    409: "Conflict with the current state (see `type`)",
    413: "Request body over the limit (64 KiB by default), refused before it is parsed",
    422: "Invalid input: `errors` names each field, parameter or header at fault",
    429: "Over the rate limit of the token or the client address; see Retry-After",
    503: "A database or the identity provider is unavailable, or the read models lag behind "
    "X-Consistency-Token; see Retry-After",
}
UNLIMITED = frozenset({"/health"})
UNCONNECTED = frozenset({"/health", "/metrics", "/ready"})  # no problem 503 of theirs
CORRELATION = {
    "name": "X-Correlation-Id",
    "in": "header",
    "required": False,
    "description": "Your id for this request (1-128 of [A-Za-z0-9._:-]); echoed back and "
    "recorded on every event the request causes. Anything else is replaced by a new id.",
    "schema": {"type": "string"},
}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and body answers as the first request did and "
    "changes nothing; the same key with another body is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


ALWAYS_SET = {"X-Correlation-Id": {**_header("the request's correlation id"), "required": True}}
RATE_HEADERS = {
    "RateLimit-Limit": _header("requests allowed per window (when limits are on)", "integer"),
    "RateLimit-Remaining": _header("requests left in the window", "integer"),
    "RateLimit-Reset": _header("seconds until the window resets", "integer"),
}
RETRY_AFTER = {"Retry-After": {**_header("seconds to wait", "integer"), "required": True}}
CONSISTENCY = {
    "X-Consistency-Token": {
        **_header("send it as X-Consistency-Token to the read API to read this write"),
        "required": True,
    }
}
LOCATION = {"Location": {**_header("the read API's path of the new resource"), "required": True}}
REPLAYED = {"Idempotent-Replayed": _header("`true` when a stored answer to the key is replayed")}


class FieldError(BaseModel):
    field: str = Field(description="JSON path of a body field, or a parameter or header name")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `type` is stable, extension members may follow."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://slotwise.dev/problems/validation-error",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "capacity: Input should be a valid integer",
                    "errors": [{"field": "capacity", "message": "Input should be a valid integer"}],
                }
            ]
        },
    )

    type: str = Field(examples=["https://slotwise.dev/problems/slot-unavailable"])
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(
        default_factory=list, description="the fields at fault (422, and conflicts on one field)"
    )


def problems(*statuses: int, conflict: str | None = None) -> dict[str, Any]:
    """A route's `openapi_extra`: problem statuses of its own, beyond those every route has.

    `conflict` names the schema of its 409 answers when they carry more than a Problem.
    """
    extra: dict[str, Any] = {"x-problems": sorted(statuses)}
    if conflict is not None:
        extra["x-conflict-schema"] = conflict
    return extra


def install(app: FastAPI, models: Sequence[type[BaseModel]] = ()) -> None:
    """Make `app.openapi()` document problems and headers (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _add_components(schema, [Problem, *models])
            commands = _routes_needing(app.routes, "get_gateway")
            for path, item in schema["paths"].items():
                for method, operation in item.items():
                    command = (path, method.upper()) in commands
                    _document(path, operation, command=command)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_components(schema: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    found = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        found.pop(unused, None)
    _, defs = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    found.update(defs.get("$defs", {}))


def _routes_needing(routes: Iterable[Any], dependency: str) -> set[tuple[str, str]]:
    """(path, method) of the routes that depend, directly or not, on `dependency`."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, APIRoute) and _depends_on(route.dependant, dependency):
            found.update((route.path_format, m) for m in route.methods or ())
    return found


def _depends_on(dependant: Dependant, name: str) -> bool:
    call: Callable[..., Any] | None = dependant.call
    if getattr(call, "__name__", None) == name:
        return True
    return any(_depends_on(d, name) for d in dependant.dependencies)


def _document(path: str, operation: dict[str, Any], *, command: bool) -> None:
    statuses = set(operation.pop("x-problems", []))
    conflict = operation.pop("x-conflict-schema", "Problem")
    statuses.add(422)  # parameters are checked on every route
    if path not in UNLIMITED:
        statuses.add(429)
    if path not in UNCONNECTED:
        statuses.add(503)
    if "requestBody" in operation:
        statuses.update((400, 413))
    if any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
        statuses.add(400)
    if operation.get("security"):
        statuses.add(401)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        schema = conflict if status == 409 else "Problem"
        responses[str(status)] = _problem_response(status, schema)
    parameters = operation.setdefault("parameters", [])
    parameters.append(CORRELATION)
    if command:
        parameters.append(IDEMPOTENCY)
    for status, response in responses.items():
        _set_headers(path, status, response, command=command)


def _problem_response(status: int, schema: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA: {"schema": {"$ref": REF.format(model=schema)}}},
    }


def _set_headers(path: str, status: str, response: dict[str, Any], *, command: bool) -> None:
    headers = response.setdefault("headers", {})
    headers.update(ALWAYS_SET)
    if path not in UNLIMITED:
        headers.update(RATE_HEADERS)
    if status == "429" or (status == "503" and path not in UNCONNECTED):
        headers.update(RETRY_AFTER)
    if command and status.startswith("2"):
        headers.update({**CONSISTENCY, **REPLAYED})
        if status == "201":
            headers.update(LOCATION)
