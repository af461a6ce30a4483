"""A verified token is trusted again until it expires, and not a moment longer."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from domain.actor import Role
from infra import auth
from infra.auth import TokenVerifier, Unauthenticated, issue_token

SECRET = "token-cache-secret-0123456789-0123456789"


def counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = jwt.PyJWT.decode

    def decode(self: jwt.PyJWT, token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real(self, token, *args, **kwargs)

    monkeypatch.setattr(jwt.PyJWT, "decode", decode)
    return decoded


def test_checks_a_tokens_signature_once_while_it_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = counting_decodes(monkeypatch)
    verifier = TokenVerifier(SECRET)
    token = issue_token(SECRET, "ann", Role.CUSTOMER)
    for _ in range(3):
        assert verifier.verify(token).id == "ann"
    assert len(decoded) == 1


def test_checks_an_expired_token_again_and_refuses_it() -> None:
    verifier = TokenVerifier(SECRET, policy=auth.TokenPolicy(leeway_seconds=0))
    token = issue_token(SECRET, "ann", Role.CUSTOMER, ttl_seconds=1)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    verifier.verify(token)
    while True:  # trusted until it expires, refused from then on (polled, at most ~1 s)
        checked_at = time.time()
        try:
            verifier.verify(token)
        except Unauthenticated as refused:
            assert "expired" in str(refused)
            assert checked_at >= expires - 0.05  # not refused while still valid
            break
        assert checked_at < expires + 1, "an expired token was still trusted"
        time.sleep(0.05)


def test_keeps_no_refused_token(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = counting_decodes(monkeypatch)
    verifier = TokenVerifier(SECRET)
    forged = issue_token("another-secret-0123456789-0123456789", "ann", Role.ADMIN)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    assert len(decoded) == 2


def test_keeps_no_token_refused_for_a_claim_and_says_which(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded = counting_decodes(monkeypatch)
    verifier = TokenVerifier(SECRET)
    huge = jwt.encode({"sub": "ann", "role": "admin", "exp": 10**400}, SECRET, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="exp must be between"):
            verifier.verify(huge)
    assert len(decoded) == 2


@pytest.mark.parametrize(
    ("token", "sentence"),
    [
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "not accepted here (accepted: HS256)"),
        (
            jwt.encode({"sub": "x", "role": "customer", "exp": 2_000_000_000}, SECRET, "HS512"),
            "algorithm is not accepted here (accepted: HS256)",
        ),
        ("not.a.jwt", "not a well-formed JWT"),
        ("garbage", "not a well-formed JWT"),
    ],
)
def test_a_secret_alone_accepts_hs256_and_says_so(token: str, sentence: str) -> None:
    """With no identity provider the header is not read before the signature is checked;
    a token of another algorithm is still refused by name."""
    with pytest.raises(Unauthenticated, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        TokenVerifier(SECRET).verify(token)


def test_prepares_its_secret_once_for_every_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyJWT checks an HMAC key is no asymmetric key or JWK by parsing it as each, for every
    token: the verifier's secret goes through those checks once (docs/benchmarks.md)."""
    prepared: list[bytes] = []
    real = HMACAlgorithm.prepare_key

    def prepare_key(self: HMACAlgorithm, key: str | bytes) -> bytes:
        prepared.append(key if isinstance(key, bytes) else key.encode())
        return real(self, key)

    monkeypatch.setattr(HMACAlgorithm, "prepare_key", prepare_key)
    verifier = TokenVerifier(SECRET)
    for name in ("ann", "bob", "cara"):
        assert verifier.verify(issue_token(SECRET, name, Role.CUSTOMER)).id == name
    forged = issue_token("another-secret-0123456789-0123456789", "dan", Role.ADMIN)
    with pytest.raises(Unauthenticated, match="signature"):
        verifier.verify(forged)
    assert prepared == [SECRET.encode()]


def test_a_secret_that_is_a_public_key_verifies_nothing() -> None:
    """PyJWT refuses an asymmetric key as an HMAC secret (algorithm confusion): so does the
    verifier, token after token, as before its secret was prepared once."""
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
        "-----END PUBLIC KEY-----\n"
    )
    token = jwt.encode({"sub": "x", "role": "admin", "exp": 2_000_000_000}, "k" * 40, "HS256")
    verifier = TokenVerifier(pem)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)
