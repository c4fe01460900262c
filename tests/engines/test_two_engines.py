"""Two people on two different engines, as two new users would: create, join, compare the
safety code, talk both ways, reload, leave and come back, destroy. Each engine is the creator
once: Chromium and Firefox both ways, WebKit and Chromium both ways; and WebKit at phone size,
touched instead of clicked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.engines import EnginePage, WebKitPage, wait_until
from devkit.servers import LocalStack
from tests.engines.conftest import Person

pytestmark = pytest.mark.timeout(240)

DESKTOP = (1280, 800)
PHONE = (390, 844)
SAFETY = "document.querySelector('#safety-code')?.textContent.match(/^\\d{5} \\d{5} \\d{5}$/)?.[0]"
ROOM_SHOWN = "location.pathname.startsWith('/room/') && !document.getElementById('app').hidden"
PRESENCE = "document.getElementById('presence-text')?.textContent"
BUBBLES = "[...document.querySelectorAll('#messages .msg.' + args[0] + ' .bubble')].map((b) => b.textContent.trim())"
KEY_CHANGE_CODE = "document.getElementById('key-change').open && document.getElementById('key-change-code').textContent"
NOTICE = "location.pathname === '/' && document.getElementById('notice')?.dataset.notice"


def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a flow's screenshots go: PRIVOCHAT_SCREENSHOTS/<test> when set, else the test's tmp."""
    folder = os.environ.get("PRIVOCHAT_SCREENSHOTS")
    target = Path(folder) / request.node.name if folder else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def says(page: EnginePage, expression: str, expected: object, what: str, *args: object) -> None:
    wait_until(page, f"({expression}) === args[args.length - 1]", *args, expected, what=what)


def shows_messages(page: EnginePage, own: list[str], other: list[str]) -> None:
    """Exactly these bubbles on each side, in order: every one decrypted and checked."""
    for side, texts in (("own", own), ("other", other)):
        wait_until(
            page,
            f"JSON.stringify({BUBBLES}) === JSON.stringify(args[1])",
            side,
            texts,
            what=f"{side} bubbles {texts}",
        )


def same_safety_code(one: EnginePage, two: EnginePage, unlike: str | None = None) -> str:
    """Waits until both pages show one safety code (other than `unlike`); returns it."""
    expression = f"{SAFETY} !== args[0] && {SAFETY}"
    code = str(wait_until(one, expression, unlike, what="a safety code"))
    says(two, SAFETY, code, f"the other page's safety code {code}")
    return code


def send(page: EnginePage, text: str, tap: bool = False) -> None:
    page.type("#text", text)
    if tap and isinstance(page, WebKitPage):
        page.tap("#send")
    else:
        page.press_enter()


def click(page: EnginePage, selector: str, tap: bool) -> None:
    if tap and isinstance(page, WebKitPage):
        page.tap(selector)
    else:
        page.click(selector)


def two_people_flow(
    creator: EnginePage, joiner: EnginePage, origin: str, folder: Path, tap: bool = False
) -> None:
    names = f"{creator.engine} {creator.version} → {joiner.engine} {joiner.version}"
    creator.goto(f"{origin}/")
    creator.click("#create")
    wait_until(creator, ROOM_SHOWN, what="the creator's room opens")
    link = str(creator.run("return location.href;"))
    assert "#" in link, "the invite link carries its key"

    joiner.goto(link)
    says(
        joiner,
        "document.getElementById('screen-title')?.textContent",
        "Join this private room",
        "the join card",
    )
    click(joiner, "#join-button", tap)
    wait_until(joiner, ROOM_SHOWN, what="the joiner's room opens")
    for page in (creator, joiner):
        says(page, PRESENCE, "Both here", "both here")
    first_code = same_safety_code(creator, joiner)
    creator.screenshot(folder / f"1-{creator.engine}-creator.png")
    joiner.screenshot(folder / f"1-{joiner.engine}-joiner.png")

    hello, reply = f"Hello from {creator.engine}", f"Hi, {joiner.engine} here"
    send(creator, hello)
    shows_messages(joiner, own=[], other=[hello])
    send(joiner, reply, tap)
    shows_messages(creator, own=[hello], other=[reply])
    shows_messages(joiner, own=[reply], other=[hello])

    # They compared the code: both say so; the badge follows.
    for page in (creator, joiner):
        click(page, "#compared", tap and page is joiner)
        says(page, "document.getElementById('verified').textContent", "Verified", "verified")

    # A reload reads the history back with the keys this browser kept: same session, same code.
    joiner.reload()
    wait_until(joiner, ROOM_SHOWN, what="the room opens again after a reload")
    shows_messages(joiner, own=[reply], other=[hello])
    says(joiner, SAFETY, first_code, "the same safety code after a reload")
    says(
        joiner,
        "document.getElementById('verified').textContent",
        "Verified",
        "still verified after a reload",
    )
    joiner.screenshot(folder / f"2-{joiner.engine}-reloaded.png")

    # Leave forgets this browser's keys; coming back joins again with new keys on both sides.
    click(joiner, "#leave", tap)
    click(joiner, "#confirm-leave-yes", tap)
    says(joiner, NOTICE, "left", "the lobby says you left")
    joiner.goto(link)
    says(
        joiner,
        "document.getElementById('screen-title')?.textContent",
        "Join this private room",
        "the join card again",
    )
    click(joiner, "#join-button", tap)
    wait_until(joiner, ROOM_SHOWN, what="the room opens after coming back")
    second_code = same_safety_code(creator, joiner, unlike=first_code)
    # New keys after compared ones are never silent: both pages stop on the new code until accepted.
    for page in (creator, joiner):
        says(page, KEY_CHANGE_CODE, second_code, "the key-change notice with the new code")
    joiner.screenshot(folder / f"3-{joiner.engine}-keys-changed.png")
    for page in (creator, joiner):
        click(page, "#key-change-accept", tap and page is joiner)
        wait_until(page, "!document.getElementById('key-change').open", what="the notice answered")
    for page in (creator, joiner):
        says(
            page,
            "document.getElementById('verified').textContent",
            "Not verified",
            "new keys are not verified",
        )
    back = f"{joiner.engine} is back"
    send(joiner, back, tap)
    shows_messages(creator, own=[hello], other=[reply, back])

    creator.click("#destroy")
    creator.click("#confirm-destroy-yes")
    says(joiner, NOTICE, "destroyed", "the other person is told the room was destroyed")
    says(creator, NOTICE, "destroyedByYou", "the creator lands in the lobby")
    assert second_code != first_code
    for page in (creator, joiner):
        errors = page.errors()
        assert errors == [], f"{names}: script errors in {page.engine}: {errors}"


PAIRS = [
    ("chromium", "firefox"),
    ("firefox", "chromium"),
    ("webkit", "chromium"),
    ("chromium", "webkit"),
]


@pytest.mark.parametrize(
    ("creator", "joiner"), PAIRS, ids=[f"{a}-creates-{b}-joins" for a, b in PAIRS]
)
def test_two_people_on_two_engines(
    person: Person,
    stack: LocalStack,
    creator: str,
    joiner: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    two_people_flow(
        person(creator, DESKTOP), person(joiner, DESKTOP), stack.origin, shots(request, tmp_path)
    )


def test_webkit_at_phone_size_joins_by_touch(
    person: Person, stack: LocalStack, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    phone = person("webkit", PHONE)
    assert phone.run("return innerWidth;") == PHONE[0]
    two_people_flow(
        person("chromium", DESKTOP), phone, stack.origin, shots(request, tmp_path), tap=True
    )
    assert phone.run("return document.documentElement.scrollWidth;") <= PHONE[0]
