"""The whole stack stops and starts again (its data in a redis-server): both pages
reconnect by themselves, a message sent meanwhile goes out once, nothing is lost."""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, expect

from devkit.servers import GENEROUS_LIMITS, ROOT, free_port, redis_process, wait_for_port
from tests.browser.room_helpers import (
    STORED,
    bubbles,
    create_room,
    expect_presence,
    open_room,
    safety_code,
    send,
)

pytestmark = pytest.mark.timeout(90)


@contextmanager
def stack_on(port: int, redis_url: str, secret: str) -> Iterator[None]:
    """The local stack on a fixed port (so pages can come back to it), data in redis_url,
    tokens signed with `secret` (as every cold start in AWS reads the same one).
    It ends as a crash would: killed, every connection cut at once."""
    env = {
        **os.environ,
        **GENEROUS_LIMITS,
        "PORT": str(port),
        "REDIS_URL": redis_url,
        "APP_SECRET": secret,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local_stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_stack_restart_reconnects_both_and_sends_what_failed_once(browser: Browser) -> None:
    port = free_port()
    secret = secrets.token_urlsafe(32)
    origin = f"http://127.0.0.1:{port}"
    contexts = [browser.new_context(base_url=origin) for _ in range(2)]
    alice, bob = (context.new_page() for context in contexts)
    try:
        with redis_process() as redis:
            with stack_on(port, redis.url, secret):
                link = create_room(alice)
                open_room(bob, link)
                expect_presence(alice, "Both here")
                assert safety_code(alice) == safety_code(bob)
                send(alice, "before")
                expect(bubbles(bob, "other")).to_have_text(["before"])

            expect_presence(bob, "Reconnecting…")
            send(alice, "while the server was down")
            mine = alice.locator("#messages .msg.own").last
            # It goes by itself once the server is back: pending, not failed.
            expect(mine).to_have_attribute("data-status", "pending")

            with stack_on(port, redis.url, secret):
                # Both come back on the same backoff schedule; a pong lost to the
                # reconnect race (see realtime.js) costs one more round.
                for page in (alice, bob):
                    expect(page.locator("#presence-text")).to_have_text("Both here", timeout=25_000)
                expect(mine).to_have_attribute("data-status", STORED)
                both = ["before", "while the server was down"]
                expect(bubbles(alice, "own")).to_have_text(both)
                expect(bubbles(bob, "other")).to_have_text(both)
                stored = bob.evaluate(
                    "async () => (await (await fetch(`/api/messages?roomId=${location.pathname.split('/')[2]}`)).json()).messages"
                )
                assert len(stored) == 2
    finally:
        for context in contexts:
            context.close()
