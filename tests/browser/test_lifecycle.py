"""The room's life: the lobby's name and notices, destroy with confirmation, expiry."""

import re

import pytest
from playwright.sync_api import Route, expect

from tests.browser.room_helpers import (
    Person,
    create_room,
    join,
    room_id,
    send,
    stored_keys,
    two_people_in_a_room,
)

pytestmark = pytest.mark.timeout(60)


def test_lobby_gives_an_editable_anonymous_name_that_is_kept(person: Person) -> None:
    page = person()
    page.goto("/")
    name = page.locator("#name-input")
    expect(name).to_have_value(re.compile(r"^anonymous-[a-z]+-[a-z0-9]{5}$"))
    name.fill("Sam")
    page.reload()
    expect(name).to_have_value("Sam")
    page.get_by_role("button", name="Pick a new random name").click()
    expect(name).not_to_have_value("Sam")


def test_lobby_join_takes_a_pasted_link_and_rejects_nonsense(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    bob.goto("/")
    bob.locator("#join-input").fill("not a link at all")
    bob.get_by_role("button", name="Join").click()
    expect(bob.locator("#join-error")).to_be_visible()
    bob.locator("#join-input").fill(f"https://privochat.example{link}")
    bob.locator("#join-input").press("Enter")
    join(bob)
    expect(bob.locator("#presence-text")).to_have_text("Both here")


def test_destroy_asks_first_then_takes_both_to_the_lobby(person: Person) -> None:
    alice, bob, link = two_people_in_a_room(person)

    alice.locator("#destroy").focus()
    alice.keyboard.press("Enter")
    dialog = alice.locator("#confirm-destroy")
    expect(dialog).to_be_visible()
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(alice.locator("#app")).to_be_visible()

    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    for page in (alice, bob):
        expect(page.locator("#notice")).to_contain_text("The room was destroyed")

    # Its link now opens to a closed door, before any Join (test_room_doors.py).
    again = person()
    again.goto(link)
    expect(again.locator("#screen-title")).to_have_text("This room doesn't exist")
    expect(again.get_by_role("button", name="Join", exact=True)).to_be_hidden()


def test_the_countdown_leaves_with_expired_at_zero(person: Person) -> None:
    page = person()

    def short_ttl(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "ttl": 2})

    page.route("**/api/room/join*", short_ttl)
    link = create_room(page)
    assert stored_keys(page, room_id(link)) is not None
    expect(page.locator("#ttl")).to_have_attribute("data-urgent", "")
    expect(page.locator("#notice")).to_contain_text("The room expired", timeout=6000)
    assert stored_keys(page, room_id(link)) is None, "the keys go with the room"


def test_leave_forgets_the_keys_here_and_the_room_goes_on(person: Person) -> None:
    alice, bob, link = two_people_in_a_room(person)
    send(alice, "read once")
    expect(bob.locator("#messages .msg.other .bubble")).to_have_text(["read once"])
    bob.locator("#leave").click()
    bob.get_by_role("button", name="Cancel").click()
    expect(bob.locator("#app")).to_be_visible()
    assert stored_keys(bob, room_id(link)) is not None

    bob.locator("#leave").click()
    bob.get_by_role("button", name="Leave room").click()
    expect(bob.locator("#notice")).to_contain_text("You left the room")
    assert stored_keys(bob, room_id(link)) is None
    expect(alice.locator("#app")).to_be_visible()
    send(alice, "still here")
    expect(
        alice.locator(
            "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
        )
    ).to_have_count(2)
