"""Playwright fixtures: Debian's Chromium (never a downloaded browser) against a real daphne.

Import these fixtures from a test module with `from tests.browser import *`-free style:
`pytest_plugins` in conftest.py loads this module, so tests just name the fixtures.
"""

import os
import shutil

import pytest


CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
BROWSER_PASSWORD = "Browser-pass-4711"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the browser tests (skipped only where Chromium is not installed)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server_url(hub_server):
    """The URL of a real daphne process on a free port, sharing this test's database and Redis."""
    return hub_server.url


@pytest.fixture
def new_page(browser):
    """Factory: new_page() -> a Page in a fresh browser context (its own cookies, like another person)."""
    contexts = []

    def _new_page():
        context = browser.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


def signup(page, base_url, username, password=BROWSER_PASSWORD):
    """Sign up through the allauth form as a person would; lands on the home page, connected."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)
    page.click("form [type=submit]")
    page.wait_for_url(f"{base_url}/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    return page


def login(page, base_url, username, password=BROWSER_PASSWORD):
    """Log in through the allauth form; lands on the home page, connected."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("form [type=submit]")
    page.wait_for_url(f"{base_url}/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    return page
