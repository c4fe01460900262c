"""The Lambda handlers over API Gateway events: the real store (the upstash-redis
client on the embedded backend) and the pusher on moto's Management API."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.cookies import SimpleCookie
from typing import Any, NamedTuple, Protocol

import pytest

from devkit.credentials import PROOF, VERIFIER, WRONG_PROOF
from devkit.events import http_event, websocket_event
from devkit.wire import wire_text
from privochat import wiring
from privochat.config import Settings
from privochat.domain import FRAMES_PER_CONNECTION, RECEIPT_MAX_CHARS, TEXT_MAX_CHARS, Limit
from privochat.gateway_events import LambdaResponse, WebSocketEvent
from privochat.logs import JsonLines
from privochat.service import PAGE_MESSAGES, PAGE_TEXT_BYTES, Limits
from tests.functions.conftest import UpstashSetup
from tests.support.fake_aws import CREDENTIALS, FakeAws
from tests.support.rooms import key32

SITE = "https://chat.example.com"
# A Lambda handler of the HTTP API: an API Gateway event and a context in, the
# answer out (http_api.handler, a Mangum adapter).
HttpHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class WebSocketHandlers(Protocol):
    """The WebSocket API's Lambda handlers: the ws_api module."""

    def on_connect(self, event: WebSocketEvent, context: Any, /) -> LambdaResponse: ...
    def on_disconnect(self, event: WebSocketEvent, context: Any, /) -> LambdaResponse: ...
    def on_default(self, event: WebSocketEvent, context: Any, /) -> LambdaResponse: ...


class Handlers(NamedTuple):
    """The Lambda handlers of both APIs, as the functions' entry points name them."""

    http: HttpHandler
    ws: WebSocketHandlers


@pytest.fixture
def handlers(
    upstash_embedded: UpstashSetup, monkeypatch: pytest.MonkeyPatch, lambda_event_loop: None
) -> Iterator[Handlers]:
    for name, value in {**CREDENTIALS, "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)  # what Lambda gives the functions
    # Each test starts from an empty store: the session's earlier rooms (and their per-address
    # creation counters, 20 a minute) must not decide this test's answers.
    upstash_embedded.backend.execute(["FLUSHALL"])
    wiring.configure(
        Settings(
            upstash_url=upstash_embedded.url,
            upstash_token=upstash_embedded.token,
            websocket_management_url="https://ws123.execute-api.eu-west-1.amazonaws.com/prod",
            allowed_origins=(SITE,),
            app_secret="handler tests' secret",
        ),
        http=AWS.client(),
    )
    from privochat import http_api, ws_api

    yield Handlers(http_api.handler, ws_api)
    wiring.configure()
    AWS.__init__()  # type: ignore[misc]  # a fresh gateway for the next test


# The Management API (and SSM) the handlers reach, in-process (tests/support/fake_aws.py).
AWS = FakeAws()


def posted(connection_id: str) -> list[dict[str, Any]]:
    """The events delivered to a connection, frame by frame."""
    return AWS.posted(connection_id)


def call(
    http: HttpHandler, *args: Any, **kwargs: Any
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = http(http_event(*args, **kwargs), None)
    return response["statusCode"], json.loads(response["body"]), response


_client_ids = iter(range(1_000_000))


def send(
    http: HttpHandler, room_id: str, cookie: str, label: str, size: int | None = None
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A message whose text is `label` spelt as a wire text (of `size` characters)."""
    return call(
        http,
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"text": wire_text(label, size), "clientId": f"c{next(_client_ids)}"},
        cookie=cookie,
    )


def create(http: HttpHandler) -> str:
    status, created, _ = call(
        http, "POST", "/api/room/create", body={"verifier": VERIFIER}, headers={"origin": SITE}
    )
    assert status == 200
    return str(created["roomId"])


def join(
    http: HttpHandler, room_id: str, cookie: str | None = None, proof: str = PROOF
) -> tuple[int, dict[str, Any], str | None]:
    """Joins; returns the status, the body and the cookie's new value (if one was set)."""
    status, body, response = call(
        http, "POST", "/api/room/join", {"roomId": room_id}, {"proof": proof}, cookie=cookie
    )
    cookies = response.get("cookies") or []
    value = SimpleCookie(cookies[0])["__Host-x-auth-token"].value if cookies else None
    return status, body, value


def create_and_join(http: HttpHandler) -> tuple[str, str, str]:
    """A room with two participants: its ID and each one's cookie value."""
    room_id = create(http)
    cookies = []
    for _ in range(2):
        status, _, cookie = join(http, room_id)
        assert status == 200 and cookie
        cookies.append(cookie)
    return room_id, cookies[0], cookies[1]


def test_join_sets_a_strict_httponly_secure_host_cookie_and_never_returns_the_token(
    handlers: Handlers,
) -> None:
    http, _ = handlers
    room_id = create(http)
    status, body, response = call(
        http, "POST", "/api/room/join", {"roomId": room_id}, {"proof": PROOF}
    )
    assert status == 200
    expires_at = body.pop("expiresAt")
    assert 0 <= expires_at - time.time() * 1000 <= 600_000
    assert body == {"roomId": room_id, "ttl": 600, "participants": 1, "seat": 1, "hellos": []}
    [cookie] = response["cookies"]
    morsel = SimpleCookie(cookie)["__Host-x-auth-token"]
    room, _, token = morsel.value.partition(".")
    assert room == room_id and len(token) == 43
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/" and not morsel["domain"]
    assert token not in response["body"]


def test_a_wrong_proof_gets_403_wrong_key_no_seat_and_no_cookie(handlers: Handlers) -> None:
    http, _ = handlers
    room_id = create(http)
    for body in ({"proof": WRONG_PROOF}, {}, {"proof": "short"}):
        status, answer, response = call(http, "POST", "/api/room/join", {"roomId": room_id}, body)
        assert status in (403, 422) and "cookies" not in response
        assert answer["error"] == ("wrong-key" if status == 403 else "bad-request")
    assert join(http, room_id)[1]["seat"] == 1


def test_one_browser_cookie_holds_a_seat_in_each_of_two_rooms(handlers: Handlers) -> None:
    http, _ = handlers
    first, second = create(http), create(http)
    _, _, cookie = join(http, first)
    _, _, both = join(http, second, cookie)
    assert both is not None and both.count("~") == 1
    for room_id in (first, second):
        assert call(http, "GET", "/api/room/ttl", {"roomId": room_id}, cookie=both)[0] == 200
    assert join(http, first, both)[1]["seat"] == 1  # still the same seat


def test_a_cookie_among_other_apps_cookies_opens_the_websocket(handlers: Handlers) -> None:
    """Browsers send every cookie of the host: a JSON or spaced value of another
    app's must not hide ours (it did: 401 on $connect while HTTP accepted it)."""
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    event = websocket_event("$connect", "K1=", room_id, origin=SITE)
    event["headers"]["Cookie"] = (
        f'consent=yes please; prefs={{"a": [1, 2]}}; __Host-x-auth-token={ann}; theme="dark"'
    )
    assert ws.on_connect(event, None)["statusCode"] == 200
    status, _, _ = call(
        http,
        "GET",
        "/api/room/ttl",
        {"roomId": room_id},
        headers={"cookie": event["headers"]["Cookie"]},
    )
    assert status == 200


def test_a_message_is_stored_and_pushed_to_both_connections(handlers: Handlers) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    assert (
        ws.on_connect(websocket_event("$connect", "A1=", room_id, ann, origin=SITE), None)[
            "statusCode"
        ]
        == 200
    )
    assert (
        ws.on_connect(websocket_event("$connect", "B1=", room_id, bob, origin=SITE), None)[
            "statusCode"
        ]
        == 200
    )
    assert posted("A1=") == [{"type": "presence", "online": 2}]
    status, body, _ = send(http, room_id, ann, "hi bob")
    assert status == 200 and body["message"]["own"] is True
    assert posted("A1=")[-1] == {"type": "message", "message": body["message"]}
    assert posted("B1=")[-1] == {"type": "message", "message": {**body["message"], "own": False}}
    _, listed, _ = call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=bob)
    assert listed == {"messages": [{**body["message"], "own": False}], "hellos": [], "more": False}


def test_ping_gets_a_pong_with_presence_and_typing_reaches_the_other(handlers: Handlers) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "A2=", room_id, ann), None)
    ws.on_connect(websocket_event("$connect", "B2=", room_id, bob), None)
    assert (
        ws.on_default(websocket_event("$default", "B2=", body='{"action":"ping"}'), None)[
            "statusCode"
        ]
        == 200
    )
    [pong] = posted("B2=")
    expires_at = pong.pop("expiresAt")
    assert pong == {"type": "pong", "online": 2}
    assert 0 < expires_at - time.time() * 1000 <= 600_000
    ws.on_default(websocket_event("$default", "B2=", body='{"action":"typing"}'), None)
    assert posted("A2=")[-1] == {"type": "typing"}
    ws.on_disconnect(websocket_event("$disconnect", "B2="), None)
    assert posted("A2=")[-1] == {"type": "presence", "online": 1}


def test_a_receipt_is_relayed_to_the_other_participant_only_and_never_stored(
    handlers: Handlers,
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "RA=", room_id, ann), None)
    ws.on_connect(websocket_event("$connect", "RB=", room_id, bob), None)
    receipt = wire_text("sealed receipt")
    frame = json.dumps({"action": "receipt", "text": receipt})
    assert ws.on_default(websocket_event("$default", "RA=", body=frame), None)["statusCode"] == 200
    assert posted("RB=")[-1] == {"type": "receipt", "text": receipt}
    assert all(event.get("type") != "receipt" for event in posted("RA="))
    _, listed, _ = call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=bob)
    assert listed["messages"] == []


@pytest.mark.parametrize(
    "text",
    [None, 7, "", "not a wire text", wire_text("x", RECEIPT_MAX_CHARS + 1)],
)
def test_a_receipt_that_is_no_wire_text_gets_an_error_and_is_not_relayed(
    handlers: Handlers, text: object
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "RC=", room_id, ann), None)
    ws.on_connect(websocket_event("$connect", "RD=", room_id, bob), None)
    before = list(posted("RD="))
    frame = json.dumps({"action": "receipt", "text": text})
    assert ws.on_default(websocket_event("$default", "RC=", body=frame), None)["statusCode"] == 400
    assert posted("RC=")[-1]["error"] == "bad-request"
    assert posted("RD=") == before


def test_a_frame_that_names_its_room_is_answered_and_one_naming_another_is_hung_up(
    handlers: Handlers,
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    other_room, _, _ = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "R1=", room_id, ann), None)
    ping = json.dumps({"action": "ping", "roomId": room_id})
    assert ws.on_default(websocket_event("$default", "R1=", body=ping), None)["statusCode"] == 200
    assert posted("R1=")[-1]["type"] == "pong"
    elsewhere = json.dumps({"action": "ping", "roomId": other_room})
    response = ws.on_default(websocket_event("$default", "R1=", body=elsewhere), None)
    assert response["statusCode"] == 410
    malformed = json.dumps({"action": "ping", "roomId": "../x"})
    assert (
        ws.on_default(websocket_event("$default", "R1=", body=malformed), None)["statusCode"] == 400
    )


@pytest.mark.parametrize("body", ["not json", "[]", '{"action":"shout"}', '{"nothing":1}', ""])
def test_unknown_websocket_actions_get_an_error_and_change_nothing(
    handlers: Handlers, body: str
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "A3=", room_id, ann), None)
    response = ws.on_default(websocket_event("$default", "A3=", body=body), None)
    assert response["statusCode"] == 400
    assert posted("A3=")[-1]["type"] == "error" and posted("A3=")[-1]["error"] == "bad-request"
    _, listed, _ = call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)
    assert listed["messages"] == []


def test_a_deeply_nested_or_binary_frame_gets_an_error_frame(handlers: Handlers) -> None:
    """This code runs in Lambda too: a 6 KB frame nested 3000 deep crashed $default
    with a RecursionError, and binary frames were dropped without a word."""
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "N1=", room_id, ann), None)
    nested = websocket_event("$default", "N1=", body="[" * 3000 + "]" * 3000)
    assert ws.on_default(nested, None)["statusCode"] == 400
    assert posted("N1=")[-1]["error"] == "bad-request"
    binary = websocket_event("$default", "N1=", body="AAEC")
    binary["isBase64Encoded"] = True
    assert ws.on_default(binary, None)["statusCode"] == 400
    assert len([e for e in posted("N1=") if e["type"] == "error"]) == 2


def test_connect_is_refused_without_a_participants_cookie_and_stores_nothing(
    handlers: Handlers, upstash_embedded: UpstashSetup
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    assert ws.on_connect(websocket_event("$connect", "X1=", room_id), None)["statusCode"] == 401
    assert (
        ws.on_connect(websocket_event("$connect", "X2=", room_id, "f" * 43), None)["statusCode"]
        == 401
    )
    forged = f"{room_id}.{'f' * 43}"
    assert (
        ws.on_connect(websocket_event("$connect", "X6=", room_id, forged), None)["statusCode"]
        == 401
    )
    # A cookie holds no token for another room: not a participant there.
    assert (
        ws.on_connect(websocket_event("$connect", "X3=", "N" * 21, ann), None)["statusCode"] == 401
    )
    assert ws.on_connect(websocket_event("$connect", "X4=", "bad", ann), None)["statusCode"] == 400
    assert (
        ws.on_connect(
            websocket_event("$connect", "X5=", room_id, ann, origin="https://evil.example"), None
        )["statusCode"]
        == 403
    )
    assert upstash_embedded.keys("conn:X*") == []


def test_a_gone_connection_is_pruned_and_the_sender_still_gets_200(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "A4=", room_id, ann), None)
    ws.on_connect(websocket_event("$connect", "B4=", room_id, bob), None)
    # A minute later (a 410 for a connection still connecting is not taken as gone).
    clock = wiring.service()._clock_ms
    monkeypatch.setattr(wiring.service(), "_clock_ms", lambda: clock() + 60_000)
    AWS.status_for = lambda c: 410 if c == "A4=" else None
    status, body, _ = send(http, room_id, bob, "you there?")
    assert status == 200
    assert posted("B4=")[-1]["message"]["id"] == body["message"]["id"]
    assert wiring.service()._store.connections("A4=") is None
    remaining = wiring.service()._store.connections("B4=")
    assert remaining is not None and remaining[0].seats == {"B4=": 2}


def test_a_frame_past_the_connections_budget_is_a_429_an_error_frame_and_a_hang_up(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "A9=", room_id, ann), None)
    now = 1_800_000_000_000  # the start of a minute: every frame in one window
    monkeypatch.setattr(wiring.service(), "_clock_ms", lambda: now)
    AWS.requests.clear()
    requests = AWS.requests
    budget = FRAMES_PER_CONNECTION.max_requests
    statuses = [
        ws.on_default(websocket_event("$default", "A9=", body=f'{{"action":"{action}"}}'), None)[
            "statusCode"
        ]
        for action in ["typing", "ping"] * (budget // 2) + ["ping"]
    ]
    assert statuses == [200] * budget + [429]
    *_, (method, connection, body), hang_up = requests
    assert (method, connection) == ("POST", "A9=")
    assert json.loads(body) == {
        "type": "error",
        "error": "rate-limited",
        "message": "Too many requests; try again in 60 s.",
        "retryAfter": 60,
    }
    assert hang_up[:2] == ("DELETE", "A9=")


def test_destroy_pushes_destroy_to_both_then_everything_is_404(
    handlers: Handlers, upstash_embedded: UpstashSetup
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "A5=", room_id, ann), None)
    ws.on_connect(websocket_event("$connect", "B5=", room_id, bob), None)
    AWS.requests.clear()
    requests = AWS.requests
    status, body, _ = call(http, "DELETE", "/api/room", {"roomId": room_id}, cookie=ann)
    assert (status, body) == (200, {"destroyed": True})
    destroy = json.dumps({"type": "destroy"}, separators=(",", ":")).encode()
    posts = sorted((c, b) for method, c, b in requests if method == "POST")
    assert posts == [("A5=", destroy), ("B5=", destroy)]
    # ... then the server hangs up on both.
    assert sorted(c for method, c, _ in requests if method == "DELETE") == ["A5=", "B5="]
    assert posted("A5=") == posted("B5=") == []
    for method, path in (
        ("GET", "/api/room/ttl"),
        ("GET", "/api/messages"),
        ("DELETE", "/api/room"),
    ):
        assert call(http, method, path, {"roomId": room_id}, cookie=bob)[0] == 404
    assert upstash_embedded.keys(f"*{room_id}*") == []


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "status", "code"),
    [
        ("GET", "/api/room/ttl", {"roomId": "short"}, None, 400, "bad-request"),
        ("GET", "/api/room/ttl", {}, None, 400, "bad-request"),
        ("POST", "/api/room/join", {"roomId": "Z" * 21}, {"proof": PROOF}, 404, "room-not-found"),
        ("POST", "/api/room/join", {"roomId": "Z" * 21}, None, 422, "bad-request"),
        ("POST", "/api/room/create", {}, None, 422, "bad-request"),
        ("POST", "/api/room/create", {}, {"verifier": "x" * 43}, 422, "bad-request"),
        ("GET", "/api/messages", {"roomId": "Z" * 21}, None, 401, "unauthorized"),
        ("POST", "/api/messages", {"roomId": "Z" * 21}, "not json", 422, "bad-request"),
        ("POST", "/api/messages", {"roomId": "Z" * 21}, {"text": "a"}, 422, "bad-request"),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"text": wire_text("x", 11_001), "clientId": "c"},
            422,
            "bad-request",
        ),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"text": "\U0001f600" * 2000, "clientId": "c"},
            422,
            "bad-request",
        ),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"text": "not sealed", "clientId": "c"},
            422,
            "bad-request",
        ),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"text": "y" * 40_000, "clientId": "c"},
            413,
            "payload-too-large",
        ),
        (
            "POST",
            "/api/room/hello",
            {"roomId": "Z" * 21},
            {"generation": 0, "commit": "c", "mac": "m"},
            422,
            "bad-request",
        ),
        ("GET", "/api/nowhere", {}, None, 404, "not-found"),
        ("PUT", "/api/room", {}, None, 405, "bad-request"),
    ],
)
def test_bad_requests_get_a_clear_json_error(
    handlers: Handlers,
    method: str,
    path: str,
    query: dict[str, str],
    body: object,
    status: int,
    code: str,
) -> None:
    http, _ = handlers
    got_status, got_body, _ = call(http, method, path, query, body)
    assert got_status == status
    assert got_body["error"] == code and got_body["message"]


def test_a_cross_site_write_is_refused(handlers: Handlers) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    status, body, _ = call(
        http,
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"text": wire_text("b"), "clientId": "c"},
        cookie=ann,
        headers={"origin": "https://evil.example"},
    )
    assert (status, body["error"]) == (403, "forbidden")
    assert call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)[1]["messages"] == []


def test_openapi_document_is_served(handlers: Handlers) -> None:
    http, _ = handlers
    status, spec, _ = call(http, "GET", "/api/openapi.json")
    assert status == 200 and "/api/messages" in spec["paths"]


def test_each_request_and_event_is_one_json_log_line_without_secrets(
    handlers: Handlers, capsys: pytest.CaptureFixture[str]
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(websocket_event("$connect", "L1=", room_id, ann), None)
    send(http, room_id, bob, "secret words")
    ws.on_default(websocket_event("$default", "L1=", body='{"action":"ping"}'), None)
    ws.on_disconnect(websocket_event("$disconnect", "L1="), None)
    output = capsys.readouterr().out
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["route"] for r in records] == [
        "POST /api/room/create",
        "POST /api/room/join",
        "POST /api/room/join",
        "$connect",
        "POST /api/messages",
        "$default",
        "$disconnect",
    ]
    for record in records:
        assert record["status"] == 200 and record["durationMs"] >= 0 and record["requestId"]
        assert set(record) <= {"kind", "requestId", "connectionId", "route", "status", "durationMs"}
    assert {r["connectionId"] for r in records if r["kind"] == "ws"} == {"L1="}
    words = wire_text("secret words")
    for secret in (ann, bob, ann.split(".")[1], bob.split(".")[1], words, PROOF):
        assert secret not in output


def test_a_large_body_without_content_length_is_refused_too(handlers: Handlers) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    event = http_event(
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"text": "y" * 40_000, "clientId": "c"},
        cookie=ann,
    )
    del event["headers"]["content-length"]
    response = http(event, None)
    assert response["statusCode"] == 413
    assert call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)[1]["messages"] == []


def test_a_json_body_not_in_utf8_is_refused_and_stores_nothing(handlers: Handlers) -> None:
    """RFC 8259: JSON between systems is UTF-8; json.loads alone would guess UTF-16."""
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        for path, query, body in (
            ("/api/messages", {"roomId": room_id}, {"text": wire_text("hi"), "clientId": "c"}),
            ("/api/room/create", {}, {"verifier": VERIFIER}),
        ):
            raw = json.dumps(body).encode(encoding)
            event = http_event("POST", path, query, cookie=ann, headers={"origin": SITE})
            event["headers"] |= {
                "content-type": "application/json",
                "content-length": str(len(raw)),
            }
            event |= {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
            response = http(event, None)
            assert response["statusCode"] == 400, (encoding, response)
            assert json.loads(response["body"]) == {
                "error": "bad-request",
                "message": "The body must be JSON in UTF-8.",
            }
    assert call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)[1]["messages"] == []


# README, "History pages": the largest answer of GET /api/messages.
LARGEST_PAGE_BYTES = 2_030_000


@pytest.mark.parametrize("size", [PAGE_TEXT_BYTES // PAGE_MESSAGES, TEXT_MAX_CHARS])
def test_the_largest_history_page_is_at_most_the_stated_bytes(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """200 texts that make exactly the page's 2 MB (the worst case), or 200 of the
    largest (2.2 MB: the page ends earlier), with both hellos at their largest;
    measured as FastAPI answers and as the Lambda runtime sends it (JSON again)."""
    http, _ = handlers
    generous = Limit(10_000, 60)
    monkeypatch.setattr(wiring.service(), "_limits", Limits(generous, generous))
    room_id, ann, bob = create_and_join(http)
    for cookie, letter in ((ann, "a"), (bob, "b")):
        hello = {"generation": 10_000, "commit": key32(letter), "mac": key32(letter)}
        call(
            http,
            "POST",
            "/api/room/hello",
            {"roomId": room_id},
            {**hello, "pub": key32(letter)},
            cookie=cookie,
            headers={"origin": SITE},
        )
    for i in range(PAGE_MESSAGES):
        assert send(http, room_id, ann if i % 2 else bob, f"{i}", size)[0] == 200
    response = http(http_event("GET", "/api/messages", {"roomId": room_id}, cookie=ann), None)
    page = json.loads(response["body"])
    assert len(page["hellos"]) == 2
    assert len(page["messages"]) == min(PAGE_MESSAGES, PAGE_TEXT_BYTES // size)
    assert len(response["body"].encode()) < len(json.dumps(response)) <= LARGEST_PAGE_BYTES


def test_a_forged_viewer_address_does_not_escape_the_room_creation_limit(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTTP API's endpoint is public: only CloudFront's secret makes its
    viewer address header believable (it was: 25 of 25 forged creations passed)."""
    wiring.configure(
        replace(
            wiring.settings(),
            room_creations_per_minute=2,
            origin_verify_secret="the-secret-cloudfront-sends",
        )
    )
    http, _ = handlers
    peer = f"192.0.2.{secrets.randbelow(250)}"  # a window of its own (the store lives on)

    def create(headers: dict[str, str]) -> int:
        event = http_event("POST", "/api/room/create", body={"verifier": VERIFIER}, headers=headers)
        event["requestContext"]["http"]["sourceIp"] = peer
        return int(http(event, None)["statusCode"])

    forged = [create({"cloudfront-viewer-address": f"198.51.100.{i}:443"}) for i in range(4)]
    assert forged == [200, 200, 429, 429]
    through_cloudfront = {
        "cloudfront-viewer-address": "198.51.100.77:443",
        "x-origin-verify": "the-secret-cloudfront-sends",
    }
    assert create(through_cloudfront) == 200


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the root logger writes, formatted as in Lambda (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_route_that_raises_is_a_json_500_with_its_log_lines(
    handlers: Handlers,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    log_lines: io.StringIO,
) -> None:
    """The request log sat inside Starlette's error handler: a 500 wrote no line."""
    http, _ = handlers

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(wiring.service(), "expires_at", broken)
    event = http_event("GET", "/api/room/ttl", {"roomId": "Z" * 21})
    response = http(event, None)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == "internal"
    assert response["headers"]["cache-control"] == "no-store"
    captured = capsys.readouterr()
    [line] = [json.loads(x) for x in captured.out.splitlines()]
    request_id = event["requestContext"]["requestId"]
    assert line == {**line, "status": 500, "requestId": request_id}
    ours = [e for e in _json_lines(log_lines) if e["logger"].startswith("privochat")]
    assert [(e["level"], e["requestId"]) for e in ours] == [("ERROR", request_id)]


def test_other_log_lines_carry_the_event_ids(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    _, ws = handlers

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(wiring.service(), "ping", broken)
    event = websocket_event("$default", "E1=", body='{"action":"ping"}')
    assert ws.on_default(event, None)["statusCode"] == 500
    [error] = [e for e in _json_lines(log_lines) if e["level"] == "ERROR"]
    assert error["connectionId"] == "E1="
    assert error["requestId"] == event["requestContext"]["requestId"]


def test_api_answers_are_never_cached(handlers: Handlers) -> None:
    http, _ = handlers
    for args in (("POST", "/api/room/create"), ("GET", "/api/room/ttl", {"roomId": "bad"})):
        _, _, response = call(http, *args)
        assert response["headers"]["cache-control"] == "no-store"
