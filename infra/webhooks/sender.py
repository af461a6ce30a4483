"""POSTs deliveries with httpx: https to public addresses only, no redirects, 5 s, 64 KiB read.

The host is resolved before every attempt and the request goes to the address
that was checked (with the name kept for TLS and the Host header), so a name
that resolves to a private address later (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from commands.processes.webhooks.ports import Answer
from domain.webhook import InvalidWebhook

MAX_BODY_READ = 64 * 1024


class RefusedAddress(Exception):
    """The URL is not one SlotWise may call."""


def public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class AddressGuard:
    """Which URLs may be called; `allow_private` (tests, development) allows loopback and http."""

    def __init__(self, allow_private: bool = False) -> None:
        self.allow_private = allow_private

    def check(self, url: str) -> str:
        """`UrlPolicy` for the write side: a 422 naming the problem."""
        try:
            self.resolve(url)
        except RefusedAddress as error:
            raise InvalidWebhook(f"url: {error}", field="url") from None
        return url

    def resolve(self, url: str) -> str:
        """The address to connect to; raises RefusedAddress."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self.allow_private and parts.scheme == "http"):
            raise RefusedAddress("only https URLs may receive webhooks")
        if not parts.hostname or parts.username or parts.password:
            raise RefusedAddress("the URL needs a host and no credentials")
        try:
            found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise RefusedAddress(f"{parts.hostname} does not resolve ({error})") from None
        addresses = [str(info[4][0]) for info in found]
        if not self.allow_private and not all(public(a) for a in addresses):
            raise RefusedAddress(f"{parts.hostname} resolves to a private or local address")
        return addresses[0]


class HttpSender:
    """`Sender` over one httpx client (connection reuse, no redirects, timeouts)."""

    def __init__(self, guard: AddressGuard, timeout_seconds: float = 5.0) -> None:
        self.guard = guard
        self.client = httpx.Client(
            follow_redirects=False, timeout=httpx.Timeout(timeout_seconds), trust_env=False
        )

    def send(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        started = time.monotonic()
        try:
            pinned, host = self._pinned(url)
            request = self.client.build_request(
                "POST",
                pinned,
                content=body,
                headers={**headers, "host": host, "user-agent": "SlotWise-Webhooks/1"},
                extensions={"sni_hostname": urlsplit(url).hostname or ""},
            )
            response = self.client.send(request, stream=True)
            try:
                read = 0
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read >= MAX_BODY_READ:
                        break
            finally:
                response.close()
        except (RefusedAddress, httpx.HTTPError, OSError) as error:
            elapsed = int((time.monotonic() - started) * 1000)
            return Answer(None, elapsed, f"{type(error).__name__}: {error}"[:500])
        return Answer(response.status_code, int((time.monotonic() - started) * 1000))

    def _pinned(self, url: str) -> tuple[str, str]:
        """The URL with its host replaced by the checked address, and the Host header."""
        parts = urlsplit(url)
        address = self.guard.resolve(url)
        shown = f"[{address}]" if ":" in address else address
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=shown + port)), f"{parts.hostname}{port}"

    def close(self) -> None:
        self.client.close()
