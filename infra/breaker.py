"""A dependency known to be away is left alone for a while, so requests do not wait on it."""

from __future__ import annotations

import time


class Breaker:
    """Open for `retry_seconds` after a failure: callers skip the dependency meanwhile."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self._closed_at = 0.0  # monotonic time from which the dependency is tried again

    @property
    def open(self) -> bool:
        return time.monotonic() < self._closed_at

    def failed(self) -> None:
        self._closed_at = time.monotonic() + self.retry_seconds

    @property
    def retry_after(self) -> int:
        """Whole seconds until the dependency is tried again (at least 1)."""
        return max(1, int(self._closed_at - time.monotonic() + 0.999))


class DependencyUnavailable(Exception):
    """A dependency did not answer in time or is known to be away: a 503 with Retry-After."""

    def __init__(self, dependency: str, retry_after: int = 1) -> None:
        super().__init__(f"{dependency} is out of reach")
        self.dependency, self.retry_after = dependency, retry_after
