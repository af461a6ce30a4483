"""An identity provider's public signing keys (JWKS), from a file or a URL, cached.

A file is read at start (a missing or broken one is a configuration error) and
re-read when a token names a key it lacks and the file has changed. A URL is
fetched by PyJWT's PyJWKClient on first use, cached, and fetched again for an
unknown key id at most once per cooldown, so forged kids cannot make us hammer
the identity provider.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import jwt
import orjson

from infra.settings import ConfigurationError


class KeysUnavailable(Exception):
    """The identity provider's keys cannot be fetched: tokens cannot be checked (503)."""


class SigningKeys:
    """Public keys by key id; `remote` when finding one may wait on the network."""

    remote = False

    def key_for(self, token: str) -> jwt.PyJWK | None:
        raise NotImplementedError


class JwksFile(SigningKeys):
    """A JWKS JSON file on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys, self._stamp = self._read()

    def _read(self) -> tuple[dict[str | None, jwt.PyJWK], float]:
        try:
            stamp = self.path.stat().st_mtime
            keys = jwt.PyJWKSet.from_dict(orjson.loads(self.path.read_bytes())).keys
        except (OSError, ValueError, jwt.PyJWTError) as error:
            raise ConfigurationError(
                f"SLOTWISE_JWT_JWKS_FILE {self.path} is not a readable JWKS file "
                f"({error.__class__.__name__})"
            ) from None
        return {key.key_id: key for key in keys}, stamp

    def key_for(self, token: str) -> jwt.PyJWK | None:
        kid = _kid(token)
        with self._lock:
            if kid not in self._keys and self._changed():
                self._keys, self._stamp = self._read()
            keys = self._keys
        if kid is None and len(keys) == 1:  # one key needs no name
            return next(iter(keys.values()))
        return keys.get(kid)

    def _changed(self) -> bool:
        try:
            return self.path.stat().st_mtime != self._stamp
        except OSError:
            return False


class JwksUrl(SigningKeys):
    """A JWKS endpoint (http or https), cached by PyJWT's PyJWKClient."""

    remote = True

    def __init__(self, url: str, cooldown_seconds: float = 30, timeout_seconds: float = 5) -> None:
        try:
            self.client = jwt.PyJWKClient(
                url,
                cache_keys=False,  # the JWK set cache (5 minutes) is enough and honours rotation
                timeout=timeout_seconds,
                cooldown_duration=cooldown_seconds,
            )
        except jwt.PyJWKClientError:
            raise ConfigurationError("SLOTWISE_JWT_JWKS_URL must be an http(s) URL") from None

    def key_for(self, token: str) -> jwt.PyJWK | None:
        try:
            return self.client.get_signing_key(_kid(token))  # type: ignore[arg-type]
        except jwt.PyJWKClientConnectionError:
            raise KeysUnavailable("the identity provider's keys cannot be fetched") from None
        except jwt.PyJWKClientError:
            return None


def _kid(token: str) -> str | None:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None
