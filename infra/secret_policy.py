"""Whether the APIs may serve with the HS256 secret they have: long and not published.

Outside development (`SLOTWISE_ENV=development`, or `slotwise dev`), an API
refuses to start with the public development secret, a secret published in
SlotWise's own files, or one shorter than 32 characters: anyone who knows or
guesses it can mint admin tokens. Processes that verify no tokens (relay,
projector and payment workers) are not asked.
"""

from __future__ import annotations

from infra.settings import DEV_JWT_SECRET, Settings

MIN_SECRET_LENGTH = 32
# Secrets that have appeared in SlotWise's source, compose file or docs.
PUBLISHED_SECRETS = frozenset({DEV_JWT_SECRET, "change-me-to-a-long-random-secret"})
ADVICE = (
    f"set a secret of at least {MIN_SECRET_LENGTH} random characters "
    "(openssl rand -hex 32), or SLOTWISE_ENV=development on a machine of your own"
)


def unsafe_secret(settings: Settings) -> str | None:
    """Why the API must not serve with this HS256 secret, or None when it may."""
    if settings.env == "development" or not settings.jwt_key:
        return None  # development, or tokens only from an identity provider
    secret = settings.jwt_secret
    if not secret:
        return (
            "SLOTWISE_JWT_SECRET is not set, so the public development secret "
            f"would check tokens; {ADVICE}"
        )
    if secret in PUBLISHED_SECRETS:
        return f"SLOTWISE_JWT_SECRET is a published example anyone can mint tokens with; {ADVICE}"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"SLOTWISE_JWT_SECRET has {len(secret)} characters; {ADVICE}"
    return None
