"""FastAPI dependencies shared by both APIs: the caller.

They are `async` so that FastAPI runs them on the event loop rather than
hopping to its thread pool for each; the one step that may wait on the network
(fetching an identity provider's keys) goes to a thread.
"""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.actor import Actor
from infra.auth import TokenVerifier, Unauthenticated

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT with claims sub, role and exp: HS256 with the shared secret, or "
    "RS256/ES256 from the configured identity provider's JWKS",
)


async def get_verifier(request: Request) -> TokenVerifier:
    """The process's token verifier (the role's composition root built it)."""
    verifier: TokenVerifier = request.app.state.container.verifier
    return verifier


VerifierDep = Annotated[TokenVerifier, Depends(get_verifier)]


async def _actor(request: Request, verifier: TokenVerifier, token: str) -> Actor:
    """The token's actor; the rate limiter may have verified this very token already."""
    verified = getattr(request.state, "verified", None)
    if verified is not None and verified[0] == token:
        result = verified[1]
    else:
        try:
            if verifier.may_block:
                result = await to_thread.run_sync(verifier.verify, token)
            else:
                result = verifier.verify(token)
        except Unauthenticated as error:
            result = error
        request.state.verified = (token, result)
    if isinstance(result, Exception):
        raise result
    request.state.actor = result  # for the request log
    return result  # type: ignore[no-any-return]


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthenticated("this endpoint needs an Authorization: Bearer token")
    return await _actor(request, await get_verifier(request), credentials.credentials)


async def get_optional_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    if credentials is None:
        return None
    return await _actor(request, await get_verifier(request), credentials.credentials)


ActorDep = Annotated[Actor, Depends(get_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
