"""Browser tests: Debian's chromium (never `playwright install`) driven by
Playwright against the local stack, started once per session on a free port.

PRIVOCHAT_BASE_URL=<url> runs the suite against a stack that is already up instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from room_helpers import DESKTOP

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PRIVOCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local stack exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(base_url + "/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the local stack did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    if os.environ.get("PRIVOCHAT_BASE_URL"):
        yield os.environ["PRIVOCHAT_BASE_URL"].rstrip("/")
        return
    port = _free_port()
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "WARNING"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def person(browser: Browser, stack: str):
    """A factory of people: each is a page in its own browser context (own cookies and
    localStorage). A script error on any of their pages fails the test."""
    contexts = []
    errors: list[str] = []

    def new_person(viewport: dict = DESKTOP) -> Page:
        context = browser.new_context(base_url=stack, viewport=viewport)
        context.set_default_timeout(8000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield new_person
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the page: {errors}"
