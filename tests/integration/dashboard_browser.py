"""Helpers of the dashboard's browser tests: Debian's Chromium through Playwright (never a downloaded browser),
signing in through the page, screenshots at phone and desktop widths, and reading numbers off a page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = Path(os.environ.get("DAWSOS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
WIDTHS = {"phone": (390, 844), "desktop": (1440, 900)}


def require_chromium() -> None:
    """Skip without Debian's Chromium; under CI=true that is a failure (.ci/run installs it)."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message)


class RequestLog:
    """Every URL the page asked for; :meth:`foreign` lists those not on the app's own host."""

    def __init__(self, base: str) -> None:
        self.own = urlparse(base).netloc
        self.urls: list[str] = []

    def __call__(self, request: Any) -> None:
        self.urls.append(request.url)

    def foreign(self) -> list[str]:
        return [u for u in self.urls if urlparse(u).netloc != self.own]


def sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def shoot(page: Any, name: str) -> list[Path]:
    """Full-page screenshots of the current URL at 390 px and 1440 px; asserts nothing overflows sideways at
    either width (tables scroll inside their own box)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the window"
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    page.set_viewport_size({"width": 1440, "height": 900})
    return written


def shoot_as_is(page: Any, name: str) -> list[Path]:
    """Like :func:`shoot` without reloading (the answer to a POST, e.g. a form with its error messages): the
    page is re-laid out at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the window"
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    page.set_viewport_size({"width": 1440, "height": 900})
    return written


def number(text: str) -> Decimal:
    """A number as the page shows it ('12,345.67', '18.50') as a Decimal."""
    return Decimal(text.strip().replace(",", "").replace("%", "").strip())


def field(page: Any, name: str, within: str = "") -> str:
    return page.locator(f'{within} [data-field="{name}"]'.strip()).first.inner_text()


def unlabelled_inputs(page: Any) -> list[str]:
    """Visible form controls without a label (for, aria-label or aria-labelledby)."""
    return page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.name || el.id)""")


@contextmanager
def signed_in_pages(browser: Any, base: str, tokens: dict[str, str], *, accept_dialogs: bool = False) -> Iterator[Any]:
    """``open_page(user)``: a new 1440 px browser context signed in as ``user`` (its request log is
    ``page.requests``; confirm dialogs accepted when ``accept_dialogs``); every context is closed on exit."""
    contexts = []

    def open_page(user: str) -> Any:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.requests = RequestLog(base)
        page.on("request", page.requests)
        if accept_dialogs:
            page.on("dialog", lambda dialog: dialog.accept())
        page.set_default_timeout(120_000)
        sign_in(page, base, tokens[user])
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()
