"""Steps the browser tests share: open a room, join it, send, read what a page shows."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Protocol, TypedDict, cast
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, ViewportSize, WebSocketRoute, expect

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


class Person(Protocol):
    """The conftest's `person` fixture: each call is a new person's page (its own context)."""

    def __call__(self, viewport: ViewportSize = ...) -> Page: ...


class StoredKeys(TypedDict):
    """What `stored_keys` reads of a browser's record of a room."""

    seat: int
    generations: list[str]
    epochs: list[str]
    keys: int
    extractable: bool
    private_keys: int


def create_room(page: Page) -> str:
    """Creates a room from the lobby; returns the invite link (path and key fragment)."""
    page.goto("/")
    page.locator("#create").click()  # by id: the lobby may be in any language
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


def bubbles(page: Page, side: str) -> Locator:
    """The message bubbles on one side: "own" or "other"."""
    return page.locator(f"#messages .msg.{side} .bubble")


def expect_presence(page: Page, text: str) -> None:
    expect(page.locator("#presence-text")).to_have_text(text)


SAFETY_CODE = re.compile(r"^\d{5} \d{5} \d{5}$")


def safety_code(page: Page) -> str:
    """The safety code the page shows, once its session exists."""
    expect(page.locator("#safety-code")).to_have_text(SAFETY_CODE)
    return page.locator("#safety-code").inner_text()


def two_people_in_a_room(person: Person) -> tuple[Page, Page, str]:
    """Alice creates, Bob joins; both are here and their handshake is done."""
    alice = person()
    link = create_room(alice)
    bob = person()
    open_room(bob, link)
    expect_presence(alice, "Both here")
    expect_presence(bob, "Both here")
    assert safety_code(alice) == safety_code(bob)
    return alice, bob, link


def in_keystore(page: Page, room: str, work: str) -> object:
    """Runs `work` (JavaScript statements over `store`, the "rooms" object store of this
    browser's IndexedDB "privochat", and `roomId`) in the page; returns what it resolves."""
    return page.evaluate(
        """async ([roomId, mode]) => {
            const db = await new Promise((resolve, reject) => {
                const request = indexedDB.open("privochat", 1);
                request.onupgradeneeded = () => request.result.createObjectStore("rooms", { keyPath: "roomId" });
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
            });
            const store = db.transaction("rooms", mode).objectStore("rooms");
            const result = await new Promise((resolve) => {"""
        + work
        + """});
            db.close();
            return result;
        }""",
        [room, "readwrite"],
    )


def forget_keys(page: Page, room: str) -> None:
    """Deletes this browser's record of a room, as clearing site data would."""
    in_keystore(page, room, "store.delete(roomId).onsuccess = () => resolve(null);")


def stored_keys(page: Page, room: str) -> StoredKeys | None:
    """What this browser's IndexedDB holds for a room: its seat, generations, epochs, how
    many session keys, whether any of them is extractable (or not a CryptoKey), and how
    many private keys (none ever rests: they live in the page)."""
    kept = in_keystore(
        page,
        room,
        """store.get(roomId).onsuccess = (event) => {
            const record = event.target.result;
            if (!record) return resolve(null);
            const pairs = Object.values(record.pairs);
            const sessions = Object.values(record.sessions);
            const keys = sessions.flatMap((s) => [s.sendKey, s.recvKey]);
            resolve({
                seat: record.seat,
                generations: Object.keys(record.pairs),
                epochs: Object.keys(record.sessions),
                keys: keys.length,
                extractable: keys.some((key) => !(key instanceof CryptoKey) || key.extractable),
                private_keys: pairs.filter((p) => "privateKey" in p).length,
            });
        };""",
    )
    return cast("StoredKeys | None", kept)


def kept_keys(page: Page, room: str) -> StoredKeys:
    """`stored_keys` of a browser that must still hold its record of the room."""
    kept = stored_keys(page, room)
    assert kept is not None, f"this browser holds no keys for room {room}"
    return kept


class Sockets:
    """A page's WebSockets through Playwright's routing (install before the page opens the room):
    a test can cut them, keep new ones from connecting, and let them through again."""

    def __init__(self, page: Page) -> None:
        self.open: list[WebSocketRoute] = []
        self.opened = 0
        self.refusing = False
        page.route_web_socket("**/ws?*", self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        if self.refusing:
            socket.close(code=4000, reason="offline for a test")
            return
        socket.connect_to_server()
        self.opened += 1
        self.open.append(socket)

    def cut(self, *, stay_offline: bool = False) -> None:
        self.refusing = stay_offline
        while self.open:
            self.open.pop().close(code=4000, reason="cut by a test")

    def restore(self) -> None:
        self.refusing = False

    def push(self, event: Mapping[str, object]) -> None:
        """Hands the page an event as if the server had pushed it (a hostile server can)."""
        assert self.open, "no socket is open"
        for socket in self.open:
            socket.send(json.dumps(event))


# A message of one's own the server has stored: ✓ sent, or already ✓✓ delivered or read on the
# other page (whose receipt may come before the sender's own answer is seen).
STORED = re.compile(r"^(sent|delivered|read)$")
