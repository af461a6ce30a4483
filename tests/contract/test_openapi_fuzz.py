"""Schemathesis against both apps, in process: no 5xx, and every answer as the OpenAPI says.

Bounded for CI: 25 examples per operation and generation mode (valid and invalid input),
derandomized, about a minute. Requests carry an owner's token against a salon with a
service, a booking and a closure; about half the cases aim their path parameters at those
ids, so the fuzzer reaches real resources as well as unknown ones. Rate limits are off here
(429 has tests of its own). The tally is printed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.actor import Role
from infra.auth import issue_token
from infra.bootstrap import bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, FrozenClock
from tests.contract.conftest import TALLY
from write_api.app import create_app as create_write_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25
# One xdist worker runs all four: they share the fuzzed stack, and the tally is one process's.
pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.xdist_group("fuzz")]
OWNER = "fuzz-owner"
AUTH = {"Authorization": f"Bearer {issue_token(JWT_SECRET, OWNER, Role.OWNER)}"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both apps on one SQLite stack with limits off, a salon, a service and a booking."""
    data = Path(tmp_path_factory.mktemp("fuzz"))
    settings_ = Settings(
        data_dir=data,
        jwt_secret=JWT_SECRET,
        rate_limit_per_token="off",
        rate_limit_per_address="off",
    )
    container = bootstrap(settings_, clock=FrozenClock(datetime(2027, 3, 1, 12, tzinfo=UTC)))
    container.start_embedded_delivery()
    apps = {"write": create_write_app(container), "read": create_read_app(container)}
    with TestClient(apps["write"]) as write, TestClient(apps["read"]):
        ids = _salon(write)
    yield {"apps": apps, "ids": ids}
    container.close()


def _salon(write: TestClient) -> dict[str, str]:
    business = write.post(
        "/v1/businesses",
        json={"name": "Fuzz", "slug": "fuzz", "timezone": "Europe/Berlin"},
        headers=AUTH,
    ).json()["id"]
    weekly = [{"day": "mon", "start": "09:00", "end": "17:00"}]
    write.put(f"/v1/businesses/{business}/hours", json={"weekly": weekly}, headers=AUTH)
    service = write.post(
        f"/v1/businesses/{business}/services",
        json={
            "name": "Cut",
            "duration_minutes": 60,
            "price": {"amount": "30.00", "currency": "EUR"},
        },
        headers=AUTH,
    ).json()["id"]
    booking = write.post(
        "/v1/bookings",
        json={"service_id": service, "start": "2027-03-08T10:00:00+01:00", "customer_id": "ann"},
        headers=AUTH,
    ).json()["id"]
    closure = write.post(
        f"/v1/businesses/{business}/closures",
        json={"start": "2027-03-15T09:00:00+01:00", "end": "2027-03-15T10:00:00+01:00"},
        headers=AUTH,
    ).json()["closure_id"]
    return {
        "business_id": business,
        "service_id": service,
        "booking_id": booking,
        "closure_id": closure,
        "aggregate_id": business,
        "slug": "fuzz",
    }


def _failures(fuzzed: dict[str, Any], app: str, mode: GenerationMode) -> list[str]:
    """Fuzz every operation of `app`; the failures found, one line each (none: as documented)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed["apps"][app])
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/v1/businesses/{business_id}/events":
            continue  # an endless stream: tests/integration/test_live_events.py covers it

        @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
        @BOUNDED
        def fuzz(case: Any, real: bool) -> None:
            if real:  # aim at the salon's resources rather than unknown ids
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = fuzzed["ids"].get(name, case.path_parameters[name])
            response = case.call(headers=AUTH)
            TALLY[(app, response.status_code)] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:  # negative mode: nothing in this operation can be made invalid
            continue
        except Exception as error:  # each operation's failure is reported; the rest still run
            failures.append(f"{operation.label}: {str(error).strip().splitlines()[0]}")
            print(f"--- {operation.label}\n{error}")
    return failures


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize("app", ["write", "read"])
def test_every_answer_is_as_documented_and_none_is_a_server_error(
    fuzzed: dict[str, Any], app: str, mode: GenerationMode
) -> None:
    assert _failures(fuzzed, app, mode) == []
