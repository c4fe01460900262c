"""The Lambda handlers over API Gateway events: the real store (the upstash-redis
client on the embedded backend) and the pusher on moto's Management API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import pytest
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from privochat import wiring
from tests.functions.conftest import UpstashSetup
from tests.support.events import http_event, ws_event
from tests.support.gateway_faults import inject_faults, record_requests

SITE = "https://chat.example.com"


@pytest.fixture
def handlers(
    upstash_embedded: UpstashSetup, monkeypatch: pytest.MonkeyPatch, lambda_event_loop: None
) -> Iterator[Any]:
    for name, value in {
        "UPSTASH_REDIS_REST_URL": upstash_embedded.url,
        "UPSTASH_REDIS_REST_TOKEN": upstash_embedded.token,
        "WEBSOCKET_MANAGEMENT_URL": "https://ws123.execute-api.eu-west-1.amazonaws.com/prod",
        "ALLOWED_ORIGINS": SITE,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    with mock_aws():
        from privochat import http_api, ws_api

        yield http_api.handler, ws_api
    wiring.reset()


def posted(connection_id: str) -> list[dict[str, Any]]:
    """The events moto recorded for a connection (it keeps no frame boundaries)."""
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    connection = backend.connections.get(quote(connection_id, safe=""))
    raw = bytes(connection.data).decode() if connection else ""
    decoder, events, position = json.JSONDecoder(), [], 0
    while position < len(raw):
        event, position = decoder.raw_decode(raw, position)
        events.append(event)
    return events


def call(http: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = http(http_event(*args, **kwargs), None)
    return response["statusCode"], json.loads(response["body"]), response


def send(
    http: Any, room_id: str, token: str, text: str
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    return call(
        http,
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"sender": "x", "text": text},
        cookie=token,
    )


def create_and_join(http: Any) -> tuple[str, str, str]:
    _, created, _ = call(http, "POST", "/api/room/create", headers={"origin": SITE})
    room_id = created["roomId"]
    tokens = []
    for _ in range(2):
        status, _, response = call(http, "POST", "/api/room/join", {"roomId": room_id})
        assert status == 200
        cookie = SimpleCookie(response["cookies"][0])["x-auth-token"]
        tokens.append(cookie.value)
    return room_id, tokens[0], tokens[1]


def test_join_sets_a_strict_httponly_secure_cookie_and_never_returns_the_token(
    handlers: Any,
) -> None:
    http, _ = handlers
    _, created, _ = call(http, "POST", "/api/room/create")
    status, body, response = call(http, "POST", "/api/room/join", {"roomId": created["roomId"]})
    assert status == 200 and body == {"roomId": created["roomId"], "ttl": 600, "participants": 1}
    [cookie] = response["cookies"]
    morsel = SimpleCookie(cookie)["x-auth-token"]
    assert len(morsel.value) == 43
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/"
    assert morsel.value not in response["body"]


def test_a_message_is_stored_and_pushed_to_both_connections(handlers: Any) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    assert (
        ws.on_connect(ws_event("$connect", "A1=", room_id, ann, origin=SITE))["statusCode"] == 200
    )
    assert (
        ws.on_connect(ws_event("$connect", "B1=", room_id, bob, origin=SITE))["statusCode"] == 200
    )
    assert posted("A1=") == [{"type": "presence", "online": 2}]
    status, body, _ = send(http, room_id, ann, "hi bob")
    assert status == 200 and body["message"]["own"] is True
    assert posted("A1=")[-1] == {"type": "message", "message": body["message"]}
    assert posted("B1=")[-1] == {"type": "message", "message": {**body["message"], "own": False}}
    _, listed, _ = call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=bob)
    assert listed == {"messages": [{**body["message"], "own": False}]}


def test_ping_gets_a_pong_with_presence_and_typing_reaches_the_other(handlers: Any) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(ws_event("$connect", "A2=", room_id, ann))
    ws.on_connect(ws_event("$connect", "B2=", room_id, bob))
    assert ws.on_default(ws_event("$default", "B2=", body='{"action":"ping"}'))["statusCode"] == 200
    assert posted("B2=") == [{"type": "pong", "online": 2}]
    ws.on_default(ws_event("$default", "B2=", body='{"action":"typing"}'))
    assert posted("A2=")[-1] == {"type": "typing"}
    ws.on_disconnect(ws_event("$disconnect", "B2="))
    assert posted("A2=")[-1] == {"type": "presence", "online": 1}


@pytest.mark.parametrize("body", ["not json", "[]", '{"action":"shout"}', '{"nothing":1}', ""])
def test_unknown_websocket_actions_get_an_error_and_change_nothing(
    handlers: Any, body: str
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    ws.on_connect(ws_event("$connect", "A3=", room_id, ann))
    response = ws.on_default(ws_event("$default", "A3=", body=body))
    assert response["statusCode"] == 400
    assert posted("A3=")[-1]["type"] == "error" and posted("A3=")[-1]["error"] == "bad-request"
    _, listed, _ = call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)
    assert listed == {"messages": []}


def test_connect_is_refused_without_a_participants_cookie_and_stores_nothing(
    handlers: Any, upstash_embedded: UpstashSetup
) -> None:
    http, ws = handlers
    room_id, ann, _ = create_and_join(http)
    assert ws.on_connect(ws_event("$connect", "X1=", room_id))["statusCode"] == 401
    assert ws.on_connect(ws_event("$connect", "X2=", room_id, "f" * 43))["statusCode"] == 401
    assert ws.on_connect(ws_event("$connect", "X3=", "N" * 21, ann))["statusCode"] == 404
    assert ws.on_connect(ws_event("$connect", "X4=", "bad", ann))["statusCode"] == 400
    assert (
        ws.on_connect(ws_event("$connect", "X5=", room_id, ann, origin="https://evil.example"))[
            "statusCode"
        ]
        == 403
    )
    assert upstash_embedded.keys("conn:X*") == []


def test_a_gone_connection_is_pruned_and_the_sender_still_gets_200(
    handlers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(ws_event("$connect", "A4=", room_id, ann))
    ws.on_connect(ws_event("$connect", "B4=", room_id, bob))
    # A minute later (a 410 for a connection still connecting is not taken as gone).
    clock = wiring.service()._clock_ms
    monkeypatch.setattr(wiring.service(), "_clock_ms", lambda: clock() + 60_000)
    client = wiring.service()._pusher._client
    inject_faults(client, lambda c: 410 if c == "A4=" else None)
    status, body, _ = send(http, room_id, bob, "you there?")
    assert status == 200
    assert posted("B4=")[-1]["message"]["id"] == body["message"]["id"]
    assert wiring.service()._store.connections_of("A4=") is None
    assert wiring.service()._store.connections_of("B4=").seats == {"B4=": 2}


def test_destroy_pushes_destroy_to_both_then_everything_is_404(
    handlers: Any, upstash_embedded: UpstashSetup
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(ws_event("$connect", "A5=", room_id, ann))
    ws.on_connect(ws_event("$connect", "B5=", room_id, bob))
    requests = record_requests(wiring.service()._pusher._client)
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
        ("POST", "/api/room/join", {"roomId": "Z" * 21}, None, 404, "room-not-found"),
        ("GET", "/api/messages", {"roomId": "Z" * 21}, None, 401, "unauthorized"),
        ("POST", "/api/messages", {"roomId": "Z" * 21}, "not json", 422, "bad-request"),
        ("POST", "/api/messages", {"roomId": "Z" * 21}, {"sender": "a"}, 422, "bad-request"),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"sender": "a", "text": "x" * 8001},
            422,
            "bad-request",
        ),
        (
            "POST",
            "/api/messages",
            {"roomId": "Z" * 21},
            {"sender": "a", "text": "y" * 40_000},
            413,
            "payload-too-large",
        ),
        ("GET", "/api/nowhere", {}, None, 404, "not-found"),
        ("PUT", "/api/room", {}, None, 405, "bad-request"),
    ],
)
def test_bad_requests_get_a_clear_json_error(
    handlers: Any,
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


def test_a_cross_site_write_is_refused(handlers: Any) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    status, body, _ = call(
        http,
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"sender": "a", "text": "b"},
        cookie=ann,
        headers={"origin": "https://evil.example"},
    )
    assert (status, body["error"]) == (403, "forbidden")
    assert call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)[1] == {
        "messages": []
    }


def test_openapi_document_is_served(handlers: Any) -> None:
    http, _ = handlers
    status, spec, _ = call(http, "GET", "/api/openapi.json")
    assert status == 200 and "/api/messages" in spec["paths"]


def test_each_request_and_event_is_one_json_log_line_without_secrets(
    handlers: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http, ws = handlers
    room_id, ann, bob = create_and_join(http)
    ws.on_connect(ws_event("$connect", "L1=", room_id, ann))
    send(http, room_id, bob, "secret words")
    ws.on_default(ws_event("$default", "L1=", body='{"action":"ping"}'))
    ws.on_disconnect(ws_event("$disconnect", "L1="))
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
    for secret in (ann, bob, "secret words"):
        assert secret not in output


def test_a_large_body_without_content_length_is_refused_too(handlers: Any) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    event = http_event(
        "POST",
        "/api/messages",
        {"roomId": room_id},
        {"sender": "a", "text": "y" * 40_000},
        cookie=ann,
    )
    del event["headers"]["content-length"]
    response = http(event, None)
    assert response["statusCode"] == 413
    assert call(http, "GET", "/api/messages", {"roomId": room_id}, cookie=ann)[1] == {
        "messages": []
    }
