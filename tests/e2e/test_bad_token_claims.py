"""A correctly signed token whose claims have the wrong type or an absurd size is a 401 naming
the claim, on every endpoint, never a 500: HS256 tokens and an identity provider's RS256 ones."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import ANN, Api, assert_names, assert_problem, fill

KID = "provider-key-1"
BOOKING = {"service_id": "{service}", "start": "2027-03-08T11:00:00+01:00"}


@pytest.fixture(scope="module")
def provider_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # token checks happen before any store is touched


def provider_settings(tmp_path: Path, provider_key: rsa.RSAPrivateKey) -> Settings:
    """HS256 with the test secret, and RS256 from an identity provider's JWKS file."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": KID, "alg": "RS256", "use": "sig"}]}))
    return Settings(data_dir=tmp_path / "data", jwt_secret=JWT_SECRET, jwt_jwks_file=jwks)


@pytest.fixture
def settings(tmp_path: Path, provider_key: rsa.RSAPrivateKey) -> Settings:
    return provider_settings(tmp_path, provider_key)


@pytest.fixture(scope="module")
def shared_settings(
    tmp_path_factory: pytest.TempPathFactory, provider_key: rsa.RSAPrivateKey
) -> Settings:
    """The stack the tables of bad tokens share (`shared_stack`)."""
    return provider_settings(tmp_path_factory.mktemp("tokens"), provider_key)


Signer = Callable[[dict[str, Any]], str]


@pytest.fixture(params=["HS256", "RS256"])
def sign(request: pytest.FixtureRequest, provider_key: rsa.RSAPrivateKey) -> Signer:
    """Signs claims exactly as given, with the shared secret or the provider's key."""
    if request.param == "HS256":
        return lambda claims: jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    return lambda claims: jwt.encode(claims, provider_key, algorithm="RS256", headers={"kid": KID})


def claims(**changes: Any) -> dict[str, Any]:
    """A customer token's claims, valid for ten minutes, with `changes` (None drops a claim)."""
    now = int(time.time())
    base = {"sub": ANN, "role": "customer", "iat": now, "exp": now + 600, **changes}
    return {k: v for k, v in base.items() if v is not None}


def later(seconds: float) -> float:
    return time.time() + seconds


BAD_CLAIMS = [
    pytest.param(lambda: claims(exp=str(int(later(600)))), "exp", id="string exp"),
    pytest.param(lambda: claims(iat=None, exp=10**400), "exp", id="400-digit exp without iat"),
    pytest.param(lambda: claims(exp=10**400), "exp", id="400-digit exp"),
    pytest.param(lambda: claims(exp=True), "exp", id="boolean exp"),
    pytest.param(lambda: claims(exp=[later(600)]), "exp", id="list exp"),
    pytest.param(lambda: claims(exp=float("nan")), "exp", id="NaN exp"),
    pytest.param(lambda: claims(exp=-1), "exp", id="negative exp"),
    pytest.param(lambda: claims(iat="now"), "iat", id="string iat"),
    pytest.param(lambda: claims(iat=-(10**400)), "iat", id="huge negative iat"),
    pytest.param(lambda: claims(nbf=later(3600.5), exp=later(7200)), "nbf", id="future float nbf"),
    pytest.param(lambda: claims(nbf={"at": 1}), "nbf", id="object nbf"),
    pytest.param(lambda: claims(sub=None), "sub", id="missing sub"),
    pytest.param(lambda: claims(sub=42), "sub", id="number sub"),
    pytest.param(lambda: claims(role=7), "role", id="number role"),
    pytest.param(lambda: claims(role=["admin"]), "role", id="list role"),
    pytest.param(lambda: claims(role="superuser"), "role", id="unknown role"),
    pytest.param(lambda: claims(role="system"), "role", id="system role"),
]


@pytest.mark.shared_stack
@pytest.mark.parametrize(("bad", "claim"), BAD_CLAIMS)
def test_a_signed_token_with_a_bad_claim_is_401_naming_it(
    api: Api, world: dict[str, str], sign: Signer, bad: Callable[[], dict[str, Any]], claim: str
) -> None:
    headers = {"Authorization": f"Bearer {sign(bad())}"}
    before = api.events()

    command = api.write.post("/v1/bookings", json=fill(BOOKING, world), headers=headers)
    query = api.read.get("/v1/me/bookings", headers=headers)

    for response in (command, query):
        problem = assert_problem(response, 401, "unauthenticated")
        assert_names(problem, claim)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.events() == before


def test_the_same_claims_well_formed_are_accepted(api: Api, sign: Signer) -> None:
    headers = {"Authorization": f"Bearer {sign(claims(nbf=later(-1.5), exp=later(600.25)))}"}
    assert api.read.get("/v1/me/bookings", headers=headers).status_code == 200


def operations(app: Any) -> list[tuple[str, str]]:
    """Every (method, path template) the app documents."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: claims(exp=str(int(later(600)))), id="string exp"),
        pytest.param(lambda: claims(iat=None, exp=10**400), id="400-digit exp without iat"),
    ],
)
def test_no_endpoint_answers_a_bad_claim_with_a_server_error(
    api: Api, world: dict[str, str], sign: Signer, bad: Callable[[], dict[str, Any]]
) -> None:
    headers = {"Authorization": f"Bearer {sign(bad())}"}
    ids = {**world, "business_id": world["business"], "service_id": world["service"]}
    ids |= {"booking_id": world["booking"], "id": world["booking"], "slug": "salon"}
    refused = []
    for client in (api.write, api.read):
        for method, path in operations(client.app):
            target = path.format_map(_Missing(ids))
            response = client.request(method, target, headers=headers, json={})
            assert response.status_code < 500, (method, path, response.text)
            if response.status_code == 401:
                assert_names(response.json(), "exp")
                refused.append((method, path))
    assert ("POST", "/v1/bookings") in refused and ("GET", "/v1/me/bookings") in refused
    assert len(refused) >= 15, refused


class _Missing(dict[str, str]):
    """Path parameters: the world's ids where they fit, an unknown id elsewhere."""

    def __missing__(self, key: str) -> str:
        return self.get("missing", "x")
