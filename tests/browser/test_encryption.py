"""End-to-end protocol v2 in the browser: a seat needs the key, the store holds no names,
no plaintext and only bucket lengths, both people see one safety code, keys live in
IndexedDB (a reload reads the history) and go with the room."""

import base64
import json
import re
import secrets

import pytest
from playwright.sync_api import Page, Request, expect

from devkit.servers import LocalStack
from tests.browser.room_helpers import (
    STORED,
    Person,
    bubbles,
    create_room,
    expect_presence,
    forget_keys,
    join,
    kept_keys,
    open_room,
    room_id,
    safety_code,
    send,
    stored_keys,
    two_people_in_a_room,
)
from tests.support.room_keys import RoomKeys

pytestmark = pytest.mark.timeout(60)

SECRET = "the door code is 4471"
BUCKETS = (256, 512, 1024, 2048, 4096, 8192)


def joins_of(page: Page) -> list[Request]:
    """Every join request the page makes from now on."""
    joins: list[Request] = []
    page.on(
        "request",
        lambda request: joins.append(request) if "/api/room/join" in request.url else None,
    )
    return joins


def seat_and_text(entry: str) -> tuple[str, str]:
    """A stored entry: '<seat>|<message JSON>' or '<seat>|<id>|<timestamp>|<text>'."""
    seat, _, rest = entry.partition("|")
    if rest.startswith("{"):
        message = json.loads(rest)
        assert set(message) <= {"id", "text", "timestamp"}, message
        return seat, message["text"]
    return seat, rest.split("|", 2)[2]


def test_the_store_holds_no_names_no_plaintext_and_only_bucket_lengths(
    person: Person, stack: LocalStack
) -> None:
    alice, bob, link = two_people_in_a_room(person)
    names = [page.locator("#my-name").inner_text() for page in (alice, bob)]
    long_text = "a longer message, " * 20
    send(alice, SECRET)
    send(bob, "ok")
    send(bob, long_text.strip())
    expect(bubbles(alice, "other")).to_have_count(2)
    expect(bubbles(bob, "other")).to_have_text([SECRET])

    stored = RoomKeys(stack, room_id(link)).entries()
    assert len(stored) == 3, stored
    everything = json.dumps(stored)
    # Not "4471" alone: a timestamp or a random ID may hold those four digits.
    for clear in (SECRET, "door code", "longer message", *names):
        assert clear not in everything, clear
    lengths = []
    for seat, text in map(seat_and_text, stored):
        wire = re.fullmatch(r"3\.[A-Za-z0-9_-]{11}\.([A-Za-z0-9_-]+)", text)
        assert wire is not None, text
        body = wire.group(1)
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        padded = len(sealed) - 12 - 16  # iv, GCM tag
        assert padded in BUCKETS, padded
        lengths.append((seat, padded))
    assert lengths == [("1", 256), ("2", 256), ("2", 512)], (
        "a 21- and a 2-character text look alike"
    )


def test_the_two_people_see_the_same_safety_code(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    expect(alice.locator("#safety")).to_be_hidden()
    expect(alice.locator("#e2e")).to_have_attribute("data-state", "waiting")
    bob = person()
    open_room(bob, link)
    code = safety_code(alice)
    assert safety_code(bob) == code
    expect(alice.locator("#safety")).to_contain_text(f"Safety code {code}")
    expect(alice.locator("#safety")).to_contain_text("compare it with your contact")
    expect(alice.locator("#e2e")).to_have_attribute("data-state", "ready")

    other_alice = person()
    other_link = create_room(other_alice)
    other_bob = person()
    open_room(other_bob, other_link)
    assert safety_code(other_alice) == safety_code(other_bob)
    assert room_id(other_link) != room_id(link)


def test_messages_written_before_the_other_joins_wait_then_go_out_encrypted(
    person: Person, stack: LocalStack
) -> None:
    alice = person()
    link = create_room(alice)
    send(alice, "waiting for you")
    mine = alice.locator("#messages .msg.own")
    expect(mine).to_have_attribute("data-status", "waiting")
    expect(mine).to_contain_text("Sends when they join")
    assert RoomKeys(stack, room_id(link)).entries() == []

    bob = person()
    open_room(bob, link)
    expect(mine).to_have_attribute("data-status", STORED)
    expect(bubbles(bob, "other")).to_have_text(["waiting for you"])
    expect(bob.locator("#messages .msg.other .sender")).to_have_text(
        [alice.locator("#my-name").inner_text()]
    )


def test_a_link_without_its_key_asks_for_it_and_takes_no_seat(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    keyless = person()
    joins = joins_of(keyless)
    keyless.goto(link.split("#")[0])
    expect(keyless.locator("#screen-title")).to_have_text("This link is missing its key")
    expect(keyless.locator("#key-input")).to_be_visible()
    damaged = person()
    damaged.goto(f"{link.split('#')[0]}#not-a-key")
    expect(damaged.locator("#screen-title")).to_have_text("This link's key is damaged")
    assert joins == []

    bob = person()
    open_room(bob, link)  # the seat is still free
    assert safety_code(alice) == safety_code(bob)

    keyless.locator("#key-input").fill("http://example.test" + link)
    keyless.locator("#key-input").press("Enter")
    expect(keyless.locator("#screen-title")).to_have_text("This room is full")


def test_a_wrong_key_is_refused_at_join_and_the_creator_is_unaffected(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    send(alice, SECRET)

    wrong_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    mallory = person()
    answers = []
    mallory.on(
        "response", lambda r: answers.append(r.status) if "/api/room/join" in r.url else None
    )
    mallory.goto(f"{link.split('#')[0]}#{wrong_key}")
    mallory.get_by_role("button", name="Join", exact=True).click()
    expect(mallory.locator("#screen-title")).to_have_text("Wrong key for this room")
    expect(mallory.locator("#app")).to_be_hidden()
    assert answers == [403]
    assert SECRET not in mallory.content()

    expect(alice.locator("#app")).to_be_visible()
    expect(alice.locator("#screen")).to_be_hidden()
    expect(alice.locator("#hello-error")).to_be_hidden()
    expect_presence(alice, "1 of 2 here")
    bob = person()
    open_room(bob, link)  # mallory took no seat
    expect(bubbles(bob, "other")).to_have_text([SECRET])
    assert safety_code(alice) == safety_code(bob)


def test_a_previewer_running_javascript_takes_no_seat(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    previewer = person()
    joins = joins_of(previewer)
    previewer.goto(link)
    expect(previewer.locator("#screen-title")).to_have_text("Join this private room")
    previewer.wait_for_load_state("networkidle")
    assert joins == []

    bob = person()
    open_room(bob, link)
    expect_presence(alice, "Both here")
    assert safety_code(alice) == safety_code(bob)
    send(bob, "only the two of us")
    expect(bubbles(alice, "other")).to_have_text(["only the two of us"])
    assert joins == []


def test_a_reload_and_a_second_tab_read_the_history_with_keys_from_indexeddb(
    person: Person,
) -> None:
    alice, bob, link = two_people_in_a_room(person)
    send(alice, "mine")
    expect(bubbles(bob, "other")).to_have_text(["mine"])
    send(bob, "theirs")
    expect(bubbles(alice, "other")).to_have_text(["theirs"])
    code = safety_code(bob)

    kept = kept_keys(bob, room_id(link))
    assert kept["seat"] == 2 and kept["generations"] == ["1"] and len(kept["epochs"]) == 1
    assert kept["keys"] == 2 and not kept["extractable"], kept
    assert kept["private_keys"] == 0, "no private key rests in IndexedDB"

    bob.reload()
    expect(bob.locator("#app")).to_be_visible()  # no join card: this browser has a record
    expect(bubbles(bob, "own")).to_have_text(["theirs"])
    expect(bubbles(bob, "other")).to_have_text(["mine"])
    expect_presence(bob, "Both here")
    assert safety_code(bob) == code
    expect(bob.locator("#messages [data-problem]")).to_have_count(0)

    second = bob.context.new_page()
    second.goto(link)
    expect(second.locator("#app")).to_be_visible()
    expect(bubbles(second, "own")).to_have_text(["theirs"])
    send(second, "from my second tab")
    expect(bubbles(alice, "other")).to_have_text(["theirs", "from my second tab"])
    expect(bubbles(bob, "own")).to_have_text(["theirs", "from my second tab"])
    expect(alice.locator("#messages [data-problem]")).to_have_count(0)
    second.close()


def test_destroy_deletes_the_keys_of_both(person: Person) -> None:
    alice, bob, link = two_people_in_a_room(person)
    send(alice, "soon gone")
    expect(bubbles(bob, "other")).to_have_text(["soon gone"])
    for page in (alice, bob):
        assert stored_keys(page, room_id(link)) is not None
    alice.locator("#destroy").click()
    alice.get_by_role("button", name="Destroy room").click()
    for page in (alice, bob):
        expect(page.locator("#notice")).to_contain_text("The room was destroyed")
        assert stored_keys(page, room_id(link)) is None


def test_a_browser_that_lost_its_keys_starts_a_new_generation_and_both_re_key(
    person: Person,
) -> None:
    alice, bob, link = two_people_in_a_room(person)
    send(alice, "before")
    expect(bubbles(bob, "other")).to_have_text(["before"])

    forget_keys(bob, room_id(link))
    bob.reload()
    join(bob)  # no record: the join card, then the same seat (the cookie is still there)
    expect(bob.locator('#messages .msg.earlier[data-count="1"]')).to_have_count(1)
    expect(bob.locator("#messages .bubble", has_text=re.compile(r"^before$"))).to_have_count(0)
    code = safety_code(bob)
    expect(alice.locator("#safety-code")).to_have_text(code)
    assert kept_keys(bob, room_id(link))["generations"] == ["2"]
    # New keys after a session both had: each page stops on them until the person accepts.
    for page in (alice, bob):
        expect(page.locator("#key-change")).to_be_visible()
        expect(page.locator("#key-change-code")).to_have_text(code)
        page.locator("#key-change-accept").click()
        expect(page.locator("#key-change")).to_be_hidden()

    send(alice, "after")
    # "before" is the one compact line counting what can't be read, not a bubble.
    expect(bubbles(bob, "other")).to_have_text(["after"])
    send(bob, "back")
    expect(bubbles(alice, "other")).to_have_text(["back"])
    expect(bubbles(alice, "own")).to_have_text(["before", "after"])
    expect(alice.locator("#messages [data-problem]")).to_have_count(0)
    assert kept_keys(alice, room_id(link))["generations"] == ["1", "2"]
    assert len(kept_keys(alice, room_id(link))["epochs"]) == 2, "the old generation stays readable"
