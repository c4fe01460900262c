"""End to end over loopback: the local stack started as a user starts it, real
HTTP clients with their own cookies, real WebSocket clients."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection

from devkit.api_client import ApiClient, greet, next_event
from devkit.servers import LocalStack, local_stack
from devkit.wire import wire_text
from privochat.domain import FRAMES_PER_CONNECTION


def test_the_site_and_room_pages_are_served_with_security_headers(stack: LocalStack) -> None:
    for path in ("/", "/room/AAAAAAAAAAAAAAAAAAAAA"):
        response = httpx.get(stack.origin + path)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"


def test_two_join_and_a_third_gets_room_full(
    stack: LocalStack, people: tuple[ApiClient, ...]
) -> None:
    ann, bob, eve = people
    room_id = ann.create()
    assert ann.join(room_id).json()["participants"] == 1
    assert bob.join(room_id).json()["participants"] == 2
    assert ann.token != bob.token
    refused = eve.join(room_id)
    assert refused.status_code == 409 and refused.json()["error"] == "room-full"
    assert eve.token is None
    again = ann.join(room_id)
    assert again.status_code == 200 and again.json()["participants"] == 2


def test_twenty_concurrent_joiners_get_exactly_two_seats(stack: LocalStack) -> None:
    room_id = ApiClient(stack.origin).create()
    joiners = [ApiClient(stack.origin) for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda p: p.join(room_id).status_code, joiners))
    assert sorted(statuses) == [200, 200] + [409] * 18


def test_messages_reach_both_websockets_with_their_id_both_ways(
    room: str, people: tuple[ApiClient, ...]
) -> None:
    ann, bob, _ = people
    with ann.websocket(room) as ann_ws, bob.websocket(room) as bob_ws:
        greet(ann_ws)
        greet(bob_ws)
        for sender, label in ((ann, "hi bob"), (bob, "hi ann"), (ann, "how are you?")):
            text = wire_text(label)
            sent = sender.send(room, text).json()["message"]
            assert sent["own"] is True
            for ws in (ann_ws, bob_ws):
                pushed = next_event(ws, "message")["message"]
                assert pushed["id"] == sent["id"] and pushed["text"] == text
    listed = bob.http.get("/api/messages", params={"roomId": room}).json()["messages"]
    assert [(m["text"], m["own"]) for m in listed] == [
        (wire_text("hi bob"), False),
        (wire_text("hi ann"), True),
        (wire_text("how are you?"), False),
    ]


def test_presence_goes_one_two_one(room: str, people: tuple[ApiClient, ...]) -> None:
    ann, bob, _ = people
    with ann.websocket(room) as ann_ws:
        assert greet(ann_ws) == 1
        with bob.websocket(room) as bob_ws:
            assert next_event(ann_ws, "presence")["online"] == 2
            assert greet(bob_ws) == 2
        assert next_event(ann_ws, "presence")["online"] == 1


def test_typing_reaches_the_other_participant(room: str, people: tuple[ApiClient, ...]) -> None:
    ann, bob, _ = people
    with ann.websocket(room) as ann_ws, bob.websocket(room) as bob_ws:
        greet(ann_ws)
        greet(bob_ws)
        bob_ws.send(json.dumps({"action": "typing"}))
        assert next_event(ann_ws, "typing") == {"type": "typing"}


def _hung_up(ws: ClientConnection) -> bool:
    """Reads what is left until the server closes the socket (a TimeoutError if it does not)."""
    try:
        while True:
            ws.recv(timeout=10)
    except ConnectionClosed:
        return True


def test_a_socket_that_floods_frames_is_told_it_is_rate_limited_and_hung_up(
    room: str, people: tuple[ApiClient, ...]
) -> None:
    """Each frame is a Lambda invocation out of the stage's throttle, shared by all."""
    ann, bob, _ = people
    budget = FRAMES_PER_CONNECTION.max_requests
    with ann.websocket(room) as ann_ws, bob.websocket(room) as bob_ws:
        greet(bob_ws)
        for _ in range(budget + 1):
            ann_ws.send(json.dumps({"action": "typing"}))
        refusal = next_event(ann_ws, "error", timeout=30)
        assert refusal["error"] == "rate-limited" and 1 <= refusal["retryAfter"] <= 60
        assert _hung_up(ann_ws)
        assert greet(bob_ws) in (1, 2)  # a pong: Bob's socket is not Ann's budget


def test_destroy_reaches_both_then_every_call_is_404_and_no_key_is_left(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann, bob, _ = people
    ann.send(room, wire_text("soon gone"))
    with ann.websocket(room) as ann_ws, bob.websocket(room) as bob_ws:
        greet(ann_ws)
        greet(bob_ws)
        assert bob.http.delete("/api/room", params={"roomId": room}).json() == {"destroyed": True}
        assert next_event(ann_ws, "destroy") == {"type": "destroy"}
        assert next_event(bob_ws, "destroy") == {"type": "destroy"}
    for person in (ann, bob):
        assert person.http.get("/api/room/ttl", params={"roomId": room}).status_code == 404
        assert person.http.get("/api/messages", params={"roomId": room}).status_code == 404
        assert person.send(room, wire_text("anyone?")).status_code == 404
        assert person.join(room).status_code == 404
    assert stack.redis("KEYS", f"*{room}*") == []


def test_a_websocket_without_a_participants_cookie_is_refused(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    eve = people[2]
    for room_id, status in ((room, 401), ("Q" * 21, 401), ("nonsense", 400)):
        with pytest.raises(InvalidStatus) as refused, eve.websocket(room_id):
            pass
        assert refused.value.response.status_code == status


def test_the_stored_token_is_only_a_hash(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann = people[0]
    fields = stack.redis("HKEYS", f"meta:{{{room}}}")
    token = (ann.token or "").partition(".")[2]
    assert token and all(token not in field for field in fields)
    participants = [f for f in fields if f.startswith("p:")]
    assert len(participants) == 2 and all(len(f) == 2 + 64 for f in participants)


def test_a_client_that_was_away_catches_up_with_after(
    room: str, people: tuple[ApiClient, ...]
) -> None:
    ann, bob, _ = people
    seen = [ann.send(room, wire_text("before the drop")).json()["message"]["id"]]
    missed = [
        bob.send(room, wire_text(f"while away {i}")).json()["message"]["id"] for i in range(3)
    ]
    caught_up = ann.http.get("/api/messages", params={"roomId": room, "after": seen[-1]}).json()[
        "messages"
    ]
    assert [m["id"] for m in caught_up] == missed


def test_a_retried_send_is_stored_once(room: str, people: tuple[ApiClient, ...]) -> None:
    ann = people[0]
    first = ann.send(room, wire_text("exactly once"), clientId="retry-1").json()["message"]
    again = ann.send(room, wire_text("exactly once"), clientId="retry-1").json()["message"]
    assert again == first
    assert len(ann.http.get("/api/messages", params={"roomId": room}).json()["messages"]) == 1


def test_a_room_and_all_its_keys_expire_after_its_ttl() -> None:
    with local_stack(ROOM_TTL_SECONDS="2") as short:
        ann, bob = ApiClient(short.origin), ApiClient(short.origin)
        room_id = ann.create()
        assert ann.join(room_id).json()["ttl"] <= 2
        bob.join(room_id)
        ann.send(room_id, wire_text("fleeting"), clientId="c-1")
        token = ann.token
        with ann.websocket(room_id) as ws:
            greet(ws)
            # the room's one hash (messages inside), and the connection's reverse key
            assert len(short.redis("KEYS", f"*{room_id}*")) == 1
            assert len(short.redis("KEYS", "conn:*")) == 1
            time.sleep(2.3)
        assert short.redis("KEYS", f"*{room_id}*") == []
        assert short.redis("KEYS", "conn:*") == []
        # The cookie expired with the room (Max-Age = TTL), so it is not even sent ...
        assert ann.http.get("/api/messages", params={"roomId": room_id}).status_code == 401
        # ... and sent anyway, it opens nothing: the room is gone.
        stale = {"Cookie": f"x-auth-token={token}"}
        assert (
            httpx.get(
                f"{short.origin}/api/messages", params={"roomId": room_id}, headers=stale
            ).status_code
            == 404
        )
        assert bob.join(room_id).status_code == 404


def test_the_local_gateway_closes_an_idle_websocket_like_api_gateway() -> None:
    with local_stack(LOCAL_WS_IDLE_SECONDS="1") as idle:
        ann, bob = ApiClient(idle.origin), ApiClient(idle.origin)
        room_id = ann.create()
        ann.join(room_id), bob.join(room_id)
        with ann.websocket(room_id) as ann_ws, bob.websocket(room_id) as bob_ws:
            greet(ann_ws)
            greet(bob_ws)
            # Bob keeps talking; Ann says nothing and is hung up on after a second.
            presence: list[int] = []
            deadline = time.monotonic() + 5
            while ann_ws.close_code is None and time.monotonic() < deadline:
                bob_ws.send(json.dumps({"action": "ping"}))
                while (event := json.loads(bob_ws.recv(timeout=5)))["type"] != "pong":
                    presence += [event["online"]] if event["type"] == "presence" else []
                time.sleep(0.25)
            assert ann_ws.close_code == 1001
            assert presence == [1] or next_event(bob_ws, "presence")["online"] == 1
