"""API Gateway events as Lambda receives them, for calling handlers directly."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

if TYPE_CHECKING:
    from privochat.gateway_events import WebSocketEvent


def http_event(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: object | str | None = None,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event."""
    all_headers = {
        "host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        body = body if isinstance(body, str) else json.dumps(body)
        all_headers |= {
            "content-type": "application/json",
            "content-length": str(len(body.encode())),
        }
    all_headers |= headers or {}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": all_headers["host"],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if cookie:
        event["cookies"] = [f"x-auth-token={cookie}"]
    if body is not None:
        event["body"] = body
    return event


def ws_event(
    route: str,
    connection_id: str,
    room_id: str | None = None,
    cookie: str | None = None,
    body: str | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """A WebSocket API event for `$connect`, `$disconnect` or `$default`."""
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "domainName": "ws123.execute-api.eu-west-1.amazonaws.com",
            "stage": "prod",
            "apiId": "ws123",
            "requestId": str(uuid.uuid4()),
        },
        "isBase64Encoded": False,
    }
    if route == "$connect":
        headers = {"Host": "chat.example.com"}
        if cookie:
            headers["Cookie"] = f"theme=dark; x-auth-token={cookie}"
        if origin:
            headers["Origin"] = origin
        event["headers"] = headers
        if room_id is not None:
            event["queryStringParameters"] = {"roomId": room_id}
    if body is not None:
        event["body"] = body
    return event


def websocket_event(
    route: str,
    connection_id: str,
    room_id: str | None = None,
    cookie: str | None = None,
    body: str | None = None,
    origin: str | None = None,
) -> WebSocketEvent:
    """ws_event, typed as the handlers take it: the event holds every field of
    WebSocketEvent, and more, as API Gateway's does."""
    return cast("WebSocketEvent", ws_event(route, connection_id, room_id, cookie, body, origin))
