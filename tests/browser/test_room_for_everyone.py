"""The room for everyone (issue 21): pending is not failed, right to left, plurals, focus
that is not lost, an offline banner that covers nothing, no console error, earlier messages
this browser can't read as one line. Each test failed before the change it covers."""

from __future__ import annotations

import os
from typing import Literal

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.room_helpers import (
    PHONE,
    Person,
    create_room,
    expect_presence,
    forget_keys,
    join,
    room_id,
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
    person: Person, scheme: Literal["light", "dark"]
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


# ---------- 6. focus is not lost ----------


@pytest.mark.parametrize("where", ["invite card", "invite dialog"])
def test_focus_moves_to_the_composer_when_the_invite_it_was_on_goes_away(
    person: Person, where: str
) -> None:
    alice = person()
    link = create_room(alice)
    if where == "invite card":
        alice.locator("#invite-card .show-qr").focus()
    else:
        alice.locator("#invite").focus()
        alice.keyboard.press("Enter")
        expect(alice.locator("#invite-dialog")).to_be_visible()
    bob = person()
    bob.goto(link)
    bob.get_by_role("button", name="Join", exact=True).click()
    expect(alice.locator("#invite-card")).to_be_hidden()
    expect(alice.locator("#invite-dialog")).to_be_hidden()
    expect(alice.locator("#text")).to_be_focused()
    alice.keyboard.type("typed straight away")
    expect(alice.locator("#text")).to_have_value("typed straight away")


# ---------- 7. the offline banner covers nothing ----------


@pytest.mark.parametrize("width", [320, 390])
def test_the_offline_banner_covers_no_message(person: Person, width: int) -> None:
    """In flow above the log (nothing drawn over a message), one short line on a phone, and
    the newest message stays in sight when it appears."""
    alice = person({"width": width, "height": 640})
    link = create_room(alice)
    bob = person()
    bob.goto(link)
    bob.get_by_role("button", name="Join", exact=True).click()
    expect_presence(alice, "Both here")
    for n in range(10):
        send(bob, f"message {n}")
    expect(alice.locator("#messages .msg.other")).to_have_count(10)
    alice.locator("#messages").evaluate("log => { log.scrollTop = log.scrollHeight; }")
    alice.context.set_offline(True)
    banner = alice.locator("#offline")
    expect(banner).to_be_visible()
    seen = alice.evaluate(
        """() => {
            const box = (node) => node.getBoundingClientRect();
            const log = box(document.getElementById('messages'));
            const banner = box(document.getElementById('offline'));
            const last = box([...document.querySelectorAll('#messages .msg')].at(-1));
            const hit = document.elementFromPoint(last.left + 8, last.top + 4);
            return { bannerBottom: banner.bottom, bannerHeight: banner.height, logTop: log.top,
                     logBottom: log.bottom, lastBottom: last.bottom,
                     lastCovered: !document.getElementById('messages').contains(hit) };
        }"""
    )
    assert seen["bannerBottom"] <= seen["logTop"] + 0.5, seen  # above the log, never over it
    assert seen["bannerHeight"] <= 48, seen  # one line on a phone
    assert seen["lastBottom"] <= seen["logBottom"] + 1, seen  # the newest message still shows
    assert not seen["lastCovered"], seen
    shoot(alice, f"offline-banner-{width}")
    alice.context.set_offline(False)
    expect(banner).to_be_hidden()


# ---------- 8. no console error ----------


def test_no_console_error_on_any_screen_and_config_json_is_served(person: Person) -> None:
    errors: list[str] = []
    alice = person()
    bob = person(PHONE)
    for page in (alice, bob):
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.on(
            "response",
            lambda response: (
                errors.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
    alice.goto("/")
    link = create_room(alice)
    bob.goto(link)
    bob.get_by_role("button", name="Join", exact=True).click()
    expect_presence(alice, "Both here")
    send(bob, "hello")
    expect(alice.locator("#messages .msg.other")).to_have_count(1)
    bob.goto(f"/room/{'Z' * 21}#{'A' * 43}")
    expect(bob.locator("body")).to_have_attribute("data-door", "gone")
    alice.locator("#leave").click()
    alice.locator("#confirm-leave-yes").click()
    expect(alice.locator("#notice")).to_be_visible()
    config = alice.request.get("/config.json")
    assert config.status == 200 and "wsUrl" in config.json()
    assert errors == []


# ---------- 9. earlier messages this browser can't read: one line ----------


def test_earlier_messages_this_browser_cannot_read_are_one_compact_line(person: Person) -> None:
    alice, bob, link = two_people_in_a_room(person)
    for text in ("one", "two"):
        send(alice, text)
    for text in ("three", "four", "five"):
        send(bob, text)
    expect(bob.locator("#messages .msg.own[data-status='sent']")).to_have_count(3)
    expect(bob.locator("#messages .msg.other")).to_have_count(2)
    forget_keys(bob, room_id(link))
    bob.reload()
    join(bob)
    line = bob.locator("#messages .msg.earlier")
    expect(line).to_have_count(1)
    expect(line).to_have_text("5 earlier messages can't be read in this browser")
    expect(line).to_have_attribute("role", "note")
    expect(bob.locator("#messages .bubble")).to_have_count(0)
    shoot(bob, "earlier-messages-one-line")
