"""axe-core (bundled by axe-playwright-python) on every screen a person meets: the lobby (and
its notices), a room alone and in conversation, its dialogs, the join card, each key screen and
the 404 page; on a desktop and a phone, light and dark. No serious or critical violation."""

from __future__ import annotations

import json
import os
from typing import Literal, TypedDict

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.room_helpers import (
    DESKTOP,
    PHONE,
    Person,
    bubbles,
    create_room,
    expect_presence,
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
    pytest.param(DESKTOP, "light", id="desktop-light"),
    pytest.param(DESKTOP, "dark", id="desktop-dark"),
    pytest.param(PHONE, "light", id="phone-light"),
    pytest.param(PHONE, "dark", id="phone-dark"),
]


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_no_serious_or_critical_violation_on_any_screen(
    person: Person, viewport: ViewportSize, scheme: Literal["light", "dark"]
) -> None:
    audit = Audit()

    def new_page() -> Page:
        page = person(viewport)
        page.emulate_media(color_scheme=scheme)
        return page

    alice = new_page()
    alice.goto("/")
    expect(alice.get_by_role("button", name="Create a private room")).to_be_visible()
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
    alice.get_by_role("button", name="QR code").click()
    expect(alice.locator("#invite-dialog")).to_be_visible()
    audit.check(alice, "invite dialog with QR code")
    alice.keyboard.press("Escape")

    bob = new_page()
    bob.goto(link)
    expect(bob.locator("#screen-title")).to_have_text("Join this private room")
    audit.check(bob, "join card")
    bob.get_by_role("button", name="Join", exact=True).click()
    expect_presence(bob, "Both here")
    assert safety_code(alice) == safety_code(bob)
    audit.check(bob, "room both here, no message yet")

    send(alice, "Hi! The plan: https://example.com/plan")
    send(bob, "Got it, thanks.")
    expect(bubbles(alice, "other")).to_have_count(1)
    expect(bubbles(bob, "other")).to_have_count(1)
    alice.locator("#text").fill("x" * 1003)
    expect(alice.locator("#limit-note")).to_be_visible()
    audit.check(alice, "room in conversation, over the limit")
    alice.locator("#text").fill("")

    alice.route(
        "**/api/messages?*", lambda r: r.abort() if r.request.method == "POST" else r.continue_()
    )
    send(alice, "this one fails")
    expect(alice.locator('#messages .msg.own[data-status="failed"]')).to_have_count(1)
    audit.check(alice, "room with a failed message")
    alice.unroute_all(behavior="ignoreErrors")

    alice.locator("#destroy").click()
    expect(alice.locator("#confirm-destroy")).to_be_visible()
    audit.check(alice, "destroy dialog")
    alice.keyboard.press("Escape")
    alice.locator("#leave").click()
    expect(alice.locator("#confirm-leave")).to_be_visible()
    audit.check(alice, "leave dialog")
    alice.keyboard.press("Escape")

    keys = new_page()
    keys.goto(f"/room/{room_id(link)}")
    expect(keys.locator("#screen-title")).to_have_text("This link is missing its key")
    keys.locator("#key-input").fill("no key")
    keys.locator("#key-input").press("Enter")
    expect(keys.locator("#key-error")).to_be_visible()
    audit.check(keys, "key screen: missing, with an error")
    keys.goto(f"/room/{room_id(link)}#not-a-key")
    expect(keys.locator("#screen-title")).to_have_text("This link's key is damaged")
    audit.check(keys, "key screen: damaged")
    keys.goto(f"/room/{room_id(link)}#{'A' * 43}")
    keys.get_by_role("button", name="Join", exact=True).click()
    expect(keys.locator("#screen-title")).to_have_text("Wrong key for this room")
    audit.check(keys, "key screen: wrong key")
    keys.goto("/no/such/page")
    expect(keys.get_by_role("heading", level=1)).to_have_text("Nothing here.")
    audit.check(keys, "404 page")

    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    expect(bob.locator("#notice")).to_be_visible()
    audit.check(bob, "lobby after a destroy")

    audit.report(f"{viewport['width']}-{scheme}")
    assert not audit.blocking(), json.dumps(audit.blocking(), indent=1)
