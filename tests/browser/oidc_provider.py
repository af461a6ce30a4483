"""A small but honest OpenID provider for the browser tests, served on 127.0.0.1.

Discovery, an authorization endpoint that signs one fixed user in without asking
(auto-consent), a token endpoint for public clients that checks the code (single use,
short-lived, for this client and redirect URI) and its PKCE verifier (S256 only, RFC
7636), and the JWKS of its RS256 key. Access tokens carry `sub`, `role`, `iss`, `aud`;
ID tokens carry the client as `aud` and the sign-in's `nonce`. Tokens are signed with
PyJWT; each token request is logged in `exchanges`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_SECONDS = 60
TOKEN_SECONDS = 600
FORM = "application/x-www-form-urlencoded"
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1


@dataclass
class Grant:
    """What an authorization code was issued for."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str
    expires: float


@dataclass
class OpenIdProvider:
    """One client (a public one: no secret), one user who is always signed in."""

    client_id: str
    redirect_uri: str
    allowed_origin: str  # the dashboard's origin, for CORS on discovery and token
    subject: str
    role: str
    audience: str
    issuer: str = ""  # known once it is bound to a port
    deny: bool = False  # answer the next sign-ins with access_denied
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, Grant] = field(default_factory=dict)
    kid: str = field(default_factory=lambda: f"test-{secrets.token_hex(4)}")

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def app(self) -> Starlette:
        routes = [
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ]
        cors = Middleware(
            CORSMiddleware,
            allow_origins=[self.allowed_origin],
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept"],
        )
        return Starlette(routes=routes, middleware=[cors])

    async def discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": ["openid"],
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def jwks(self, _: Request) -> Response:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]})

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        # An unknown client or redirect URI is never redirected to (RFC 6749 4.1.2.1).
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("unknown client_id", status_code=400)
        if query.get("redirect_uri") != self.redirect_uri:
            return PlainTextResponse("redirect_uri is not registered for this client", 400)
        state = query.get("state", "")
        if query.get("response_type") != "code":
            return self._back(state, error="unsupported_response_type")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not re.fullmatch(
            r"[\w-]{43}", challenge
        ):
            return self._back(state, error="invalid_request", error_description="PKCE S256 needed")
        if "openid" not in query.get("scope", "").split():
            return self._back(state, error="invalid_scope")
        if self.deny:
            return self._back(state, error="access_denied", error_description="access was denied")
        code = secrets.token_urlsafe(32)
        self.codes[code] = Grant(
            self.client_id,
            self.redirect_uri,
            challenge,
            query.get("nonce"),
            query["scope"],
            time.monotonic() + CODE_SECONDS,
        )
        return self._back(state, code=code)

    def _back(self, state: str, **answer: str) -> Response:
        query = urlencode({**answer, "state": state, "iss": self.issuer})
        return RedirectResponse(f"{self.redirect_uri}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != FORM:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        body = (await request.body()).decode()
        fields = parse_qs(body, keep_blank_values=True)
        if any(len(values) > 1 for values in fields.values()):  # RFC 6749 section 3.2
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        asked = {k: v[0] for k, v in fields.items()}
        grant = self.codes.pop(asked.get("code", ""), None)  # a code is good once
        problem = self._refusal(asked, grant)
        self.exchanges.append({"request": asked, "refused": problem})
        if problem is not None:
            return JSONResponse(
                {"error": problem[0], "error_description": problem[1]},
                status_code=400,
                headers={"Cache-Control": "no-store"},
            )
        assert grant is not None
        now = int(time.time())
        access = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "role": self.role,
            "scope": grant.scope,
            "client_id": grant.client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "jti": secrets.token_hex(8),
        }
        identity = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            **({"nonce": grant.nonce} if grant.nonce else {}),
        }
        return JSONResponse(
            {
                "access_token": self._sign(access),
                "id_token": self._sign(identity),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": grant.scope,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _refusal(self, asked: dict[str, str], grant: Grant | None) -> tuple[str, str] | None:
        if asked.get("grant_type") != "authorization_code":
            return "unsupported_grant_type", "only authorization_code"
        if grant is None or time.monotonic() > grant.expires:
            return "invalid_grant", "unknown, used or expired code"
        if asked.get("client_id") != grant.client_id:
            return "invalid_grant", "the code was issued to another client"
        if asked.get("redirect_uri") != grant.redirect_uri:
            return "invalid_grant", "redirect_uri differs from the authorization request's"
        verifier = asked.get("code_verifier", "")
        if not VERIFIER.fullmatch(verifier):
            return "invalid_grant", "code_verifier must be 43 to 128 unreserved characters"
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if not hmac.compare_digest(computed, grant.challenge):
            return "invalid_grant", "the code_verifier does not match the code_challenge"
        return None

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
