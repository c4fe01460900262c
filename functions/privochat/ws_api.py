"""The WebSocket API's routes ($connect, $disconnect, $default) as plain Lambda
handlers over API Gateway events. No FastAPI here: each import is paid on every
cold start."""

from __future__ import annotations

import json
import time
from typing import Any

from . import wiring
from .cookies import parse_cookie_header, room_token
from .domain import BadRequest, ChatError
from .events import LambdaResponse, WebSocketEvent
from .logs import log_event
from .wire import error_body, error_of

_OK: LambdaResponse = {"statusCode": 200}


def _header(event: WebSocketEvent, name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _refusal(status: int, code: str, message: str | None = None) -> LambdaResponse:
    return {"statusCode": status, "body": json.dumps(error_body(code, message))}


def _failed(error: ChatError) -> LambdaResponse:
    status, body = error_of(error)
    return {"statusCode": status, "body": json.dumps(body)}


def _logged(
    route: str, event: WebSocketEvent, started: float, response: LambdaResponse
) -> LambdaResponse:
    context = event["requestContext"]
    log_event(
        kind="ws",
        request_id=context.get("requestId", "-"),
        route=route,
        status=response["statusCode"],
        started=started,
        connection_id=context["connectionId"],
    )
    return response


def on_connect(event: WebSocketEvent, context: Any = None) -> LambdaResponse:
    """Refuses the upgrade (nothing stored) unless the cookie is a participant's."""
    started = time.perf_counter()
    if not wiring.settings().origin_allowed(_header(event, "origin")):
        return _logged("$connect", event, started, _refusal(403, "forbidden"))
    room_id = (event.get("queryStringParameters") or {}).get("roomId")
    token = room_token(parse_cookie_header(_header(event, "cookie")), room_id or "")
    connection_id = event["requestContext"]["connectionId"]
    try:
        wiring.service().connect(room_id, token, connection_id)
        response = _OK
    except ChatError as error:
        response = _failed(error)
    return _logged("$connect", event, started, response)


def on_disconnect(event: WebSocketEvent, context: Any = None) -> LambdaResponse:
    started = time.perf_counter()
    try:
        wiring.service().disconnect(event["requestContext"]["connectionId"])
        response = _OK
    except ChatError as error:
        # The connection is gone either way; its keys expire with the room.
        response = _failed(error)
    return _logged("$disconnect", event, started, response)


def on_default(event: WebSocketEvent, context: Any = None) -> LambdaResponse:
    """`{"action": "ping"}` and `{"action": "typing"}`; anything else is answered
    with a bad-request error on the connection and changes nothing."""
    started = time.perf_counter()
    connection_id = event["requestContext"]["connectionId"]
    chat = wiring.service()
    try:
        action = _action(event.get("body"))
        known = chat.ping(connection_id) if action == "ping" else chat.typing(connection_id)
        response = _OK if known else _refusal(410, "room-not-found")
    except BadRequest as error:
        chat.reply(connection_id, {"type": "error", "error": error.code, "message": str(error)})
        response = _failed(error)
    except ChatError as error:
        response = _failed(error)
    return _logged("$default", event, started, response)


def _action(body: str | None) -> str:
    try:
        action = json.loads(body or "").get("action")
    except (ValueError, AttributeError):
        raise BadRequest('Send JSON like {"action": "ping"} or {"action": "typing"}.') from None
    if action not in ("ping", "typing"):
        raise BadRequest('Unknown action; use "ping" or "typing".')
    return str(action)
