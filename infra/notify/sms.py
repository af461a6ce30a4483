"""SMS through a Twilio-compatible Messages API: a form-encoded POST with basic auth."""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from commands.processes.notify.ports import Refused, Transient


class TwilioTexter:
    """POST {base}/Accounts/{sid}/Messages.json with To, From and Body."""

    def __init__(
        self, base: str, account_sid: str, auth_token: str, sender: str, timeout: float = 10.0
    ) -> None:
        self.url = f"{base.rstrip('/')}/Accounts/{urllib.parse.quote(account_sid)}/Messages.json"
        credentials = f"{account_sid}:{auth_token}".encode()
        self.authorization = "Basic " + base64.b64encode(credentials).decode()
        self.sender, self.timeout = sender, timeout

    def send(self, to: str, body: str, committing: Callable[[], None]) -> None:
        form = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        request = urllib.request.Request(self.url, data=form, method="POST")
        request.add_header("Authorization", self.authorization)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        committing()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(64 * 1024)
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise Transient(f"SMS API answered {error.code}") from error
            raise Refused(f"SMS API answered {error.code}") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError):
                raise Transient(f"SMS API unreachable: {error.reason}") from error
            raise
