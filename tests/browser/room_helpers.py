"""Steps the browser tests share: open a room, join it, send, read what a page shows."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def create_room(page: Page) -> str:
    """Creates a room from the lobby; returns the invite link (path and key fragment)."""
    page.goto("/")
    page.get_by_role("button", name="Create a private room").click()
    page.wait_for_url("**/room/**")
    expect(page.locator("#app")).to_be_visible()
    parts = urlsplit(page.url)
    assert parts.fragment, "the room link carries its key in the fragment"
    return f"{parts.path}#{parts.fragment}"


def room_id(link: str) -> str:
    return link.split("/room/")[1].split("#")[0]


def open_room(page: Page, link: str) -> None:
    """Opens an invite link in a browser that has no record of the room: one click joins."""
    page.goto(link)
    join(page)


def join(page: Page) -> None:
    expect(page.locator("#screen-title")).to_have_text("Join this private room")
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.locator("#app")).to_be_visible()


def send(page: Page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")


def bubbles(page: Page, side: str):
    """The message bubbles on one side: "own" or "other"."""
    return page.locator(f"#messages .msg.{side} .bubble")


def expect_presence(page: Page, text: str) -> None:
    expect(page.locator("#presence-text")).to_have_text(text)


SAFETY_CODE = re.compile(r"^\d{3} \d{3}$")


def safety_code(page: Page) -> str:
    """The safety code the page shows, once its session exists."""
    expect(page.locator("#safety-code")).to_have_text(SAFETY_CODE)
    return page.locator("#safety-code").inner_text()


def two_people_in_a_room(person) -> tuple[Page, Page, str]:
    """Alice creates, Bob joins; both are here and their handshake is done."""
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    expect_presence(alice, "Both here")
    expect_presence(bob, "Both here")
    assert safety_code(alice) == safety_code(bob)
    return alice, bob, link
