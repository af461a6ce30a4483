"""Bearer JWTs (HS256): issuing for development and scripts, verifying for the APIs."""

from __future__ import annotations

import time

import jwt

from domain.actor import Actor, Role

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
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise Unauthenticated(
            f"token role must be one of {', '.join(r.value for r in Role)}"
        ) from None
    subject = str(claims["sub"])
    if not 1 <= len(subject) <= MAX_SUBJECT:
        raise Unauthenticated(f"token sub must be 1 to {MAX_SUBJECT} characters")
    return Actor(id=subject, role=role)
