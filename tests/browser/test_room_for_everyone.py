"""The room for everyone (issue 21): pending is not failed, right to left, plurals, focus
that is not lost, an offline banner that covers nothing, no console error, earlier messages
this browser can't read as one line. Each test failed before the change it covers."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.room_helpers import (
    PHONE,
    Person,
    create_room,
    expect_presence,
    send,
    two_people_in_a_room,
)

pytestmark = pytest.mark.timeout(120)


def shoot(page: Page, name: str) -> None:
    """A screenshot for a person to look at, when PRIVOCHAT_SCREENSHOTS names a folder."""
    folder = os.environ.get("PRIVOCHAT_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def _css_color(page: Page, variable: str) -> str:
    """A CSS variable of the page's theme, as getComputedStyle spells a color."""
    return str(
        page.evaluate(
            """v => { const s = document.createElement('span');
                s.style.color = getComputedStyle(document.body).getPropertyValue(v).trim();
                document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; }""",
            variable,
        )
    )


# ---------- 2. pending looks pending, failed looks failed ----------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pending_is_neutral_and_says_it_goes_by_itself_failed_is_red(
    person: Person, scheme: str
) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    alice.emulate_media(color_scheme=scheme)
    refuse = {"on": False}

    def server_away(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
        elif refuse["on"]:
            route.fulfill(status=422, json={"error": "bad-request", "message": "no"})
        else:
            route.fulfill(status=503, json={"error": "unavailable", "message": "try again"})

    alice.route("**/api/messages?*", server_away)
    send(alice, "while the server is away")
    pending = alice.locator("#messages .msg.own").last
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending.locator(".meta")).to_contain_text(
        "Can't reach the server: sends by itself when it answers."
    )
    danger = _css_color(alice, "--danger")
    bubble = pending.locator(".bubble")
    for prop in ("borderTopColor", "color"):
        assert bubble.evaluate(f"e => getComputedStyle(e).{prop}") != danger
    assert pending.locator(".pending").evaluate("e => getComputedStyle(e).color") != danger
    expect(pending.get_by_role("button", name="Send now")).to_be_visible()
    shoot(alice, f"pending-{scheme}")

    refuse["on"] = True
    send(alice, "refused for good")
    failed = alice.locator("#messages .msg.own").last
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed.locator(".failed")).to_have_text("Not sent: too long or invalid.")
    assert failed.locator(".failed").evaluate("e => getComputedStyle(e).color") == danger
    assert failed.locator(".bubble").evaluate("e => getComputedStyle(e).borderTopColor") == danger
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()
    shoot(alice, f"pending-and-failed-{scheme}")

    # The server answers again: the pending one goes by itself, no click.
    refuse["on"] = False
    alice.unroute("**/api/messages?*")
    expect(pending).to_have_attribute("data-status", "sent", timeout=15_000)
    expect(bob.locator("#messages .msg.other .bubble").first).to_have_text(
        "while the server is away"
    )


# ---------- 3. right to left ----------


def test_a_right_to_left_conversation_reads_right_to_left(person: Person) -> None:
    alice = person(PHONE)
    link = create_room(alice)
    bob = person(PHONE)
    bob.goto(link)
    bob.locator("#join-name").fill("سارة")
    expect(bob.locator("#join-name")).to_have_js_property("dir", "auto")
    assert bob.locator("#join-name").evaluate("e => getComputedStyle(e).direction") == "rtl"
    bob.get_by_role("button", name="Join", exact=True).click()
    expect_presence(alice, "Both here")
    expect_presence(bob, "Both here")
    send(bob, "مرحبا! كيف حالك اليوم؟")
    send(bob, "Hello in English")
    other = alice.locator("#messages .msg.other .bubble")
    expect(other).to_have_count(2)
    direction = "e => getComputedStyle(e).direction"
    assert other.nth(0).evaluate(direction) == "rtl"
    assert other.nth(1).evaluate(direction) == "ltr"
    sender = alice.locator("#messages .msg.other .sender").first
    expect(sender).to_have_text("سارة")
    assert sender.evaluate(direction) == "rtl"
    alice.locator("#text").fill("أهلا سارة")
    assert alice.locator("#text").evaluate(direction) == "rtl"
    alice.locator("#text").press("Enter")
    own = alice.locator("#messages .msg.own .bubble")
    expect(own).to_have_text(["أهلا سارة"])
    assert own.first.evaluate(direction) == "rtl"
    assert bob.locator("#my-name").evaluate(direction) == "rtl"
    shoot(alice, "rtl-conversation-390")
    shoot(bob, "rtl-conversation-joiner-390")
