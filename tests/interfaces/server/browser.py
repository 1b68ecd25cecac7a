"""Debian's Chromium driven by Playwright (no browser download: an intranet has none)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on a closed network
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        raise RuntimeError("Chromium is missing: `apt-get install chromium` (see .ci/run)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_js(page: Any, expression: str, timeout: float = 30_000) -> None:
    """`page.wait_for_function`, polled from here: Playwright's own polling evaluates
    strings inside the page, which our pages' Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {expression}")
        page.wait_for_timeout(100)
