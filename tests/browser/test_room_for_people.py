"""The room as people meet it (issue 13): offline and back, who is told to invite whom, a copy
that fails says so, the page's structure, time said in words, drafts, names, links, phones,
sharing, notifications, the 404 page. Each test failed before the change it covers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NotRequired, TypedDict
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    FloatRect,
    Locator,
    Page,
    Route,
    ViewportSize,
    WebSocketRoute,
    expect,
)

from devkit.servers import LocalStack
from tests.browser.room_helpers import (
    Person,
    bubbles,
    create_room,
    expect_presence,
    join,
    open_room,
    room_id,
    send,
    two_people_in_a_room,
)

pytestmark = pytest.mark.timeout(90)

SMALL_PHONE: ViewportSize = {"width": 320, "height": 568}


def short_ttl(seconds: int) -> Callable[[Route], None]:
    """A route handler that makes the join answer say the room has `seconds` left."""

    def handler(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "ttl": seconds})

    return handler


def boxes_overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def box_of(locator: Locator) -> FloatRect:
    """The element's bounding box; it must be rendered."""
    box = locator.bounding_box()
    assert box is not None, f"{locator} has no box"
    return box


# ---------- offline, then back ----------


def test_offline_then_back_says_offline_and_resends_by_itself(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    alice.context.set_offline(True)
    expect_presence(alice, "Offline")
    expect(alice.locator("#offline")).to_be_visible()

    send(alice, "written on the train")
    mine = alice.locator("#messages .msg.own")
    expect(mine).to_have_attribute("data-status", "pending")
    expect(mine).to_contain_text("sends by itself when you're back online")

    alice.context.set_offline(False)
    # No click on Retry: the network's return sends it, well before any socket timeout.
    expect(mine).to_have_attribute("data-status", "sent", timeout=8000)
    expect(bubbles(bob, "other")).to_have_text(["written on the train"])
    expect(alice.locator("#offline")).to_be_hidden()
    expect_presence(alice, "Both here")


# ---------- who is told to invite ----------


def test_the_invited_person_is_not_told_to_invite_and_the_creator_stops_being_told(
    person: Person,
) -> None:
    alice = person()
    link = create_room(alice)
    expect(alice.locator("#invite-card")).to_be_visible()
    expect(alice.get_by_role("button", name="Copy invite link")).to_be_visible()
    expect(alice.locator("#invite")).to_be_visible()

    bob = person()
    open_room(bob, link)
    expect(bob.locator("#empty")).to_be_visible()
    expect(bob.locator("#invite-card")).to_be_hidden()
    expect(bob.get_by_text("Send this link to one person")).to_be_hidden()
    expect(bob.locator("#hello-card")).to_contain_text("You're both here")
    expect(bob.get_by_role("button", name=re.compile("invite", re.I))).to_have_count(0)

    expect_presence(alice, "Both here")
    expect(alice.locator("#invite-card")).to_be_hidden()
    expect(alice.locator("#hello-card")).to_be_visible()
    expect(alice.get_by_role("button", name=re.compile("invite", re.I))).to_have_count(0)


# ---------- copy that fails ----------


def test_a_refused_copy_says_so_and_selects_the_link_to_copy_by_hand(person: Person) -> None:
    alice = person()
    create_room(alice)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(alice.url))
    cdp = alice.context.new_cdp_session(alice)
    context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "clipboard-write"},
            "setting": "denied",
            "origin": origin,
            "browserContextId": context_id,
        },
    )
    assert (
        alice.evaluate(
            "async () => (await navigator.permissions.query({ name: 'clipboard-write' })).state"
        )
        == "denied"
    )
    field = alice.locator("#invite-link-card")
    expect(field).to_have_value(alice.url)  # the link, as selectable text

    alice.get_by_role("button", name="Copy invite link").click()
    expect(alice.locator("#toast")).to_contain_text("Couldn't copy")
    expect(alice.locator("#toast")).not_to_contain_text("copied")
    expect(field).to_be_focused()
    selected = field.evaluate("f => f.value.slice(f.selectionStart, f.selectionEnd)")
    assert selected == alice.url


# ---------- contrast details axe does not see ----------


def test_error_text_is_red_focus_rings_are_solid_and_retry_is_a_real_target(person: Person) -> None:
    page = person()
    page.goto("/room/AAAAAAAAAAAAAAAAAAAAA")
    expect(page.locator("#screen-title")).to_have_text("This link is missing its key")
    page.locator("#key-input").fill("no key here")
    page.locator("#key-input").press("Enter")
    error = page.locator("#key-error")
    expect(error).to_be_visible()
    danger = page.evaluate("getComputedStyle(document.body).getPropertyValue('--danger')")
    red = page.evaluate(
        "c => { const s = document.createElement('span'); s.style.color = c; document.body.append(s);"
        " const v = getComputedStyle(s).color; s.remove(); return v; }",
        danger.strip(),
    )
    assert error.evaluate("e => getComputedStyle(e).color") == red

    page.keyboard.press("Tab")  # onto the Open button: a keyboard focus
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert ring.startswith("rgb("), f"a solid ring, not a see-through one: {ring}"

    alice, _, _ = two_people_in_a_room(person)
    refused = {"error": "bad-request", "message": "Not the route's shape."}
    alice.route(
        "**/api/messages?*",
        lambda r: (
            r.fulfill(status=422, json=refused) if r.request.method == "POST" else r.continue_()
        ),
    )
    send(alice, "will fail")
    retry = alice.locator("#messages .msg.own").get_by_role("button", name="Retry")
    box = retry.bounding_box()
    assert box and box["width"] >= 24 and box["height"] >= 24, box


# ---------- the room page's structure ----------


def test_the_room_page_has_a_main_landmark_an_h1_and_a_log_inside_it(person: Person) -> None:
    alice, _, _ = two_people_in_a_room(person)
    shape = alice.evaluate(
        """() => {
            const visible = (e) => e.checkVisibility();
            const mains = [...document.querySelectorAll("main")].filter(visible);
            const log = document.querySelector("[role=log]");
            return {
                mains: mains.length,
                mainRole: mains[0]?.getAttribute("role"),
                logInMain: Boolean(log?.closest("main")) && log !== mains[0],
                logId: log?.id,
                h1: [...document.querySelectorAll("h1")].filter(visible).length,
                bannerInMain: Boolean(document.getElementById("e2e").closest("main")),
            };
        }"""
    )
    assert shape == {
        "mains": 1,
        "mainRole": None,
        "logInMain": True,
        "logId": "messages",
        "h1": 1,
        "bannerInMain": True,
    }


# ---------- time ----------


def test_the_time_left_is_said_in_words_and_a_warning_comes_before_the_end(person: Person) -> None:
    page = person()
    page.route("**/api/room/join*", short_ttl(63))
    create_room(page)
    expect(page.locator("#ttl")).to_have_text(re.compile(r"^\s*Deletes itself in\s*2 min left\s*$"))
    expect(page.locator("#invite-card .life")).to_have_text(
        "This room deletes itself in 2 minutes, with everything in it."
    )
    warning = page.locator("#expiry-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8000)
    expect(warning).to_contain_text("Less than a minute left")
    expect(page.locator("#ttl")).to_contain_text(re.compile(r"\d+ s left"))
    # The warning offers to keep the conversation: a file, made in the browser.
    with page.expect_download() as download:
        warning.get_by_role("button", name="Save conversation").click()
    assert download.value.suggested_filename.startswith("privochat-")


# ---------- drafts ----------


def _session_keys(page: Page) -> list[str]:
    keys: list[str] = page.evaluate("Object.keys(sessionStorage)")
    return keys


def test_a_draft_survives_a_reload_and_is_gone_once_sent(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    alice.locator("#text").fill("half a thought")
    alice.reload()
    expect(alice.locator("#app")).to_be_visible()
    expect(alice.locator("#text")).to_have_value("half a thought")
    alice.locator("#text").press("Enter")
    expect(bubbles(bob, "other")).to_have_text(["half a thought"])
    alice.reload()
    expect(alice.locator("#app")).to_be_visible()
    expect(alice.locator("#text")).to_have_value("")


def test_leave_and_destroy_clear_the_draft(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    bob.locator("#text").fill("never mind")
    bob.locator("#leave").click()
    bob.get_by_role("button", name="Leave room").click()
    expect(bob.locator("#notice")).to_contain_text("You left the room")
    assert not [key for key in _session_keys(bob) if key.startswith("privochat.")]

    alice.locator("#text").fill("gone with the room")
    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    expect(alice.locator("#notice")).to_contain_text("You destroyed the room")
    assert not [key for key in _session_keys(alice) if key.startswith("privochat.")]


def test_what_was_not_sent_is_not_lost_when_the_room_expires(person: Person) -> None:
    page = person()
    page.route("**/api/room/join*", short_ttl(4))
    create_room(page)
    send(page, "waiting for them")  # alone: it waits, and is never sent
    page.locator("#text").fill("and a draft")
    expect(page.locator("#notice")).to_contain_text("The room expired", timeout=8000)
    expect(page.locator("#kept")).to_have_value("waiting for them\n\nand a draft")
    page.reload()
    expect(page.locator("#kept")).to_have_count(0)  # shown once, then gone from the tab


# ---------- names, links, the tick ----------


def test_the_name_chosen_on_the_join_card_is_the_one_the_other_sees(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    bob.goto(link)
    expect(bob.locator("#screen-title")).to_have_text("Join this private room")
    bob.locator("#join-name").fill("Bob from the print shop")
    join(bob)
    expect(bob.locator("#my-name")).to_have_text("Bob from the print shop")
    send(bob, "hello")
    expect(alice.locator("#messages .msg.other .sender")).to_have_text(["Bob from the print shop"])


def test_the_lobby_asks_for_the_invite_link_and_explains_a_bare_room_id(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    page = person()
    page.goto("/")
    expect(page.get_by_label("Invite link")).to_be_visible()
    expect(page.get_by_text("room ID")).to_have_count(0)
    page.locator("#join-input").fill(room_id(link))
    page.locator("#join-input").press("Enter")
    expect(page.locator("#join-error")).to_contain_text("key comes after the “#”")
    assert urlsplit(page.url).path == "/"


def test_the_tick_says_sent_which_is_what_it_means(person: Person) -> None:
    alice, _, _ = two_people_in_a_room(person)
    send(alice, "are you there?")
    meta = alice.locator(
        "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read]) .meta"
    )
    expect(meta).to_contain_text("Sent")
    expect(meta).not_to_contain_text("delivered")
    expect(meta.locator("[title]").last).to_have_attribute("title", re.compile("stored"))


def test_links_in_messages_open_in_a_new_tab_and_nothing_else_becomes_a_link(
    person: Person,
) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    text = (
        "plan: https://example.com/a?b=1, not javascript:alert(1) "
        "nor <a href=javascript:alert(2)>this</a> nor data:text/html,hi"
    )
    send(alice, text)
    expect(bubbles(bob, "other")).to_have_text([text])
    links = bob.locator("#messages .msg.other .bubble a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/a?b=1")
    expect(links).to_have_attribute("target", "_blank")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(links).to_have_text("https://example.com/a?b=1")
    expect(alice.locator("#messages .msg.own .bubble a")).to_have_count(1)


# ---------- small phones ----------


def test_a_320_px_phone_has_create_above_the_fold_and_a_one_line_room_header(
    person: Person,
) -> None:
    page = person(SMALL_PHONE)
    page.goto("/")
    box = page.get_by_role("button", name="Create a private room").bounding_box()
    assert box and box["y"] + box["height"] <= SMALL_PHONE["height"], box

    link = create_room(page)
    bob = person(SMALL_PHONE)
    open_room(bob, link)
    for who in (page, bob):
        expect_presence(who, "Both here")
        header = who.locator(".topbar").bounding_box()
        assert header and header["height"] <= 56, header
        banner = who.locator("#e2e").bounding_box()
        assert banner and banner["height"] <= 52, banner  # two lines at most
        assert who.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
        parts = [
            who.locator(selector).bounding_box()
            for selector in ("#presence", "#ttl", "#leave", "#destroy")
        ]
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                assert a and b and not boxes_overlap(a, b), (a, b)


# ---------- the 404 page ----------


def test_an_unknown_path_is_a_404_page_that_leads_to_the_lobby(person: Person) -> None:
    page = person()
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing here.")
    page.get_by_role("link", name="Go to the lobby").click()
    expect(page.get_by_role("button", name="Create a private room")).to_be_visible()


# ---------- the minor ones ----------


def test_times_show_the_hour_without_a_leading_zero(browser: Browser, stack: LocalStack) -> None:
    context = browser.new_context(base_url=stack.origin, locale="en-US", timezone_id="UTC")
    other = browser.new_context(base_url=stack.origin)
    try:
        page = context.new_page()
        link = create_room(page)
        bob = other.new_page()
        open_room(bob, link)
        # The time shown is the sender's own clock, sealed with the message.
        page.clock.set_fixed_time(datetime(2026, 1, 5, 3, 1, tzinfo=UTC))
        send(page, "at three")
        expect(
            page.locator(
                "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
            )
        ).to_have_count(1)
        page.reload()
        expect(page.locator("#messages .msg.own .meta time")).to_have_text("3:01 AM")
    finally:
        context.close()
        other.close()


def test_the_toast_stays_clear_of_the_typing_line(person: Person) -> None:
    alice = person()
    create_room(alice)
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"])
    alice.get_by_role("button", name="Copy invite link").click()
    toast = alice.locator("#toast")
    expect(toast).to_have_attribute("data-show", "")
    alice.wait_for_function(
        "() => getComputedStyle(document.getElementById('toast')).opacity === '1'"
    )
    assert not boxes_overlap(box_of(toast), box_of(alice.locator("#typing")))
    assert not boxes_overlap(box_of(toast), box_of(alice.locator("#composer")))


def test_the_lobby_notice_is_in_place_at_first_paint(person: Person) -> None:
    page = person()

    def slow_script(route: Route) -> None:
        page.wait_for_timeout(400)  # a slow network: the page could paint before the script runs
        route.continue_()

    page.route("**/js/lobby.js", slow_script)
    page.goto("/?destroyed=1")
    expect(page.locator("#notice")).to_be_visible()
    shift = page.evaluate(
        """() => new Promise((resolve) => {
            let total = 0;
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
            }).observe({ type: "layout-shift", buffered: true });
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(total)));
        })"""
    )
    assert shift < 0.01, f"cumulative layout shift {shift}"


def test_who_destroyed_the_room_is_said(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    expect(alice.locator("#notice strong")).to_have_text("You destroyed the room.")
    expect(bob.locator("#notice strong")).to_have_text("The room was destroyed.")


def test_the_counter_names_the_1000_character_limit(person: Person) -> None:
    alice = person()
    create_room(alice)
    alice.locator("#text").fill("x" * 990)
    expect(alice.locator("#limit-note")).to_have_text("A message holds up to 1000 characters.")
    alice.locator("#text").fill("x" * 1005)
    expect(alice.locator("#limit-note")).to_contain_text(
        "5 characters over the 1000-character limit"
    )
    alice.locator("#text").fill("short")
    expect(alice.locator("#limit-note")).to_be_hidden()


# ---------- sharing to a phone ----------


def _qr_matrix(page: Page) -> list[list[bool]]:
    """The dark modules of the QR code the dialog shows, read back from its SVG path."""
    d = page.locator("#qr svg path").get_attribute("d") or ""
    count = int(page.locator("#qr svg").get_attribute("data-modules") or 0)
    grid = [[False] * count for _ in range(count)]
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", d):
        grid[int(y) - 4][int(x) - 4] = True
    return grid


def test_the_invite_shows_a_qr_code_of_the_link_for_a_phone(person: Person) -> None:
    alice = person()
    create_room(alice)
    alice.get_by_role("button", name="QR code").click()
    dialog = alice.locator("#invite-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("img", name="QR code of the invite link")).to_be_visible()
    expect(dialog.locator("#invite-link-dialog")).to_have_value(alice.url)
    grid = _qr_matrix(alice)
    n = len(grid)
    assert n >= 21 and (n - 17) % 4 == 0, n  # a QR version's size
    for top, left in ((0, 0), (0, n - 7), (n - 7, 0)):  # the three finder patterns
        for r in range(7):
            for c in range(7):
                ring = r in (0, 6) or c in (0, 6)
                core = 2 <= r <= 4 and 2 <= c <= 4
                assert grid[top + r][left + c] == (ring or core), (top, left, r, c)
    assert [grid[6][c] for c in range(8, n - 8)] == [c % 2 == 0 for c in range(8, n - 8)]
    # The vendored library (with its licence) is served from this site, not a CDN.
    licence = alice.request.get("/vendor/qrcode-generator.LICENSE.txt")
    assert licence.ok and "MIT" in licence.text()
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()


def test_share_opens_the_system_share_sheet_where_there_is_one(person: Person) -> None:
    plain = person()
    create_room(plain)
    expect(plain.get_by_role("button", name="Share…")).to_have_count(0)

    alice = person()
    alice.add_init_script(
        "navigator.share = async (data) => { window.__shared = data; };"
        "navigator.canShare = () => true;"
    )
    create_room(alice)
    alice.get_by_role("button", name="Share…").click()
    alice.wait_for_function("() => window.__shared !== undefined")
    assert alice.evaluate("window.__shared.url") == alice.url


# ---------- a background tab ----------

BACKGROUND = """
    (() => {
        let hidden = false;
        Object.defineProperty(Document.prototype, "visibilityState", { get: () => hidden ? "hidden" : "visible", configurable: true });
        Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
        window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
        window.__notes = [];
        window.__asked = 0;
        const Real = window.Notification;
        class Recorded extends Real {
            constructor(title, options) { super(title, options); window.__notes.push({ title, body: options?.body ?? "" }); }
            static get permission() { return Real.permission; }
            static requestPermission() { window.__asked += 1; return Real.requestPermission(); }
        }
        window.Notification = Recorded;
    })();
"""


def test_a_background_tab_notifies_after_the_person_asked_for_it(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    bob.context.grant_permissions(["notifications"])
    bob.add_init_script(BACKGROUND)
    bob.reload()
    expect(bob.locator("#app")).to_be_visible()
    notify = bob.get_by_role("button", name="Notify me")
    expect(notify).to_have_attribute("aria-pressed", "false")

    bob.evaluate("window.__setHidden(true)")
    send(alice, "nothing yet")
    expect(bubbles(bob, "other")).to_have_text(["nothing yet"])
    assert bob.evaluate("window.__notes.length") == 0, "no notification before the click"
    assert bob.evaluate("window.__asked") == 0, "no permission prompt before the click"
    expect(bob).to_have_title(re.compile(r"^\(1\) "))

    bob.evaluate("window.__setHidden(false)")
    notify.click()
    expect(bob.get_by_role("button", name="Notifications on")).to_have_attribute(
        "aria-pressed", "true"
    )
    send(alice, "the secret is 4471")
    expect(bubbles(bob, "other")).to_have_count(2)
    assert bob.evaluate("window.__notes.length") == 0, "a visible tab is not notified"

    bob.evaluate("window.__setHidden(true)")
    send(alice, "the secret is 4471, again")
    bob.wait_for_function("() => window.__notes.length === 1")
    note = bob.evaluate("window.__notes[0]")
    name = alice.locator("#my-name").inner_text()
    assert note["title"] == f"New message from {name}"
    assert "4471" not in note["title"] + note["body"], "the text never leaves the page"


def test_joined_and_left_are_lines_in_the_conversation(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    bob_name = bob.locator("#my-name").inner_text()
    events = alice.locator("#messages .event")
    # The name comes sealed once the keys are agreed, before Bob writes anything.
    expect(events).to_have_text([f"\u2068{bob_name}\u2069 joined"])
    send(bob, "hi")
    expect(bubbles(alice, "other")).to_have_count(1)
    bob.reload()  # a reload is not leaving
    expect(bob.locator("#app")).to_be_visible()
    expect_presence(alice, "Both here")
    bob.close()
    # "left" only once the absence lasts (6 s), so a reload never says it.
    # The name is isolated (U+2068 … U+2069) so that a right-to-left one keeps the sentence's order.
    expect(events).to_have_text(
        [f"\u2068{bob_name}\u2069 joined", f"\u2068{bob_name}\u2069 left"], timeout=20000
    )
    expect(alice.locator("#messages .msg.own, #messages .msg.other")).to_have_count(1)


# ---------- mobile browsers: a socket killed in the background ----------


class _Silenceable(TypedDict):
    silent: bool
    sockets: int
    all: NotRequired[list[dict[str, bool]]]


def _silenceable_sockets(page: Page) -> _Silenceable:
    """Routes the page's sockets; `state["silent"] = True` drops everything the server sends
    to the sockets open then, as a socket a phone killed in the background (it still looks open)."""
    state: _Silenceable = {"silent": False, "sockets": 0}

    def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        state["sockets"] += 1
        mine = {"dead": False}
        state.setdefault("all", []).append(mine)

        def to_page(message: str | bytes) -> None:
            if not mine["dead"]:
                socket.send(message)

        server.on_message(to_page)

    page.route_web_socket("**/ws?*", route)
    return state


@pytest.mark.parametrize(
    "wake",
    [
        "document.dispatchEvent(new Event('visibilitychange'))",
        "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))",
    ],
    ids=["visibilitychange", "pageshow"],
)
def test_a_socket_killed_in_the_background_is_replaced_when_the_page_shows(
    person: Person, wake: str
) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    state = _silenceable_sockets(bob)
    open_room(bob, link)
    expect_presence(bob, "Both here")
    expect_presence(alice, "Both here")
    for socket in state["all"]:
        socket["dead"] = True
    send(alice, "while you were away")
    expect(
        alice.locator(
            "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
        )
    ).to_have_count(1)
    expect(bubbles(bob, "other")).to_have_count(0)

    bob.evaluate(wake)
    # A ping without a pong (6 s) replaces the socket, and the new one catches up.
    expect(bubbles(bob, "other")).to_have_text(["while you were away"], timeout=15000)
    assert state["sockets"] == 2
