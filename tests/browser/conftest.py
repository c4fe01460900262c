"""Browser tests: Debian's chromium (never `playwright install`) driven by
Playwright against the local stack, started once per session on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from devkit.chromium import CHROMIUM_ARGS
from devkit.servers import LocalStack, find_program, local_stack
from tests.browser.room_helpers import DESKTOP, Person

# Two cores shared with the stack (and whatever else runs): give each expectation room.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    with local_stack(LOG_LEVEL="WARNING") as running:
        yield running


# Package scope: Playwright's sync API keeps an event loop running on the main
# thread while it is open; the tests outside tests/browser need it closed.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    chromium = find_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def person(browser: Browser, stack: LocalStack) -> Iterator[Person]:
    """A factory of people: each is a page in its own browser context (own cookies and
    localStorage). A script error on any of their pages fails the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def new_person(viewport: ViewportSize = DESKTOP) -> Page:
        context = browser.new_context(base_url=stack.origin, viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield new_person
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the page: {errors}"
