"""Bearer JWTs (HS256): issuing for development and scripts, verifying for the APIs."""

from __future__ import annotations

import time

import jwt

from domain.actor import TOKEN_ROLES, Actor, Role
from domain.text import unclean_character

MAX_SUBJECT = 200  # the width of owner and customer ids in the read models


class Unauthenticated(Exception):
    """No usable bearer token; the APIs answer 401."""


def issue_token(secret: str, sub: str, role: Role, ttl_seconds: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": sub, "role": role.value, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Actor:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the bearer token has expired") from None
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"invalid bearer token: {error}") from None
    role = next((r for r in TOKEN_ROLES if r.value == claims.get("role")), None)
    if role is None:
        allowed = ", ".join(sorted(r.value for r in TOKEN_ROLES))
        raise Unauthenticated(f"token role must be one of {allowed}")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT:
        raise Unauthenticated(f"token sub must be a string of 1 to {MAX_SUBJECT} characters")
    problem = unclean_character(subject, single_line=True)
    if problem is not None:  # it would reach events and every read model
        raise Unauthenticated(f"token sub must not contain {problem}")
    return Actor(id=subject, role=role)
