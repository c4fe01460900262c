"""A browser that lacks what a room needs is told so before anything is joined; a browser
whose storage fails mid-room keeps going in memory and says so. (Simulated in Chromium by
taking the capability away before the page's scripts run; tests/engines runs real engines.)"""

import pytest
from playwright.sync_api import expect

from tests.browser.room_helpers import (
    Person,
    bubbles,
    create_room,
    expect_presence,
    open_room,
    safety_code,
    send,
)

pytestmark = pytest.mark.timeout(60)

NO_X25519 = """
const generateKey = SubtleCrypto.prototype.generateKey;
SubtleCrypto.prototype.generateKey = function (algorithm, ...rest) {
  if ((algorithm?.name ?? algorithm) === "X25519") {
    return Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
  }
  return generateKey.call(this, algorithm, ...rest);
};
"""

# IndexedDB that opens but refuses to store a record (as WebKit refused X25519 keys): every put fails.
NO_STORING = """
IDBObjectStore.prototype.put = function () {
  throw new DOMException("Failed to store record in an IDBObjectStore", "DataError");
};
"""


def test_a_browser_without_x25519_is_told_which_browsers_work_and_joins_nothing(
    person: Person,
) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    bob.add_init_script(NO_X25519)
    joins: list[str] = []
    bob.on("request", lambda r: joins.append(r.url) if "/api/room/join" in r.url else None)
    bob.goto(link)
    expect(bob.locator("#screen-title")).to_have_text("This browser can't open PrivoChat rooms")
    expect(bob.locator("#screen-text")).to_contain_text("X25519")
    expect(bob.locator("#screen-text")).to_contain_text("Safari 17")
    expect(bob.locator("body")).to_have_attribute("data-unsupported", "x25519")
    assert joins == []
    expect_presence(alice, "1 of 2 here")

    bob.goto("/")
    expect(bob.locator("#create")).to_be_disabled()
    expect(bob.locator("#create-error")).to_contain_text("X25519")


def test_storage_that_fails_falls_back_to_memory_with_a_note_and_the_room_works(
    person: Person,
) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    bob.add_init_script(NO_STORING)
    open_room(bob, link)
    expect(bob.locator("#keys-note")).to_be_visible()
    expect(bob.locator("#keys-note")).to_contain_text("can't store the room's keys")
    expect(alice.locator("#keys-note")).to_be_hidden()
    expect_presence(alice, "Both here")
    assert safety_code(alice) == safety_code(bob)
    send(bob, "kept in memory")
    expect(bubbles(alice, "other")).to_have_text(["kept in memory"])
    send(alice, "still readable")
    expect(bubbles(bob, "other")).to_have_text(["still readable"])
