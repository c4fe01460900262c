"""What a security reviewer checks, over loopback against the local stack."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from devkit.api_client import ApiClient, greet, next_event
from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack, local_stack
from devkit.wire import wire_text


def test_the_cookie_is_httponly_strict_and_scoped_to_the_room_lifetime(
    stack: LocalStack, people: tuple[ApiClient, ...]
) -> None:
    ann = people[0]
    room_id = ann.create()
    response = ann.join(room_id)
    morsel = SimpleCookie(response.headers["set-cookie"])["x-auth-token"]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert morsel["max-age"] == "600"
    assert not morsel["secure"]  # plain http on loopback; Secure over https (tests/functions)


def test_no_token_in_any_body_push_or_log_line_and_no_message_text_in_logs(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann, bob, _ = people
    seen: list[str] = []
    with ann.websocket(room) as ann_ws, bob.websocket(room) as bob_ws:
        greet(ann_ws), greet(bob_ws)
        bob_ws.send(json.dumps({"action": "typing"}))
        seen.append(json.dumps(next_event(ann_ws, "typing")))
        for person, ws in ((ann, bob_ws), (bob, ann_ws)):
            seen.append(person.send(room, wire_text("secret words")).text)
            seen.append(json.dumps(next_event(ws, "message")))
        seen += [
            ann.join(room).text,
            ann.http.get("/api/messages", params={"roomId": room}).text,
            ann.http.get("/api/room/ttl", params={"roomId": room}).text,
        ]
    seen.append(bob.http.delete("/api/room", params={"roomId": room}).text)
    log = stack.log.read_text()
    for token in (ann.token, bob.token):
        assert token and all(token not in text for text in seen)
        assert token not in log
    assert "secret words" not in log
    assert '"kind": "http"' in log and '"kind": "ws"' in log  # the logs are there, just clean


def test_a_websocket_from_a_foreign_origin_is_refused(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    from websockets.sync.client import connect

    ann = people[0]
    headers = {"Origin": "https://evil.example", "Cookie": f"x-auth-token={ann.token}"}
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"{stack.ws_url}?roomId={room}", additional_headers=headers),
    ):
        pass
    assert refused.value.response.status_code == 403


def test_a_participant_of_one_room_can_do_nothing_in_another(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann, _, carol = people
    other = carol.create()
    carol.join(other)
    ApiClient(stack.origin).join(other)  # the other room is now full
    params = {"roomId": other}
    assert ann.http.get("/api/room/ttl", params=params).status_code == 401
    assert ann.http.get("/api/messages", params=params).status_code == 401
    assert ann.send(other, wire_text("let me in")).status_code == 401
    assert ann.http.delete("/api/room", params=params).status_code == 401
    assert ann.join(other).status_code == 409
    with pytest.raises(InvalidStatus) as refused, ann.websocket(other):
        pass
    assert refused.value.response.status_code == 401
    assert carol.http.get("/api/messages", params=params).json()["messages"] == []


def test_another_spelling_of_a_seated_token_is_not_that_participant(stack: LocalStack) -> None:
    """The last base64url character of a token has 2 unused bits: the probe took
    seat 2 with a respelling of the creator's token. Now a respelling is no token:
    it reads nothing, and a join with it is handed a fresh token."""
    with ApiClient(stack.origin) as ann, ApiClient(stack.origin) as eve:
        room_id = ann.create()
        ann.join(room_id)
        entry = ann.token or ""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        respelled = entry[:-1] + alphabet[alphabet.index(entry[-1]) | 1]
        assert respelled != entry
        cookie = {"Cookie": f"x-auth-token={respelled}"}
        params = {"roomId": room_id}
        assert eve.http.get("/api/room/ttl", params=params, headers=cookie).status_code == 401
        joined = eve.http.post(
            "/api/room/join", params=params, json={"proof": PROOF}, headers=cookie
        )
        assert (joined.status_code, joined.json()["seat"]) == (200, 2)
        assert joined.cookies["x-auth-token"] not in (entry, respelled)


def test_cross_site_form_posts_are_refused(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann = people[0]
    cookie = {"Cookie": f"x-auth-token={ann.token}"}
    form = "text=forged&clientId=c"
    url = f"{stack.origin}/api/messages?roomId={room}"
    from_evil = httpx.post(
        url,
        content=form,
        headers={
            **cookie,
            "Origin": "https://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert from_evil.status_code == 403 and from_evil.json()["error"] == "forbidden"
    # Even without an Origin header, only a JSON body is taken.
    as_text = httpx.post(
        url,
        content=json.dumps({"text": wire_text("forged"), "clientId": "c"}),
        headers={**cookie, "Content-Type": "text/plain"},
    )
    assert as_text.status_code == 422 and as_text.json()["error"] == "bad-request"
    assert ann.http.get("/api/messages", params={"roomId": room}).json()["messages"] == []


def test_an_oversized_body_is_refused_with_413_and_nothing_stored(
    stack: LocalStack, room: str, people: tuple[ApiClient, ...]
) -> None:
    ann = people[0]
    response = ann.send(room, "x" * 40_000)
    assert response.status_code == 413 and response.json()["error"] == "payload-too-large"
    assert ann.http.get("/api/messages", params={"roomId": room}).json()["messages"] == []


def test_rate_limits_answer_429_with_retry_after_and_store_nothing() -> None:
    with local_stack(RATE_LIMIT_ROOMS_PER_MINUTE="2", RATE_LIMIT_MESSAGES_PER_MINUTE="3") as strict:
        ann = ApiClient(strict.origin)
        room_id = ann.create()
        ann.http.post("/api/room/create", json={"verifier": VERIFIER})
        refused = ann.http.post("/api/room/create", json={"verifier": VERIFIER})
        assert refused.status_code == 429 and refused.json()["error"] == "rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        ann.join(room_id)
        for i in range(3):
            assert ann.send(room_id, wire_text(f"m{i}")).status_code == 200
        too_many = ann.send(room_id, wire_text("one too many"))
        assert too_many.status_code == 429 and int(too_many.headers["retry-after"]) >= 1
        texts = [
            m["text"]
            for m in ann.http.get("/api/messages", params={"roomId": room_id}).json()["messages"]
        ]
        assert texts == [wire_text(f"m{i}") for i in range(3)]
