"""axe-core (bundled by axe-playwright-python) on every screen a person meets: the lobby (and
its notices), a room alone and in conversation, its dialogs, the join card, each key screen and
the 404 page; on a desktop and a phone, light and dark. No serious or critical violation."""

from __future__ import annotations

import json
import os
from typing import Literal, TypedDict

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Route, ViewportSize, expect

from tests.browser.room_helpers import (
    DESKTOP,
    PHONE,
    Person,
    bubbles,
    create_room,
    room_id,
    safety_code,
    send,
)

pytestmark = pytest.mark.timeout(180)

AXE = Axe()
BLOCKING = {"serious", "critical"}


class Finding(TypedDict):
    """One violation axe reported: its rule, impact, first few nodes and help text."""

    rule: str
    impact: str | None
    nodes: list[object]
    help: str


class Audit:
    """Runs axe on one page state after another; remembers every violation by impact."""

    def __init__(self) -> None:
        self.found: dict[str, list[Finding]] = {}

    def check(self, page: Page, state: str) -> None:
        page.evaluate("document.fonts.ready")
        results = AXE.run(page).response
        self.found[state] = [
            {
                "rule": violation["id"],
                "impact": violation["impact"],
                "nodes": [node["target"] for node in violation["nodes"]][:5],
                "help": violation["help"],
            }
            for violation in results["violations"]
        ]

    def blocking(self) -> dict[str, list[Finding]]:
        return {
            state: [v for v in violations if v["impact"] in BLOCKING]
            for state, violations in self.found.items()
            if any(v["impact"] in BLOCKING for v in violations)
        }

    def report(self, name: str) -> None:
        """Writes the findings (every impact) where AXE_REPORT_DIR says, for a closing note."""
        folder = os.environ.get("AXE_REPORT_DIR")
        if folder:
            with open(os.path.join(folder, f"{name}.json"), "w") as out:
                json.dump(self.found, out, indent=1)


LOOKS = [
    pytest.param(DESKTOP, "light", "en", id="desktop-light"),
    pytest.param(DESKTOP, "dark", "en", id="desktop-dark"),
    pytest.param(PHONE, "light", "en", id="phone-light"),
    pytest.param(PHONE, "dark", "en", id="phone-dark"),
    # Every screen in every language shipped (static_site/js/i18n-*.js): longer words, right to left.
    pytest.param(DESKTOP, "light", "de", id="desktop-light-de"),
    pytest.param(PHONE, "dark", "es", id="phone-dark-es"),
    pytest.param(DESKTOP, "dark", "ar", id="desktop-dark-ar"),
    pytest.param(PHONE, "light", "ar", id="phone-light-ar"),
]


def _refuse_sends(page: Page, status: int) -> None:
    """Every POST /api/messages of `page` fails: with `status`, or with no answer at all (0)."""

    def refuse(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
        elif status:
            route.fulfill(status=status, json={"error": "bad-request", "message": "refused"})
        else:
            route.abort()

    page.route("**/api/messages?*", refuse)


@pytest.mark.parametrize(("viewport", "scheme", "language"), LOOKS)
def test_no_serious_or_critical_violation_on_any_screen(
    person: Person, viewport: ViewportSize, scheme: Literal["light", "dark"], language: str
) -> None:
    """Language-neutral: it finds things by id, so that it runs in every language."""
    audit = Audit()

    def new_page() -> Page:
        page = person(viewport)
        page.emulate_media(color_scheme=scheme)
        page.add_init_script(f"localStorage.setItem('privochat.language', '{language}')")
        return page

    alice = new_page()
    alice.goto("/")
    expect(alice.locator("#create")).to_be_visible()
    expect(alice.locator("html")).to_have_attribute("lang", language)
    audit.check(alice, "lobby")
    alice.goto("/?expired=1")
    expect(alice.locator("#notice")).to_be_visible()
    audit.check(alice, "lobby with a notice")
    alice.locator("#join-input").fill("not a link at all")
    alice.locator("#join-input").press("Enter")
    expect(alice.locator("#join-error")).to_be_visible()
    audit.check(alice, "lobby with a join error")

    link = create_room(alice)
    expect(alice.locator("#invite-card")).to_be_visible()
    audit.check(alice, "room alone, invite card")
    alice.locator("#invite-card .show-qr").click()
    expect(alice.locator("#invite-dialog")).to_be_visible()
    audit.check(alice, "invite dialog with QR code")
    alice.keyboard.press("Escape")

    bob = new_page()
    bob.goto(link)
    expect(bob.locator("#join-room")).to_be_visible()
    audit.check(bob, "join card")
    bob.locator("#join-button").click()
    expect(bob.locator("#presence")).to_have_attribute("data-state", "both")
    assert safety_code(alice) == safety_code(bob)
    audit.check(bob, "room both here, no message yet")

    send(alice, "Hi! The plan: https://example.com/plan")
    send(bob, "مرحبا! Got it, thanks.")
    expect(bubbles(alice, "other")).to_have_count(1)
    expect(bubbles(bob, "other")).to_have_count(1)
    alice.locator("#text").fill("x" * 1003)
    expect(alice.locator("#limit-note")).to_be_visible()
    audit.check(alice, "room in conversation, over the limit")
    alice.locator("#text").fill("")

    _refuse_sends(alice, 0)
    send(alice, "this one waits")
    expect(alice.locator('#messages .msg.own[data-status="pending"]')).to_have_count(1)
    audit.check(alice, "room with a pending message")
    alice.unroute_all(behavior="ignoreErrors")
    _refuse_sends(alice, 422)
    send(alice, "this one fails")
    expect(alice.locator('#messages .msg.own[data-status="failed"]')).to_have_count(1)
    audit.check(alice, "room with a pending and a failed message")
    alice.unroute_all(behavior="ignoreErrors")

    alice.locator("#destroy").click()
    expect(alice.locator("#confirm-destroy")).to_be_visible()
    audit.check(alice, "destroy dialog")
    alice.keyboard.press("Escape")
    alice.locator("#leave").click()
    expect(alice.locator("#confirm-leave")).to_be_visible()
    audit.check(alice, "leave dialog")
    alice.keyboard.press("Escape")

    carol = new_page()
    carol.goto(link)
    expect(carol.locator("body")).to_have_attribute("data-door", "full")
    audit.check(carol, "closed door: full")
    carol.goto(f"/room/{'Z' * 21}#{'A' * 43}")
    expect(carol.locator("body")).to_have_attribute("data-door", "gone")
    audit.check(carol, "closed door: gone")

    keys = new_page()
    keys.goto(f"/room/{room_id(link)}")
    expect(keys.locator("body")).to_have_attribute("data-key-problem", "missing")
    keys.locator("#key-input").fill("no key")
    keys.locator("#key-input").press("Enter")
    expect(keys.locator("#key-error")).to_be_visible()
    audit.check(keys, "key screen: missing, with an error")
    keys.goto(f"/room/{room_id(link)}#not-a-key")
    expect(keys.locator("body")).to_have_attribute("data-key-problem", "invalid")
    audit.check(keys, "key screen: damaged")
    keys.goto(f"/room/{room_id(link)}#{'A' * 43}")
    keys.locator("#join-button").click()
    expect(keys.locator("body")).to_have_attribute("data-key-problem", "wrong")
    audit.check(keys, "key screen: wrong key")
    keys.goto("/no/such/page")
    expect(keys.locator("html")).to_have_attribute("lang", language)
    audit.check(keys, "404 page")

    alice.locator("#destroy").click()
    alice.locator("#confirm-destroy-yes").click()
    expect(bob.locator("#notice")).to_be_visible()
    audit.check(bob, "lobby after a destroy")

    audit.report(f"{viewport['width']}-{scheme}-{language}")
    assert not audit.blocking(), json.dumps(audit.blocking(), indent=1)
