"""What the dashboard learns from /dashboard/config.json, and the sign-in settings that
cannot work refused at start."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from infra.bootstrap import bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET

ISSUER = "https://id.example.test/realms/salon"


def _jwks(tmp_path: Path) -> Path:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    key = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public)), "kid": "k1"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key]}))
    return path


def _config(settings: Settings) -> dict[str, object]:
    container = bootstrap(settings)
    try:
        with TestClient(create_read_app(container)) as client:
            answer = client.get("/dashboard/config.json")
            assert answer.status_code == 200
            return dict(answer.json())
    finally:
        container.close()


def test_the_dashboard_learns_the_identity_provider_only_when_one_is_set(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path / "plain", jwt_secret=JWT_SECRET)
    assert _config(plain)["oidc"] is None
    with_provider = Settings(
        data_dir=tmp_path / "oidc",
        jwt_jwks_file=_jwks(tmp_path),
        oidc_issuer=ISSUER,
        oidc_client_id="dashboard",
        write_api_url="https://write.example",
    )
    assert _config(with_provider) == {
        "write_api_url": "https://write.example",
        "oidc": {"issuer": ISSUER, "client_id": "dashboard", "scope": "openid"},
    }


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"oidc_issuer": ISSUER}, "SLOTWISE_OIDC_CLIENT_ID"),
        ({"oidc_client_id": "dashboard"}, "SLOTWISE_OIDC_ISSUER"),
        ({"oidc_issuer": ISSUER, "oidc_client_id": "dashboard", "jwks": False}, "JWKS"),
        ({"oidc_issuer": "id.example.test", "oidc_client_id": "dashboard"}, "oidc_issuer"),
        ({"oidc_issuer": f"{ISSUER}?x=1", "oidc_client_id": "dashboard"}, "oidc_issuer"),
        ({"oidc_issuer": ISSUER, "oidc_client_id": "two words"}, "oidc_client_id"),
    ],
)
def test_sign_in_settings_that_cannot_work_are_refused_naming_the_setting(
    tmp_path: Path, values: dict[str, object], named: str
) -> None:
    jwks = {"jwt_jwks_file": _jwks(tmp_path)} if values.pop("jwks", True) else {}
    with pytest.raises(ValueError, match=named):
        Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET, **jwks, **values)  # type: ignore[arg-type]
