"""End-to-end encryption: the store holds ciphertext; a missing or wrong key is a clear error."""

import base64
import secrets

from playwright.sync_api import expect

from room_helpers import bubbles, create_room, open_room, room_id, send

SECRET = "the door code is 4471"


def test_the_server_holds_ciphertext_never_the_plaintext(person):
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    send(alice, SECRET)
    expect(bubbles(bob, "other")).to_have_text([SECRET])

    stored = bob.evaluate(
        "async (id) => (await (await fetch(`/api/messages?roomId=${id}`)).json()).messages",
        room_id(link),
    )
    assert len(stored) == 1
    text = stored[0]["text"]
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
