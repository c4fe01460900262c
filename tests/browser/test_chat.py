"""Two people in two browser contexts: create, join, talk both ways, presence, typing."""

import pytest
from playwright.sync_api import expect

from tests.browser.room_helpers import (
    PHONE,
    Person,
    bubbles,
    create_room,
    expect_presence,
    open_room,
    send,
    two_people_in_a_room,
)

pytestmark = pytest.mark.timeout(60)


def test_two_people_create_join_and_talk_both_ways(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    expect_presence(alice, "1 of 2 here")
    expect(alice.locator("#empty")).to_be_visible()

    bob = person(PHONE)
    open_room(bob, link)
    expect_presence(alice, "Both here")
    expect_presence(bob, "Both here")

    send(alice, "Hi Bob, the door code is 4471")
    expect(bubbles(bob, "other")).to_have_text(["Hi Bob, the door code is 4471"])
    expect(bubbles(alice, "own")).to_have_text(["Hi Bob, the door code is 4471"])
    expect(alice.locator("#messages .msg.own .meta time")).to_have_count(1)
    alice_name = alice.locator("#my-name").inner_text()
    expect(bob.locator("#messages .msg.other .sender")).to_have_text([alice_name])

    send(bob, "Got it.\nThanks!")
    expect(bubbles(alice, "other")).to_have_text(["Got it.\nThanks!"])
    expect(bubbles(bob, "own")).to_have_text(["Got it.\nThanks!"])
    expect(bubbles(alice, "own")).to_have_count(1)

    width = bob.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing overflows a phone-wide screen"


def test_typing_shows_on_the_other_side_and_presence_follows_leaving(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    expect_presence(alice, "Both here")

    bob.locator("#text").press_sequentially("hel", delay=30)
    expect(alice.locator("#typing")).to_contain_text("is typing")
    expect(bob.locator("#typing")).to_have_text("")
    expect(alice.locator("#typing")).to_have_text("", timeout=6000)

    bob.close()
    expect_presence(alice, "1 of 2 here")


def test_copy_link_copies_the_invite_with_its_key(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"])
    alice.get_by_role("button", name="Copy invite link").click()
    expect(alice.locator("#toast")).to_contain_text("Invite link copied")
    assert alice.evaluate("navigator.clipboard.readText()") == alice.url
    assert alice.url.endswith(link)


def test_message_text_is_shown_as_text_never_as_markup(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    markup = '<img src="/nope" onerror="window.__pwned = 1"><b>bold?</b>'
    send(alice, markup)
    expect(bubbles(bob, "other")).to_have_text([markup])
    assert bob.locator("#messages img, #messages b").count() == 0
    assert bob.evaluate("window.__pwned") is None


def test_counter_appears_near_the_limit_and_blocks_over_long_text(person: Person) -> None:
    alice = person()
    create_room(alice)
    box = alice.locator("#text")
    box.fill("  \n ")
    expect(alice.locator("#send")).to_be_disabled()  # blank: nothing to send
    box.fill("x" * 700)
    expect(alice.locator("#send")).to_be_enabled()
    expect(alice.locator("#counter")).to_have_text("")
    box.fill("x" * 990)
    expect(alice.locator("#counter")).to_have_text("10 left")
    box.fill("x" * 1005)
    expect(alice.locator("#counter")).to_have_text("5 over")
    expect(alice.locator("#send")).to_be_disabled()
    box.press("Enter")
    expect(alice.locator("#messages .msg")).to_have_count(0)


def test_third_person_is_told_the_room_is_full_before_any_join(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    open_room(person(), link)
    carol = person()
    carol.goto(link)  # before any Join: she holds the link, so the page asks and is told
    expect(carol.locator("#screen-title")).to_have_text("This room is full")
    expect(carol.get_by_role("link", name="Back to the lobby")).to_be_visible()


def test_a_reader_scrolled_up_is_offered_new_messages_instead_of_a_jump(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    for n in range(12):
        send(alice, f"line {n}\n\n\n")
    expect(bubbles(bob, "other")).to_have_count(12)
    bob.locator("#messages").evaluate("log => { log.scrollTop = 0; }")
    send(alice, "news")
    expect(bubbles(bob, "other")).to_have_count(13)
    newer = bob.get_by_role("button", name="New messages")
    expect(newer).to_be_visible()
    assert bob.locator("#messages").evaluate("log => log.scrollTop") == 0
    newer.click()
    expect(newer).to_be_hidden()
    expect(bob.locator("#messages").get_by_text("news", exact=True)).to_be_in_viewport()
