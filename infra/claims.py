"""What a bearer token claims, who may be given one, and minting HS256 tokens.

Kept apart from infra/auth.py (verification, PyJWT, JWKS) so that `slotwise
token` loads no more than it needs: minting is an HMAC over two JSON objects
(RFC 7515's compact form), done here with the standard library; the tokens are
byte for byte those PyJWT's `jwt.encode(..., algorithm="HS256")` writes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from domain.actor import TOKEN_ROLES as ACTOR_TOKEN_ROLES
from domain.actor import Role
from domain.errors import InvalidInput
from domain.text import require_clean_text, require_visible

MAX_SUBJECT = 200  # the width of owner and customer ids in the read models
# Roles a token may carry (`system` belongs to SlotWise's own processes).
TOKEN_ROLES = frozenset(role.value for role in ACTOR_TOKEN_ROLES)
HS256_HEADER = {"alg": "HS256", "typ": "JWT"}


@dataclass(frozen=True)
class TokenPolicy:
    """What every accepted token must satisfy besides its signature."""

    max_lifetime_seconds: int = 86_400
    leeway_seconds: int = 30
    issuer: str = ""
    audience: str = ""


def issue_token(secret: str, sub: str, role: Role, ttl_seconds: int = 3600) -> str:
    """An HS256 token (development and scripts; `slotwise token` checks its inputs first)."""
    now = int(time.time())
    claims = {"sub": sub, "role": role.value, "iat": now, "exp": now + ttl_seconds}
    return sign_hs256(claims, secret)


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """The compact JWS of `claims` signed with HMAC-SHA256, as PyJWT writes it."""
    signing_input = f"{_segment(HS256_HEADER)}.{_segment(claims)}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{_b64(signature)}"


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def require_issuable(sub: str, role: str, ttl_seconds: int, policy: TokenPolicy) -> None:
    """Refuse, with InvalidInput naming the field, what `TokenVerifier` would refuse."""
    require_subject(sub, InvalidInput)
    if role not in TOKEN_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(sorted(TOKEN_ROLES))}", field="role")
    if not 1 <= ttl_seconds <= policy.max_lifetime_seconds:
        raise InvalidInput(
            f"ttl must be between 1 and {policy.max_lifetime_seconds} seconds", field="ttl"
        )


def require_subject(sub: object, refusal: type[Exception]) -> str:
    """`sub` if it is a subject SlotWise can record; else `refusal` saying why."""
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_SUBJECT:
        raise _refused(refusal, f"sub must be a string of 1 to {MAX_SUBJECT} characters")
    try:
        require_clean_text(sub, "sub", single_line=True)  # it reaches events and read models
        require_visible(sub, "sub")
    except InvalidInput as error:
        raise _refused(refusal, error.detail) from None
    return sub


def _refused(refusal: type[Exception], detail: str) -> Exception:
    if refusal is InvalidInput:
        return InvalidInput(detail, field="sub")
    return refusal(f"the bearer token's {detail}")
