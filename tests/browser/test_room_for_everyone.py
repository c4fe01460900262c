"""The room for everyone (issue 21): pending is not failed, right to left, plurals, focus
that is not lost, an offline banner that covers nothing, no console error, earlier messages
this browser can't read as one line. Each test failed before the change it covers."""

from __future__ import annotations

import json
import os
from typing import Literal

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from devkit.servers import LocalStack
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
    assert alice.locator("#text").evaluate(direction) == "ltr"  # empty: the page's direction
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
    expect(
        bob.locator(
            "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
        )
    ).to_have_count(3)
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


# ---------- 11. what a screen reader is told ----------

# Records, in every page of a context, what its live regions say: text added to (or shown in)
# an element whose aria-live (or role: status and log polite, alert assertive) is not "off",
# while it is not hidden, from the end of parsing on. Logged to the console, so that it
# outlives a navigation.
LIVE_RECORDER = """
(() => {
  const politeness = (node) => {
    for (let el = node.nodeType === 1 ? node : node.parentElement; el; el = el.parentElement) {
      const live = el.getAttribute('aria-live');
      if (live) return live;
      const role = el.getAttribute('role');
      if (role === 'alert') return 'assertive';
      if (role === 'status' || role === 'log') return 'polite';
    }
    return 'off';
  };
  const said = (node) => {
    const level = politeness(node);
    const el = node.nodeType === 1 ? node : node.parentElement;
    if (level === 'off' || !el || el.closest('[hidden]')) return;
    const text = (node.textContent || '').replace(/\\s+/g, ' ').trim();
    if (text) console.log('LIVE|' + level + '|' + text);
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'characterData') said(record.target);
      else if (record.type === 'attributes') { if (!record.target.hidden) said(record.target); }
      else record.addedNodes.forEach(said);
    }
  });
  // From the end of parsing on (what the page's scripts change), not the parser's own nodes.
  document.addEventListener('readystatechange', () => {
    if (document.readyState !== 'interactive') return;
    observer.observe(document, { subtree: true, childList: true, characterData: true,
                                 attributes: true, attributeFilter: ['hidden'] });
  });
})();
"""


def _listen(page: Page, heard: list[tuple[str, str]]) -> None:
    page.add_init_script(LIVE_RECORDER)

    def on_console(message: ConsoleMessage) -> None:
        if message.text.startswith("LIVE|"):
            _, level, text = message.text.split("|", 2)
            heard.append((level, text))

    page.on("console", on_console)


def test_a_screen_reader_hears_each_event_once_and_no_history_again(person: Person) -> None:
    heard: list[tuple[str, str]] = []
    alice = person()
    _listen(alice, heard)
    link = create_room(alice)
    bob = person()
    bob.goto(link)
    bob.locator("#join-name").fill("Bob")
    bob.get_by_role("button", name="Join", exact=True).click()
    expect_presence(alice, "Both here")
    send(bob, "hello alice")
    expect(alice.locator("#messages .msg.other")).to_have_count(1)
    send(alice, "hi bob")
    send(bob, "how are you?")
    expect(alice.locator("#messages .msg.other")).to_have_count(2)
    # Stored, then delivered and read (Bob's page shows it): said once, as "read".
    expect(alice.locator("#messages .msg.own[data-status='read']")).to_have_count(1)

    # A reload draws the history again: none of it is said again. This load's room has
    # 12 seconds left, so the one-minute warning comes at once and the end soon after.
    before_reload = len(heard)

    def short_ttl(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "ttl": 12})

    alice.route("**/api/room/join?*", short_ttl)
    alice.reload()
    expect(alice.locator("#messages .msg.other")).to_have_count(2)
    expect(alice.locator("#expiry-warning")).to_be_visible()
    send(bob, "still there?")
    expect(alice.locator("#messages .msg.other")).to_have_count(3)
    bob.close()
    expect(alice.locator("#messages .event").last).to_contain_text("left", timeout=15_000)
    expect(alice.locator("#notice")).to_contain_text("The room expired", timeout=15_000)

    report = os.environ.get("LIVE_REPORT")
    if report:
        with open(report, "w") as out:
            json.dump(heard, out, indent=1, ensure_ascii=False)
    polite = [text for level, text in heard if level == "polite"]
    assertive = [text for level, text in heard if level == "assertive"]
    for line in ("Bob: hello alice", "Bob: how are you?", "Bob: still there?"):
        assert polite.count(line) == 1, (line, heard)
    assert not any("hi bob" in text for _, text in heard), heard  # one's own message
    assert not any("hello alice" in text for _, text in heard[before_reload:]), heard
    # Joined: once, by name if the sealed name came first, else as "The other person".
    assert sum(text.endswith(" joined") for text in polite) == 1, heard
    assert polite.count("The other person read your message.") == 1, heard
    assert polite.count("\u2068Bob\u2069 left") == 1, heard
    warning = "Less than a minute left: then this room and every message in it are deleted."
    assert sum(text.startswith(warning) for text in polite) == 1, heard
    assert not any(text.startswith(warning) for text in assertive), heard
    assert assertive.count("The room has ended.") == 1, heard
    assert not any("typing" in text for _, text in heard), heard


# ---------- 12. languages ----------

LOBBY_CREATE = {
    "en": "Create a private room",
    "de": "Privaten Raum erstellen",
    "es": "Crear una sala privada",
    "ar": "أنشئ غرفة خاصة",
}


@pytest.mark.parametrize(
    ("locale", "language"),
    [("en-GB", "en"), ("de-AT", "de"), ("es-MX", "es"), ("ar-EG", "ar"), ("fr-FR", "en")],
)
def test_the_pages_follow_the_browsers_language_with_english_as_the_fallback(
    browser: Browser, stack: LocalStack, locale: str, language: str
) -> None:
    context = browser.new_context(base_url=stack.origin, locale=locale, viewport=PHONE)
    try:
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", language)
        expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        expect(page.locator("#create")).to_have_text(LOBBY_CREATE[language])
        expect(page.locator("#language")).to_have_value(language)
        # A link reads left to right in every language; a name takes its own direction.
        expect(page.locator("#join-input")).to_have_attribute("dir", "ltr")
        expect(page.locator("#name-input")).to_have_attribute("dir", "auto")
        shoot(page, f"lobby-{language}-390")
        link = create_room(page)
        expect(page.locator("#invite-card h2")).to_be_visible()
        assert page.title().endswith("PrivoChat")
        direction = "e => getComputedStyle(e).direction"
        assert page.locator("#invite-link-card").evaluate(direction) == "ltr"
        shoot(page, f"room-{language}-390")
        page.emulate_media(color_scheme="dark")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.reload()  # drawn dark from the start
        expect(page.locator("#invite-card h2")).to_be_visible()
        page.mouse.move(0, 0)
        shoot(page, f"room-{language}-desktop-dark")
        page.goto(f"/room/{'Z' * 21}#{'A' * 43}")
        expect(page.locator("body")).to_have_attribute("data-door", "gone")
        shoot(page, f"door-gone-{language}-desktop-dark")
        assert link and not errors, errors
    finally:
        context.close()


def test_a_person_can_switch_language_and_it_is_remembered(person: Person) -> None:
    page = person(PHONE)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#language").select_option("ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#create")).to_have_text(LOBBY_CREATE["ar"])
    create_room(page)  # the room page speaks it too
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("#invite-card h2")).to_have_text("غرفتك جاهزة")
    shoot(page, "room-switched-ar-390")
    page.locator("#language").select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#invite-card h2")).to_have_text("Tu sala está lista")
    page.goto("/")
    expect(page.locator("#create")).to_have_text(LOBBY_CREATE["es"])


# ---------- 10. an optional soft sound ----------

TONES = """
    (() => {
        let hidden = false;
        Object.defineProperty(Document.prototype, "visibilityState", { get: () => hidden ? "hidden" : "visible", configurable: true });
        window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
        window.__tones = 0;
        const make = AudioContext.prototype.createOscillator;
        AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
    })();
"""


def test_a_soft_sound_for_a_message_in_a_background_tab_once_turned_on(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    errors: list[str] = []
    bob.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    bob.add_init_script(TONES)
    bob.reload()
    expect(bob.locator("#app")).to_be_visible()
    sound = bob.get_by_role("button", name="Sound off")
    expect(sound).to_have_attribute("aria-pressed", "false")
    bob.evaluate("window.__setHidden(true)")
    send(alice, "quiet")
    expect(bob.locator("#messages .msg.other")).to_have_count(1)
    assert bob.evaluate("window.__tones") == 0, "off until turned on"

    bob.evaluate("window.__setHidden(false)")
    sound.click()
    expect(bob.get_by_role("button", name="Sound on")).to_have_attribute("aria-pressed", "true")
    send(alice, "in sight")
    expect(bob.locator("#messages .msg.other")).to_have_count(2)
    assert bob.evaluate("window.__tones") == 0, "a tab in sight makes no sound"
    bob.evaluate("window.__setHidden(true)")
    send(alice, "in the background")
    bob.wait_for_function("() => window.__tones === 2")

    bob.reload()  # remembered in this browser
    expect(bob.get_by_role("button", name="Sound on")).to_have_attribute("aria-pressed", "true")
    assert errors == [], errors  # no autoplay refusal, before or after a reload
