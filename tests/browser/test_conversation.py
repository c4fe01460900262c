"""Two real pages talking (issue 20): ✓ stored, ✓✓ delivered, read; read receipts off; the
other's name before any message; the sender's clock; Save conversation as a file."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.room_helpers import Person, send, two_people_in_a_room


def own(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#messages .msg.own", has_text=text)


def test_a_message_goes_sent_delivered_read_and_the_other_is_named_before_writing(
    person: Person,
) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    bob_name = bob.locator("#my-name").inner_text()
    # Bob's name came sealed once the keys were agreed: the join line says it, not "The other person".
    expect(alice.locator('#messages .event[data-event="joined"]')).to_have_text(
        f"\u2068{bob_name}\u2069 joined"
    )
    send(alice, "are you reading this?")
    mine = own(alice, "are you reading this?")
    # Bob's page is visible and the message is on his screen: read, then.
    expect(mine).to_have_attribute("data-status", "read")
    expect(mine.locator(".receipt .sr-only")).to_have_text("Read")


def test_with_read_receipts_off_the_other_sees_delivered_only(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    toggle = bob.locator("#read-receipts")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    send(alice, "first")
    mine = own(alice, "first")
    expect(mine).to_have_attribute("data-status", "delivered")
    expect(bob.locator("#messages .msg.other .bubble")).to_have_text(["first"])
    bob.reload()  # remembered per browser
    expect(bob.locator("#read-receipts")).to_have_attribute("aria-pressed", "false")
    send(alice, "second")
    expect(own(alice, "second")).to_have_attribute("data-status", "delivered")
    expect(mine).to_have_attribute("data-status", "delivered")


def test_save_conversation_writes_a_text_file_in_the_browser(
    person: Person, tmp_path: Path
) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    send(alice, "hi Bob")
    expect(bob.locator("#messages .msg.other .bubble")).to_have_text(["hi Bob"])
    send(bob, "hi Alice\nsecond line")
    expect(alice.locator("#messages .msg.other .bubble")).to_have_count(1)
    requests: list[str] = []
    alice.on("request", lambda request: requests.append(request.url))
    with alice.expect_download() as info:
        alice.get_by_role("button", name="Save conversation").click()
    download = info.value
    assert download.suggested_filename.startswith("privochat-")
    assert download.suggested_filename.endswith(".txt")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8")
    alice_name = alice.locator("#my-name").inner_text()
    bob_name = bob.locator("#my-name").inner_text()
    assert f"by {alice_name}, with {bob_name}." in text
    assert f"] {alice_name}: hi Bob\n" in text
    assert f"] {bob_name}: hi Alice\n    second line\n" in text
    assert not [url for url in requests if "/api/" in url], "nothing of it went to the server"
