"""What a page shows when the server hands it something the protocol refuses: in place,
under stable selectors, and the conversation goes on. (The tamper tests that forge
messages with the keys use the Python oracle; these need no keys.)"""

import pytest
from playwright.sync_api import expect

from tests.browser.room_helpers import (
    Person,
    Sockets,
    bubbles,
    create_room,
    open_room,
    safety_code,
    send,
)

pytestmark = pytest.mark.timeout(60)

HISTORY = "async () => (await (await fetch(`/api/messages?roomId=${location.pathname.split('/')[2]}`)).json())"


def test_garbage_and_a_replayed_copy_are_shown_in_place_and_the_talk_goes_on(
    person: Person,
) -> None:
    alice = person()
    sockets = Sockets(alice)
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    assert safety_code(alice) == safety_code(bob)
    send(bob, "pay 10")
    expect(bubbles(alice, "other")).to_have_text(["pay 10"])
    real = alice.evaluate(HISTORY)["messages"][0]

    sockets.push(
        {
            "type": "message",
            "message": {**real, "id": "garbage-1", "text": "<b>not a wire text</b>"},
        }
    )
    sockets.push({"type": "message", "message": {**real, "id": "copy-1"}})
    expect(alice.locator('#messages .msg.other[data-problem="unverifiable"]')).to_have_count(1)
    replay = alice.locator('#messages .msg.other[data-problem="replay"]')
    expect(replay).to_have_count(1)
    expect(replay).not_to_contain_text("pay 10")
    assert alice.locator("#messages b").count() == 0

    send(bob, "still fine")
    expect(bubbles(alice, "other").filter(has_text="still fine")).to_have_count(1)
    expect(alice.locator("#messages [data-problem]")).to_have_count(2)
    expect(alice.locator("#app")).to_be_visible()
    expect(bob.locator("#messages [data-problem]")).to_have_count(0)


def test_a_hello_that_does_not_verify_is_shown_and_the_session_stays(person: Person) -> None:
    alice = person()
    sockets = Sockets(alice)
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    code = safety_code(alice)
    theirs = next(h for h in alice.evaluate(HISTORY)["hellos"] if h["seat"] == 2)
    mac = theirs["mac"]
    forged = {**theirs, "mac": ("B" if mac[0] == "A" else "A") + mac[1:]}

    sockets.push({"type": "hello", "hello": forged})
    problem = alice.locator("#hello-error")
    expect(problem).to_be_visible()
    expect(problem).to_have_attribute("data-hello-problem", "unverifiable")
    expect(problem).to_contain_text("could not be verified")
    assert safety_code(alice) == code
    send(alice, "we still talk on the verified keys")
    expect(bubbles(bob, "other")).to_have_text(["we still talk on the verified keys"])
