"""Bearer JWTs: HS256 for development and scripts, RS256/ES256 from an identity provider's JWKS.

What a token must be, whichever key signed it: unexpired (within a bounded
clock skew), no longer-lived than the configured maximum, from the configured
issuer and for the configured audience when those are set, with a clean `sub`
and one of the four token roles (`system` is the application's own actor and
never comes from a token). Its times (`exp`, `iat`, `nbf`) are checked here,
not by PyJWT, so that a claim of the wrong type or absurd size is a refusal
naming the claim rather than arithmetic that fails. Refusals say what is wrong
in our words; the library's messages stay out of answers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from domain.actor import Actor, Role
from infra.claims import TOKEN_ROLES, TokenPolicy, issue_token, require_issuable
from infra.claims import require_subject as _require_subject
from infra.jwks import KeysUnavailable, SigningKeys

__all__ = [
    "TOKEN_ROLES",
    "KeysUnavailable",
    "TokenPolicy",
    "TokenVerifier",
    "Unauthenticated",
    "issue_token",
    "require_issuable",
]

ASYMMETRIC = frozenset({"RS256", "ES256"})
# A NumericDate (RFC 7519: seconds since 1970, fractions allowed) must fall before the
# year 10000; anything later is no real instant and would overflow date arithmetic.
LATEST_INSTANT = 253_402_300_799
TIME_CLAIMS = ("exp", "iat", "nbf")
# Verified tokens kept (by the raw token) until they expire: clients send one token
# for many requests, and checking a signature costs more than most commands' other work.
VERIFIED_CACHE_SIZE = 10_000


class _SecretHMAC(HMACAlgorithm):
    """HS256 for one secret, its key prepared and checked once rather than per token.

    PyJWT prepares the key again for every token it decodes, making sure an HMAC secret is
    no asymmetric key, certificate or JWK by trying to parse it as each: about half of what
    checking a token costs (docs/benchmarks.md, "Issue 19, third pass"). The verifier's
    secret does not change, so it goes through the same checks once, here; any other key
    is prepared the library's way.
    """

    def __init__(self, secret: bytes) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._secret = secret
        self._prepared = super().prepare_key(secret)
        self._length_note = super().check_key_length(self._prepared)

    def prepare_key(self, key: str | bytes) -> bytes:
        if key is self._secret:
            return self._prepared
        return super().prepare_key(key)

    def check_key_length(self, key: bytes) -> str | None:
        if key is self._prepared:
            return self._length_note
        return super().check_key_length(key)


def _hs256_decoder(secret: bytes) -> jwt.PyJWT:
    """A PyJWT of its own whose HS256 knows `secret` (registered through its JWS); a secret
    the library refuses as an HMAC key gets the library's own, which refuses every token."""
    decoder = jwt.PyJWT()
    try:
        known = _SecretHMAC(secret)
    except jwt.InvalidKeyError:
        return decoder
    signatures = decoder._jws  # PyJWT keeps its JWS there and offers no way to pass one
    signatures.unregister_algorithm("HS256")
    signatures.register_algorithm("HS256", known)
    return decoder


class Unauthenticated(Exception):
    """No usable bearer token; the APIs answer 401."""


def verify_token(secret: str, token: str) -> Actor:
    """The Actor of an HS256 token signed with `secret` (scripts and tests)."""
    return TokenVerifier(secret).verify(token)


class TokenVerifier:
    """Turns a bearer token into the Actor it names, or raises Unauthenticated."""

    def __init__(
        self,
        secret: str | None,
        keys: SigningKeys | None = None,
        policy: TokenPolicy | None = None,
    ) -> None:
        self.secret, self.keys = secret, keys
        self.policy = policy or TokenPolicy()
        self._secret_bytes = secret.encode() if secret else b""
        self._decoder = _hs256_decoder(self._secret_bytes) if secret else jwt.PyJWT()
        self._verified: OrderedDict[str, tuple[Actor, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def may_block(self) -> bool:
        """Whether verifying may wait on the network (an identity provider's JWKS URL)."""
        return self.keys is not None and self.keys.remote

    def verify(self, token: str) -> Actor:
        """The token's actor; a token verified before is trusted again until its `exp`
        (refusals are not kept: a bad token is checked, and refused, each time)."""
        with self._lock:
            found = self._verified.get(token)
        if found is not None and time.time() < found[1]:
            return found[0]
        actor, expires = self._verify(token)
        with self._lock:
            self._verified[token] = (actor, expires)
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return actor

    def _verify(self, token: str) -> tuple[Actor, float]:
        claims = self._claims(token)
        times = {name: _instant(claims, name) for name in TIME_CLAIMS}
        subject = _require_subject(claims.get("sub"), Unauthenticated)
        role = claims.get("role")
        if not isinstance(role, str) or role not in TOKEN_ROLES:
            raise Unauthenticated(
                f"the bearer token's role must be one of {', '.join(sorted(TOKEN_ROLES))}"
            )
        expires = self._require_current(times)
        return Actor(id=subject, role=Role(role)), expires

    def _claims(self, token: str) -> dict[str, Any]:
        if self.keys is None and self.secret:  # HS256 alone: no need to read the header first
            key: Any = self._secret_bytes
            algorithms = ["HS256"]
        else:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise Unauthenticated("the bearer token is not a well-formed JWT") from None
            algorithm = header.get("alg")
            key = self._key_for(token, algorithm)
            algorithms = [str(algorithm)]
        policy = self.policy
        try:
            claims: dict[str, Any] = self._decoder.decode(
                token,
                key,
                algorithms=algorithms,
                leeway=policy.leeway_seconds,
                issuer=policy.issuer or None,
                audience=policy.audience or None,
                options={
                    "require": ["sub", "exp"],
                    "verify_aud": bool(policy.audience),
                    # Times are ours to check (`_require_current`), after their types.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated(self._not_accepted()) from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(_sentence_for(error)) from None
        return claims

    def _key_for(self, token: str, algorithm: object) -> Any:
        if algorithm == "HS256" and self.secret:
            return self._secret_bytes
        if algorithm in ASYMMETRIC and self.keys is not None:
            key = self.keys.key_for(token)
            if key is None:
                raise Unauthenticated("the bearer token names a signing key (kid) we do not know")
            return key
        raise Unauthenticated(self._not_accepted())

    def _not_accepted(self) -> str:
        accepted = (["HS256"] if self.secret else []) + (sorted(ASYMMETRIC) if self.keys else [])
        listed = ", ".join(accepted)
        return f"the bearer token's algorithm is not accepted here (accepted: {listed})"

    def _require_current(self, times: dict[str, float | None]) -> float:
        """The token's `exp`, once it is unexpired, in force and not too long-lived."""
        now, leeway = time.time(), self.policy.leeway_seconds
        most = self.policy.max_lifetime_seconds
        expires, issued, not_before = times["exp"], times["iat"], times["nbf"]
        if expires is None:  # decoding requires it; this keeps the type honest
            raise Unauthenticated("the bearer token lacks the exp claim")
        if expires <= now - leeway:
            raise Unauthenticated("the bearer token has expired")
        for name, start in (("iat", issued), ("nbf", not_before)):
            if start is not None and start > now + leeway:
                raise Unauthenticated(f"the bearer token is not valid yet ({name} in the future)")
        # Without iat, the token may not outlive the maximum counted from now.
        start = issued if issued is not None else now
        if expires - start > most + (0 if issued is not None else leeway):
            raise Unauthenticated(f"the bearer token lives longer than the {most} seconds allowed")
        return expires


def _instant(claims: dict[str, Any], name: str) -> float | None:
    """The claim `name` as seconds since 1970, None if absent; refused if not a NumericDate."""
    if name not in claims:
        return None
    value = claims[name]
    # bool is an int to Python, not to JSON; NaN fails both comparisons.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthenticated(f"the bearer token's {name} must be a number (seconds since 1970)")
    if not 0 <= value <= LATEST_INSTANT:
        raise Unauthenticated(
            f"the bearer token's {name} must be between 0 and {LATEST_INSTANT} "
            "(seconds since 1970, before the year 10000)"
        )
    return float(value)


_SENTENCES: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidIssuerError, "the bearer token's issuer (iss) is not accepted here"),
    (jwt.InvalidAudienceError, "the bearer token's audience (aud) is not this API"),
    (jwt.InvalidSignatureError, "the bearer token's signature does not verify"),
    (jwt.exceptions.InvalidSubjectError, "the bearer token's sub must be a string"),
    (jwt.DecodeError, "the bearer token is not a well-formed JWT"),
)


def _sentence_for(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the bearer token lacks the {error.claim} claim"
    return next(
        (sentence for kind, sentence in _SENTENCES if isinstance(error, kind)),
        "the bearer token is not valid",
    )
