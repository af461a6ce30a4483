"""Abuse limits on both APIs: rate limits per token and per client address (in memory, and in
the local Redis), and a request body limit that answers 413 before the body is parsed or the
token checked."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import assert_problem
from write_api.app import create_app as create_write_app

REDIS = "redis://127.0.0.1:6379/0"
Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture(params=["memory", "redis"])
def limiter_store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def limited(tmp_path: Path, store: str, prefix: str = "", **limits: Any) -> Iterator[Container]:
    """A container with these limits, counting in memory or in Redis under a fresh prefix."""
    settings = Settings(
        data_dir=tmp_path / uuid.uuid4().hex[:6],
        jwt_secret=JWT_SECRET,
        redis=REDIS if store == "redis" else "",
        redis_prefix=prefix or f"test-{uuid.uuid4().hex[:12]}",
        **limits,
    )
    container = bootstrap(settings)
    try:
        yield container
    finally:
        reset = getattr(container.rate_limiter, "reset", None)
        if reset is not None and not prefix:
            reset()
        container.close()


def read_client(container: Container) -> TestClient:
    return TestClient(create_read_app(container), raise_server_exceptions=False)


def test_over_the_token_limit_is_a_429_with_retry_after_and_ratelimit_headers(
    tmp_path: Path, limiter_store: str, token: Headers
) -> None:
    with (
        limited(tmp_path, limiter_store, rate_limit_per_token="3/minute") as container,
        read_client(container) as client,
    ):
        ann = token("ann", "customer")
        answers = [client.get("/v1/me/bookings", headers=ann) for _ in range(4)]
        others = client.get("/v1/me/bookings", headers=token("bob", "customer"))
        health = client.get("/health", headers=ann)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    refused = answers[-1]
    problem = assert_problem(refused, 429, "rate-limited")
    assert "token" in problem["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 60
    assert others.status_code == 200  # each token has its own budget
    assert health.status_code == 200 and "RateLimit-Limit" not in health.headers


def test_a_limited_token_is_served_again_after_retry_after(
    tmp_path: Path, limiter_store: str, token: Headers
) -> None:
    with (
        limited(tmp_path, limiter_store, rate_limit_per_token="2/second") as container,
        read_client(container) as client,
    ):
        ann = token("ann", "customer")
        for _ in range(10):
            refused = client.get("/v1/me/bookings", headers=ann)
            if refused.status_code == 429:
                break
        assert refused.status_code == 429, "never limited"
        served_by = time.monotonic() + int(refused.headers["Retry-After"])
        while client.get("/v1/me/bookings", headers=ann).status_code == 429:
            assert time.monotonic() < served_by + 0.5, "still limited after Retry-After"
            time.sleep(0.05)


def get_from(client: TestClient, address: str, path: str) -> httpx.Response:
    """GET as a client at `address` (the TestClient itself always comes from one)."""
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get(path)

    return asyncio.run(get())


def test_public_reads_are_limited_per_client_address(tmp_path: Path, limiter_store: str) -> None:
    with (
        limited(tmp_path, limiter_store, rate_limit_per_address="3/minute") as container,
        read_client(container) as client,  # its lifespan gives the app its container
    ):
        answers = [get_from(client, "203.0.113.7", "/v1/businesses") for _ in range(4)]
        elsewhere = get_from(client, "198.51.100.2", "/v1/businesses")
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "client address" in assert_problem(answers[-1], 429)["detail"]
    assert elsewhere.status_code == 200


@pytest.mark.redis
def test_redis_counts_one_budget_across_processes(tmp_path: Path, token: Headers) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    ann = token("ann", "customer")
    with (
        limited(tmp_path, "redis", prefix, rate_limit_per_token="4/minute") as first,
        limited(tmp_path, "redis", prefix, rate_limit_per_token="4/minute") as second,
        read_client(first) as one,
        read_client(second) as other,
    ):
        statuses = [c.get("/v1/me/bookings", headers=ann).status_code for c in (one, other) * 3]
        first.rate_limiter.reset()  # type: ignore[attr-defined]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_the_write_api_is_limited_too_and_a_refused_command_appends_nothing(
    tmp_path: Path, limiter_store: str, token: Headers
) -> None:
    with (
        limited(tmp_path, limiter_store, rate_limit_per_token="1/minute") as container,
        TestClient(create_write_app(container), raise_server_exceptions=False) as client,
    ):
        owner = token("owner-1", "owner")
        body = {"name": "Salon", "slug": "first", "timezone": "UTC"}
        assert client.post("/v1/businesses", json=body, headers=owner).status_code == 201
        refused = client.post("/v1/businesses", json={**body, "slug": "second"}, headers=owner)
        assert_problem(refused, 429, "rate-limited")
        assert container.app.recorder.max_notification_id() == 2  # the business and its slug


def test_the_write_and_read_apis_keep_separate_budgets(
    tmp_path: Path, limiter_store: str, token: Headers
) -> None:
    with (
        limited(tmp_path, limiter_store, rate_limit_per_token="2/minute") as container,
        read_client(container) as reads,
        TestClient(create_write_app(container), raise_server_exceptions=False) as writes,
    ):
        ann = token("ann", "customer")
        read = [reads.get("/v1/me/bookings", headers=ann).status_code for _ in range(3)]
        write = writes.post("/v1/bookings/not-a-uuid/cancel", headers=ann)
    assert read == [200, 200, 429]
    assert write.status_code == 422  # refused for its path, not for the reads' budget
    assert write.headers["RateLimit-Remaining"] == "1"


def test_limits_can_be_switched_off(tmp_path: Path, token: Headers) -> None:
    with (
        limited(tmp_path, "memory", rate_limit_per_token="off", rate_limit_per_address="off") as c,
        read_client(c) as client,
    ):
        answer = client.get("/v1/me/bookings", headers=token("ann", "customer"))
    assert answer.status_code == 200 and "RateLimit-Limit" not in answer.headers


# --------------------------------------------------------------------------- body limit


def test_a_body_over_the_limit_is_413_before_the_token_is_checked(tmp_path: Path) -> None:
    with (
        limited(tmp_path, "memory", max_body_bytes=4096) as container,
        TestClient(create_write_app(container), raise_server_exceptions=False) as client,
    ):
        big = b'{"name": "' + b"x" * 5000 + b'"}'
        declared = client.post(
            "/v1/businesses", content=big, headers={"Content-Type": "application/json"}
        )
        chunked = client.post(
            "/v1/businesses",
            content=iter([big[:3000], big[3000:]]),  # no Content-Length: Transfer-Encoding
            headers={"Content-Type": "application/json", "Authorization": "Bearer junk"},
        )
        events = container.app.recorder.max_notification_id()
    for answer in (declared, chunked):
        problem = assert_problem(answer, 413, "body-too-large")
        assert "4096" in problem["detail"]
    assert events is None


def test_a_body_within_the_limit_reaches_the_route(tmp_path: Path, token: Headers) -> None:
    with (
        limited(tmp_path, "memory", max_body_bytes=4096) as container,
        TestClient(create_write_app(container), raise_server_exceptions=False) as client,
    ):
        owner = token("owner-1", "owner")
        body = {"name": "S" * 200, "slug": "fits", "timezone": "UTC"}
        chunks = iter([b'{"name": "Salon", ', b'"slug": "chunked", "timezone": "UTC"}'])
        fits = client.post("/v1/businesses", json=body, headers=owner)
        streamed = client.post(
            "/v1/businesses",
            content=chunks,
            headers={**owner, "Content-Type": "application/json"},
        )
    assert fits.status_code == 201, fits.text
    assert streamed.status_code == 201, streamed.text
