"""An Idempotency-Key's request fingerprint is the one earlier releases stored with the key."""

from __future__ import annotations

import hashlib

import pytest
from starlette.requests import Request

from write_api.gateway import _fingerprint


@pytest.mark.parametrize(
    "path", ["/v1/bookings", "/v1/bookings/a%3Fb/cancel", "/v1/odd?path#with\\marks", "//twice"]
)
def test_the_fingerprint_names_the_path_as_the_request_url_did(path: str) -> None:
    scope = {"type": "http", "method": "POST", "path": path, "headers": [(b"host", b"h")]}
    request = Request({**scope, "query_string": b""})
    body = b'{"start": "2027-03-08T10:00:00+00:00", "service_id": "s"}'
    canonical = b'{"service_id":"s","start":"2027-03-08T10:00:00+00:00"}'
    # What the gateway computed before it stopped building the whole URL for it.
    before = hashlib.sha256(f"POST {request.url.path}\n".encode() + canonical).hexdigest()
    assert _fingerprint(request, body) == before
