"""CORS: browsers on the configured origins may call both APIs; by default none may."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET
from write_api.app import create_app as create_write_app

ALLOWED, OTHER = "https://dash.example", "https://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture(params=["write", "read"])
def clients(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, TestClient]]:
    """The API named by the parameter, with CORS for ALLOWED and with the default (none)."""
    create = create_write_app if request.param == "write" else create_read_app
    built = {}
    for name, origins in (("cors", ALLOWED), ("default", "")):
        settings = Settings(data_dir=tmp_path / name, jwt_secret=JWT_SECRET, cors_origins=origins)
        built[name] = bootstrap(settings)
    with (
        TestClient(create(built["cors"])) as cors,
        TestClient(create(built["default"])) as default,
    ):
        yield {"cors": cors, "default": default}
    for container in built.values():
        container.close()


def test_a_preflight_from_an_allowed_origin_is_answered(clients: dict[str, TestClient]) -> None:
    answer = clients["cors"].options("/v1/businesses", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(", "))
    assert "access-control-allow-credentials" not in answer.headers


def test_answers_to_an_allowed_origin_expose_the_headers_a_client_reads(
    clients: dict[str, TestClient],
) -> None:
    answer = clients["cors"].get("/v1/businesses/slug/none", headers={"Origin": ALLOWED})
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    exposed = {
        h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")
    }
    assert {
        "location",
        "x-consistency-token",
        "x-correlation-id",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    } <= exposed


def test_another_origin_gets_no_cors_headers(clients: dict[str, TestClient]) -> None:
    answer = clients["cors"].options("/v1/businesses", headers={"Origin": OTHER, **PREFLIGHT})
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    plain = clients["cors"].get("/health", headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in plain.headers


def test_by_default_no_origin_is_allowed(clients: dict[str, TestClient]) -> None:
    answer = clients["default"].options("/v1/businesses", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code == 405
    plain = clients["default"].get("/health", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in plain.headers


def test_an_origin_that_is_not_an_origin_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="origin"):
        Settings(cors_origins="https://dash.example/path")
