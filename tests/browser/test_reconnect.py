"""Realtime under trouble: a dropped or silent WebSocket is replaced and catches up,
a failed send retries once."""

import itertools
from typing import Any

import pytest
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from devkit.servers import LocalStack
from tests.browser.room_helpers import (
    STORED,
    Person,
    Sockets,
    bubbles,
    create_room,
    expect_presence,
    open_room,
    room_id,
    safety_code,
    send,
    two_people_in_a_room,
)
from tests.support.room_keys import RoomKeys

pytestmark = pytest.mark.timeout(60)


def test_a_dropped_socket_catches_up_and_shows_each_message_once(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    sockets = Sockets(bob)
    open_room(bob, link)
    assert safety_code(alice) == safety_code(bob)
    send(alice, "before the drop")
    expect(bubbles(bob, "other")).to_have_text(["before the drop"])

    sockets.cut(stay_offline=True)
    expect_presence(bob, "Reconnecting…")
    for n in range(3):
        send(alice, f"while away {n}")
    send(bob, "sent while offline")
    expect(bubbles(alice, "own")).to_have_count(4)
    expect(
        alice.locator(
            "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
        )
    ).to_have_count(4)
    expect(
        bob.locator(
            "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
        )
    ).to_have_count(1)
    expect(bubbles(bob, "other")).to_have_text(["before the drop"])

    sockets.restore()
    expect_presence(bob, "Both here")
    expected = ["before the drop", "while away 0", "while away 1", "while away 2"]
    expect(bubbles(bob, "other")).to_have_text(expected)
    expect(bubbles(bob, "own")).to_have_text(["sent while offline"])
    expect(bubbles(alice, "other")).to_have_text(["sent while offline"])

    send(alice, "after the drop")
    expect(bubbles(bob, "other")).to_have_text([*expected, "after the drop"])
    expect(bob.locator("#messages [data-problem]")).to_have_count(0)
    bob.wait_for_timeout(300)
    expect(bubbles(bob, "other")).to_have_count(5)


def test_a_socket_closed_under_the_page_reconnects_by_itself(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    sockets = Sockets(bob)
    open_room(bob, link)
    expect_presence(bob, "Both here")
    sockets.cut()
    send(alice, "one")
    send(alice, "two")
    expect_presence(bob, "Both here")
    expect(bubbles(bob, "other")).to_have_text(["one", "two"])
    assert sockets.opened == 2


def _stored(page: Page) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = page.evaluate(
        "async () => (await (await fetch(`/api/messages?roomId=${location.pathname.split('/')[2]}`)).json()).messages"
    )
    return stored


def test_a_send_that_did_not_go_through_is_pending_then_goes_by_itself_with_the_same_client_id(
    person: Person,
) -> None:
    alice, bob, _ = two_people_in_a_room(person)
    posted: list[str] = []

    def fail_first_post(route: Route) -> None:
        if route.request.method == "POST":
            body = route.request.post_data_json
            assert body is not None, "a POST without a JSON body"
            posted.append(body["clientId"])
            if len(posted) == 1:
                route.abort()
                return
        route.continue_()

    alice.route("**/api/messages?*", fail_first_post)
    send(alice, "are you there?")
    mine = alice.locator("#messages .msg.own")
    # It will go by itself: pending, not failed, and then it goes (resend.js), no click.
    expect(mine).to_have_attribute("data-status", "pending")
    expect(mine).to_contain_text("sends by itself")
    expect(bubbles(bob, "other")).to_have_count(0)
    expect(mine).to_have_attribute("data-status", STORED)
    assert len(posted) == 2 and posted[0] == posted[1]
    expect(bubbles(alice, "own")).to_have_text(["are you there?"])
    expect(bubbles(bob, "other")).to_have_text(["are you there?"])
    assert len(_stored(alice)) == 1


def test_a_lost_answer_is_confirmed_by_the_push_and_shown_once(person: Person) -> None:
    alice, bob, _ = two_people_in_a_room(person)

    def lose_answer(route: Route) -> None:
        if route.request.method == "POST":
            route.fetch()  # the server stores and pushes the message; its answer never arrives
            route.abort()
        else:
            route.continue_()

    alice.route("**/api/messages?*", lose_answer)
    send(alice, "did this arrive?")
    expect(alice.locator("#messages .msg.own")).to_have_attribute("data-status", STORED)
    expect(bubbles(alice, "own")).to_have_text(["did this arrive?"])
    expect(alice.locator("#messages .msg.other")).to_have_count(0)
    expect(bubbles(bob, "other")).to_have_text(["did this arrive?"])
    assert len(_stored(alice)) == 1


def test_reconnecting_backs_off_while_the_upgrade_is_refused(person: Person) -> None:
    page = person()
    page.goto("/")
    gaps = page.evaluate(
        """async () => {
            const { RoomSocket } = await import("/js/realtime.js");
            const attempts = [];
            const socket = new RoomSocket(`ws://${location.host}/ws?roomId=${"A".repeat(21)}`, {
                onOpen() {}, onEvent() {}, onState() {},
                beforeRetry: async () => attempts.push(performance.now()) > 0,
            });
            socket.start();
            await new Promise((resolve) => setTimeout(resolve, 4500));
            socket.stop();
            return attempts.slice(1).map((t, i) => t - attempts[i]);
        }"""
    )
    assert len(gaps) >= 2, gaps
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps


def test_a_connection_whose_ping_gets_no_pong_is_replaced(person: Person) -> None:
    alice = person()
    link = create_room(alice)
    bob = person()
    sockets: list[WebSocketRoute] = []

    def first_socket_loses_its_pongs(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        sockets.append(socket)
        silenced = len(sockets) == 1  # as if the server had forgotten this connection

        def to_page(message: str | bytes) -> None:
            if not (silenced and '"pong"' in str(message)):
                socket.send(message)

        server.on_message(to_page)

    bob.route_web_socket("**/ws?*", first_socket_loses_its_pongs)
    open_room(bob, link)
    expect_presence(bob, "Both here")
    assert len(sockets) == 2
    send(alice, "still there?")
    expect(bubbles(bob, "other")).to_have_text(["still there?"])


def test_a_connection_the_server_forgot_is_back_within_30_s_with_what_it_missed(
    person: Person, stack: LocalStack
) -> None:
    """A push answered 410 makes the server forget a socket that may well be open: the page
    learns it at its next ping (every 20 s while visible), reconnects and catches up."""
    alice = person()
    link = create_room(alice)
    bob = person()
    sockets = Sockets(bob)
    open_room(bob, link)
    expect_presence(alice, "Both here")
    keys = RoomKeys(stack, room_id(link))
    (bobs,) = [connection for connection, seat in keys.connections().items() if seat == 2]
    keys.forget(bobs)  # what forget_connections does after a 410
    send(alice, "while you were forgotten")
    expect(bubbles(bob, "other")).to_have_text(["while you were forgotten"], timeout=30_000)
    assert sockets.opened == 2


def test_a_history_that_cannot_be_fetched_says_so_and_is_fetched_again(person: Person) -> None:
    """The room used to hang on "Opening the room…", or open empty and stay so,
    when fetching the messages failed (503, 429, no network)."""
    alice, bob, _ = two_people_in_a_room(person)
    send(alice, "written before the outage")
    expect(bubbles(bob, "other")).to_have_text(["written before the outage"])
    refused = itertools.count()

    def unavailable_twice(route: Route) -> None:
        if route.request.method == "GET" and next(refused) < 2:
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"error": "unavailable", "message": "The service is unavailable."}',
            )
        else:
            route.continue_()

    bob.route("**/api/messages?*", unavailable_twice)
    bob.reload()
    expect(bob.locator("#app")).to_be_visible()
    expect(bob.locator("#toast")).to_contain_text("trying again")
    expect(bubbles(bob, "other")).to_have_text(["written before the outage"])
    assert next(refused) >= 3  # the page fetched again after both refusals
    expect(bob.locator("#app[data-retrying]")).to_have_count(0)
