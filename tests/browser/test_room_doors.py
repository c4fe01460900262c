"""A link that opens no room (issue 21, item 1): gone (never existed, expired, destroyed) is
said before any Join, on a screen with the way back, and nothing is joined; full is said in
place, on the room page, when the Join finds both seats taken (only the right proof learns
that: docs/api.md, GET /api/room/status). Each failed before the change: the page showed
"Join this private room" and, after the click, left for the lobby."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, Request, ViewportSize, expect

from tests.browser.room_helpers import (
    DESKTOP,
    PHONE,
    Person,
    create_room,
    expect_presence,
    two_people_in_a_room,
)

pytestmark = pytest.mark.timeout(90)


def _joins(page: Page) -> list[str]:
    """The join requests a page makes, from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if "/api/room/join" in request.url:
            seen.append(request.url)

    page.on("request", record)
    return seen


def _shoot(page: Page, name: str) -> None:
    folder = os.environ.get("PRIVOCHAT_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def _expect_closed_door(page: Page, title: str) -> None:
    expect(page.locator("#screen-title")).to_have_text(title)
    expect(page.locator("#app")).to_be_hidden()
    expect(page.get_by_role("button", name="Join", exact=True)).to_be_hidden()
    home = page.get_by_role("link", name="Back to the lobby")
    expect(home).to_be_visible()
    expect(home).to_be_focused()
    assert "/room/" in page.url  # said in place: the page did not leave for the lobby


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_link_to_a_room_that_never_existed_says_so_before_any_join(
    person: Person, viewport: ViewportSize
) -> None:
    page = person(viewport)
    joins = _joins(page)
    page.goto("/room/AAAAAAAAAAAAAAAAAAAAA#" + "A" * 43)
    _expect_closed_door(page, "This room doesn't exist")
    assert page.evaluate("document.body.dataset.door") == "gone"
    assert joins == []
    _shoot(page, f"door-gone-{viewport['width']}")


def test_a_destroyed_rooms_link_says_so_before_any_join(person: Person) -> None:
    alice, bob, link = two_people_in_a_room(person)
    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    expect(bob.locator("#notice")).to_contain_text("The room was destroyed")
    carol = person()
    joins = _joins(carol)
    carol.goto(link)
    _expect_closed_door(carol, "This room doesn't exist")
    assert joins == []


def test_a_third_person_is_told_the_room_is_full_before_any_join_and_takes_no_seat(
    person: Person,
) -> None:
    alice, bob, link = two_people_in_a_room(person)
    carol = person(PHONE)
    joins = _joins(carol)
    carol.goto(link)
    # Before any Join: she holds the link, so the page may ask whether it is full for her.
    _expect_closed_door(carol, "This room is full")
    expect(carol.get_by_role("button", name="Join", exact=True)).to_be_hidden()
    assert joins == []
    assert carol.evaluate("document.body.dataset.door") == "full"
    _shoot(carol, "door-full-390")
    for page in (alice, bob):
        expect_presence(page, "Both here")


def test_a_room_that_exists_still_asks_before_joining(person: Person) -> None:
    link = create_room(person())
    bob = person()
    joins = _joins(bob)
    bob.goto(link)
    expect(bob.locator("#screen-title")).to_have_text("Join this private room")
    assert joins == []
