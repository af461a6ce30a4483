"""`slotwise token` mints with the standard library what PyJWT would, and settings stay strict."""

from __future__ import annotations

import jwt
import pytest
from pydantic import ValidationError

from domain.actor import Role
from infra.auth import TokenVerifier
from infra.claims import issue_token, sign_hs256
from infra.settings import Settings

SECRET = "a-test-secret-of-at-least-32-characters!"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "ada", "role": "owner", "iat": 1_700_000_000, "exp": 1_700_003_600},
        {"sub": 'zoë 𝄞 "quoted"', "role": "customer", "iat": 0, "exp": 1},
    ],
)
def test_a_minted_token_is_byte_for_byte_what_pyjwt_writes(claims: dict[str, object]) -> None:
    assert sign_hs256(claims, SECRET) == jwt.encode(claims, SECRET, algorithm="HS256")


def test_a_minted_token_is_accepted_by_the_verifier() -> None:
    actor = TokenVerifier(SECRET).verify(issue_token(SECRET, "ada", Role.AUDITOR, 60))
    assert (actor.id, actor.role) == ("ada", Role.AUDITOR)


@pytest.mark.parametrize("rate", ["600/minute", " 5 / second ", "10 per 2 hours", "off", ""])
def test_rate_limits_in_any_form_the_limiter_reads_are_accepted(rate: str) -> None:
    assert Settings(rate_limit_per_token=rate).rate_limit_per_token == rate


@pytest.mark.parametrize("rate", ["600/fortnight", "minute", "1/minute; nonsense"])
def test_rate_limits_the_limiter_cannot_read_are_refused(rate: str) -> None:
    with pytest.raises(ValidationError, match="must be like 600/minute or off"):
        Settings(rate_limit_per_token=rate)
