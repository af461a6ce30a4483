"""Tokens a real identity provider issues: RS256 and ES256 checked against its JWKS, read from
a file or fetched from a URL (a local HTTP server), with issuer, audience, lifetime and clock
skew enforced, and refusals in our own words."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from domain.actor import Role
from infra.auth import KeysUnavailable, TokenPolicy, TokenVerifier, Unauthenticated
from infra.bootstrap import bootstrap, token_verifier
from infra.jwks import JwksFile, JwksUrl
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.e2e.conftest import PROBLEM

ISSUER, AUDIENCE = "https://id.example.test/", "slotwise-api"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        family = (
            jwt.algorithms.RSAAlgorithm if self.algorithm == "RS256" else jwt.algorithms.ECAlgorithm
        )
        public: dict[str, Any] = json.loads(family.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "sub": "auth0|ann",
            "role": "customer",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        headers = {"kid": self.kid}
        return jwt.encode(body, self.private, algorithm=self.algorithm, headers=headers)


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey(
        "rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def rotated_key() -> SigningKey:
    return SigningKey(
        "rsa-2", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


POLICY = TokenPolicy(max_lifetime_seconds=3600, leeway_seconds=30, issuer=ISSUER, audience=AUDIENCE)


def jwks_file(tmp_path: Path, *keys: SigningKey) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.jwk() for k in keys]}))
    return path


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_accepts_a_provider_token_checked_against_a_jwks_file(
    tmp_path: Path, key_name: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    verifier = TokenVerifier(None, JwksFile(jwks_file(tmp_path, key)), POLICY)
    actor = verifier.verify(key.token(role="owner"))
    assert (actor.id, actor.role) == ("auth0|ann", Role.OWNER)


def test_reads_a_rotated_key_from_the_file_when_a_token_names_it(
    tmp_path: Path, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    path = jwks_file(tmp_path, rsa_key)
    verifier = TokenVerifier(None, JwksFile(path), POLICY)
    with pytest.raises(Unauthenticated, match="kid"):
        verifier.verify(rotated_key.token())
    jwks_file(tmp_path, rsa_key, rotated_key)
    stamp = path.stat().st_mtime_ns + 1_000_000_000  # a later modification time, as rotation gives
    os.utime(path, ns=(stamp, stamp))
    assert verifier.verify(rotated_key.token()).id == "auth0|ann"


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token)
    return str(refused.value)


def test_refuses_what_a_provider_token_must_not_be(
    tmp_path: Path, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    verifier = TokenVerifier(None, JwksFile(jwks_file(tmp_path, rsa_key)), POLICY)
    now = int(time.time())
    cases = {
        "issuer": rsa_key.token(iss="https://evil.example.test/"),
        "audience": rsa_key.token(aud="another-api"),
        "expired": rsa_key.token(iat=now - 4000, exp=now - 120),
        "not valid yet": rsa_key.token(iat=now + 600, exp=now + 1200),
        "lives longer": rsa_key.token(exp=now + 7200),
        "lacks the sub": rsa_key.token(sub=None),
        "exp must be a number": rsa_key.token(exp=str(now + 600)),
        "exp must be between": rsa_key.token(iat=None, exp=10**400),
        "nbf in the future": rsa_key.token(nbf=now + 600.5, exp=now + 1200),
        "role": rsa_key.token(role="system"),
        "kid": ec_key.token(),  # a key the provider's set does not hold
        "algorithm": jwt.encode({"sub": "x", "role": "customer", "exp": now + 60}, "s3cret" * 6),
        "algorithm is": "eyJhbGciOiJub25lIn0.e30.",  # alg none
        "well-formed": "not.a.jwt",
    }
    for expected, token in cases.items():
        assert expected in refusal(verifier, token), expected


def test_allows_bounded_clock_skew(tmp_path: Path, rsa_key: SigningKey) -> None:
    verifier = TokenVerifier(None, JwksFile(jwks_file(tmp_path, rsa_key)), POLICY)
    now = int(time.time())
    assert verifier.verify(rsa_key.token(iat=now + 20, exp=now + 600)).id == "auth0|ann"
    assert verifier.verify(rsa_key.token(iat=now - 620, exp=now - 20)).id == "auth0|ann"


@pytest.mark.parametrize("sub", ["ann\x00", "ann\x1b[2J", "\x85", "\u200b", "a" * 201, 42])
def test_refuses_a_subject_that_is_not_clean_visible_text(
    tmp_path: Path, rsa_key: SigningKey, sub: Any
) -> None:
    verifier = TokenVerifier(None, JwksFile(jwks_file(tmp_path, rsa_key)), POLICY)
    assert "sub" in refusal(verifier, rsa_key.token(sub=sub))


def test_refuses_a_subject_with_a_lone_surrogate(tmp_path: Path, rsa_key: SigningKey) -> None:
    # PyJWT will not encode a lone surrogate; sign the raw JSON as a careless provider could.
    claims = f'{{"sub":"\\ud800","role":"customer","exp":{int(time.time()) + 60}}}'
    token = jwt.api_jws.encode(
        claims.encode(), rsa_key.private, algorithm="RS256", headers={"kid": rsa_key.kid}
    )
    verifier = TokenVerifier(None, JwksFile(jwks_file(tmp_path, rsa_key)), TokenPolicy())
    assert "sub" in refusal(verifier, token)


def test_never_accepts_the_development_secret_once_a_provider_is_configured(
    tmp_path: Path, rsa_key: SigningKey
) -> None:
    settings = Settings(data_dir=tmp_path, jwt_jwks_file=jwks_file(tmp_path, rsa_key))
    dev = jwt.encode(
        {"sub": "ann", "role": "admin", "exp": int(time.time()) + 60},
        "slotwise-development-secret-change-me",
    )
    assert "algorithm" in refusal(token_verifier(settings), dev)


def test_a_broken_jwks_file_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "jwks.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="SLOTWISE_JWT_JWKS_FILE"):
        JwksFile(broken)
    with pytest.raises(ValueError, match="SLOTWISE_JWT_JWKS_FILE"):
        JwksFile(tmp_path / "missing.json")


# --------------------------------------------------------------------------- a JWKS URL


@dataclass
class Provider:
    """A local identity provider's JWKS endpoint; `keys` may change between requests."""

    keys: list[SigningKey]
    fetches: int = 0
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"


@pytest.fixture
def provider(rsa_key: SigningKey) -> Iterator[Provider]:
    served = Provider([rsa_key])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.fetches += 1
            body = json.dumps({"keys": [k.jwk() for k in served.keys]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    served.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    thread.join(timeout=5)


def test_fetches_the_jwks_once_and_again_only_for_an_unknown_kid(
    provider: Provider, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    verifier = TokenVerifier(None, JwksUrl(provider.url, cooldown_seconds=0), POLICY)
    for _ in range(3):
        assert verifier.verify(rsa_key.token()).id == "auth0|ann"
    assert provider.fetches == 1
    provider.keys = [rsa_key, rotated_key]  # the provider rotates
    assert verifier.verify(rotated_key.token()).id == "auth0|ann"
    assert provider.fetches == 2
    assert verifier.verify(rsa_key.token()).id == "auth0|ann"
    assert provider.fetches == 2


def test_takes_rsa_and_ec_keys_from_one_jwks_url(
    provider: Provider, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    provider.keys = [rsa_key, ec_key]
    verifier = TokenVerifier(None, JwksUrl(provider.url), POLICY)
    assert verifier.verify(rsa_key.token(role="owner")).role is Role.OWNER
    assert verifier.verify(ec_key.token(role="auditor")).role is Role.AUDITOR
    assert provider.fetches == 1


def test_an_unknown_kid_within_the_cooldown_does_not_refetch(
    provider: Provider, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    verifier = TokenVerifier(None, JwksUrl(provider.url, cooldown_seconds=3600), POLICY)
    verifier.verify(rsa_key.token())
    for _ in range(5):
        assert "kid" in refusal(verifier, ec_key.token())
    assert provider.fetches == 1


def test_an_unreachable_provider_means_tokens_cannot_be_checked(rsa_key: SigningKey) -> None:
    verifier = TokenVerifier(None, JwksUrl("http://127.0.0.1:9/jwks.json"), POLICY)  # discard port
    with pytest.raises(KeysUnavailable):
        verifier.verify(rsa_key.token())


def test_the_read_api_takes_provider_tokens_from_a_jwks_url_and_refuses_in_its_own_words(
    provider: Provider, rsa_key: SigningKey, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        jwt_jwks_url=provider.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    container = bootstrap(settings)
    try:
        with TestClient(create_read_app(container)) as client:
            good = client.get(
                "/v1/me/bookings", headers={"Authorization": f"Bearer {rsa_key.token()}"}
            )
            assert good.status_code == 200, good.text
            forged = rsa_key.token()[:-4] + "AAAA"
            bad = client.get("/v1/me/bookings", headers={"Authorization": f"Bearer {forged}"})
    finally:
        container.close()
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["detail"] == "the bearer token's signature does not verify"
