"""The dashboard signs in through an OpenID provider (authorization code, PKCE) in Chromium."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SignInStack, frozen_page, screenshot, serious_violations

pytestmark = pytest.mark.slow


def test_an_owner_signs_in_through_the_identity_provider_and_sees_their_businesses(
    sign_in_stack: SignInStack, browser: Browser
) -> None:
    stack, provider = sign_in_stack.stack, sign_in_stack.provider
    stack.open_salon()
    stack.settle()
    page = frozen_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(f"{stack.read_url}/dashboard/")
    button = page.get_by_role("button", name="Sign in through your identity provider")
    expect(page.locator("#oidc-help")).to_contain_text(provider.issuer)
    assert serious_violations(page) == []
    screenshot(page, "dashboard-sign-in.png")

    # A refusal at the provider comes back as a sentence; the token form stays.
    provider.deny = True
    page.keyboard.press("Tab")  # the first control on the page, by keyboard alone
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text(
        "The identity provider did not sign you in: access was denied."
    )
    expect(page.get_by_label("Owner token")).to_be_visible()

    provider.deny = False
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#business option")).to_have_text(["Studio Nord (Europe/Berlin)"])
    expect(page.locator("#live")).to_have_text("Live")
    expect(page).to_have_url(f"{stack.read_url}/dashboard/")  # the code is out of the address

    # One token exchange, granted: the provider checked the code and the PKCE verifier.
    [exchange] = provider.exchanges
    assert exchange["refused"] is None
    assert exchange["request"]["redirect_uri"] == f"{stack.read_url}/dashboard/"
    # The code is spent, and the provider refuses a verifier that does not match.
    again = stack.http.post(f"{provider.issuer}/token", data=exchange["request"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert _wrong_verifier_refused(stack.http, provider.issuer, exchange["request"])
    page.context.close()


def _wrong_verifier_refused(http: httpx.Client, issuer: str, asked: dict[str, str]) -> bool:
    """Start a sign-in with one verifier's challenge and present another at the token endpoint."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": asked["client_id"],
        "redirect_uri": asked["redirect_uri"],
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    answer = http.get(f"{issuer}/authorize", params=params)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    wrong = {**asked, "code": code, "code_verifier": secrets.token_urlsafe(32)}
    refused = http.post(f"{issuer}/token", data=wrong)
    return refused.status_code == 400 and "code_verifier" in refused.json()["error_description"]
