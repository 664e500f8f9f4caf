"""Opening a report.html in Debian's headless Chromium through playwright (shared by the report browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def report_page(html: Path, height: int) -> Iterator[object]:
    """The page showing ``html`` at 1280 px width (skips without playwright or Chromium). When the block ends,
    the page must have logged no error and requested nothing but the file itself and data: URLs."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    errors, requests = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": height})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        yield page
        browser.close()
    assert errors == []
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
