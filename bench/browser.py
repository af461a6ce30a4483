"""Headless Chromium for the benchmarks, launched as the browser tests launch it.

A copy of what tests/browser/conftest.py does (bench/ does not import tests):
Debian's /usr/bin/chromium (or SLOTWISE_CHROMIUM) driven by Playwright.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("SLOTWISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed afterwards; a sentence when it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(
            f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium "
            "(apt-get install chromium) or set SLOTWISE_CHROMIUM"
        )
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
