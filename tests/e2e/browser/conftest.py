"""A real headless Chromium (Debian's package, driven by Playwright) against pytest-django's live
server, with the console signed in and screenshots saved under test-artifacts/screenshots/."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.urls import clear_url_caches

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
USERNAME, PASSWORD = "operator", "correct horse battery"
# Generous: other test runs share the two cores, and a render waits for a worker to start.
ACTION_TIMEOUT_MS = 30_000

# Playwright's sync API keeps an event loop running in this thread; Django's ORM calls made by the
# test itself are still plain synchronous code, so the async-safety guard would only get in the way.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Imported here so that collecting (and skipping) works where Playwright is not installed.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _media_served_from_this_tests_root(media_root: Path) -> Iterator[None]:
    """The run command's media route binds MEDIA_ROOT when the URLconf is imported; this test's
    media folder is new, so the URLconf is rebuilt to serve it (and rebuilt again afterwards)."""
    _reload_urlconf()
    yield
    _reload_urlconf()


def _reload_urlconf() -> None:
    module = importlib.import_module(settings.ROOT_URLCONF)
    importlib.reload(module)
    clear_url_caches()


@pytest.fixture
def operator(django_user_model: type[AbstractBaseUser]) -> AbstractBaseUser:
    """A staff user who signs in through the login form."""
    return django_user_model.objects.create_user(USERNAME, password=PASSWORD, is_staff=True)


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer, operator: AbstractBaseUser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts; `signed_in=True` signs in through the login form once
    and reuses that session's cookies."""
    contexts = []
    session: dict = {}

    def open_page(viewport: dict[str, int] = DESKTOP, signed_in: bool = True) -> Page:
        if signed_in and not session:
            session.update(_sign_in(open_page(signed_in=False), live_server.url))
        context = browser.new_context(
            viewport=viewport, base_url=live_server.url, storage_state=session if signed_in else None,
            timezone_id="Europe/Paris",
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _sign_in(page: Page, base_url: str) -> dict:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    expect(page).to_have_url(f"{base_url}/login/?next=/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    return page.context.storage_state()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
