"""End-to-end encryption: the store holds ciphertext; a missing or wrong key is a clear error."""

import base64
import json
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.room_helpers import bubbles, create_room, open_room, room_id, send

pytestmark = pytest.mark.timeout(60)

SECRET = "the door code is 4471"


def test_the_store_holds_ciphertext_never_the_plaintext(person, stack):
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    send(alice, SECRET)
    expect(bubbles(bob, "other")).to_have_text([SECRET])

    stored = stack.redis("LRANGE", f"messages:{{{room_id(link)}}}", "0", "-1")
    assert len(stored) == 1, stored
    assert SECRET not in stored[0]
    text = json.loads(stored[0].partition("|")[2])["text"]  # entries are '<seat>|<message JSON>'
    assert SECRET not in text and "4471" not in text
    sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert len(sealed) == 12 + len(SECRET) + 16, "iv, ciphertext and GCM tag"


def test_a_link_without_its_key_is_a_clear_error_and_takes_no_seat(person):
    alice = person()
    link = create_room(alice)
    keyless = person()
    keyless.goto(link.split("#")[0])
    expect(keyless.locator("#screen-title")).to_have_text("This link is missing its key")
    expect(keyless.locator("#key-input")).to_be_visible()

    bob = person()
    open_room(bob, link)  # the seat is still free

    keyless.locator("#key-input").fill("http://example.test" + link)
    keyless.locator("#key-input").press("Enter")
    expect(keyless.locator("#notice")).to_contain_text("That room is full")


def test_a_wrong_key_shows_an_error_instead_of_garbage(person):
    alice = person()
    link = create_room(alice)
    send(alice, SECRET)
    expect(bubbles(alice, "own")).to_have_text([SECRET])

    wrong_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    mallory = person()
    mallory.goto(f"{link.split('#')[0]}#{wrong_key}")
    expect(mallory.locator("#screen-title")).to_have_text("Wrong key for this room")
    expect(mallory.locator("#app")).to_be_hidden()
    assert SECRET not in mallory.content()

    broken = person()
    broken.goto(f"{link.split('#')[0]}#not-a-key")
    expect(broken.locator("#screen-title")).to_have_text("This link's key is damaged")
