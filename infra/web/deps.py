"""FastAPI dependencies shared by both APIs: the container and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.actor import Actor
from infra.auth import Unauthenticated, verify_token
from infra.bootstrap import Container

_bearer = HTTPBearer(auto_error=False, description="HS256 JWT with claims sub, role, exp")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_actor(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthenticated("this endpoint needs an Authorization: Bearer token")
    return verify_token(container.settings.jwt_key, credentials.credentials)


def get_optional_actor(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    if credentials is None:
        return None
    return verify_token(container.settings.jwt_key, credentials.credentials)


ActorDep = Annotated[Actor, Depends(get_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
