"""The WebSocket API's routes ($connect, $disconnect, $default) as plain Lambda
handlers over API Gateway events. No FastAPI here: each import is paid on every
cold start."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from . import wiring
from .cookies import parse_cookie_header, room_token
from .domain import BadRequest, ChatError, check_receipt, check_room_id
from .errors import error_body, error_of
from .gateway_events import LambdaResponse, WebSocketEvent
from .logs import event_ids, log_event

log = logging.getLogger(__name__)

_OK: LambdaResponse = {"statusCode": 200}
Route = Callable[[WebSocketEvent], LambdaResponse]


def _route(name: str) -> Callable[[Route], Callable[[WebSocketEvent, Any], LambdaResponse]]:
    """A Lambda handler for one route: its log lines carry the event's IDs, a
    refusal becomes its status, anything unexpected a 500, and each event ends
    with one line saying how it went."""

    def wrap(route: Route) -> Callable[[WebSocketEvent, Any], LambdaResponse]:
        @functools.wraps(route)
        def handler(event: WebSocketEvent, context: Any = None) -> LambdaResponse:
            started = time.perf_counter()
            ids = event["requestContext"]
            with event_ids(ids.get("requestId", "-"), ids["connectionId"]):
                try:
                    response = route(event)
                except ChatError as error:
                    status, body = error_of(error)
                    response = {"statusCode": status, "body": json.dumps(body)}
                except Exception:
                    log.exception("unhandled error")
                    response = _refusal(500, "internal")
                log_event(kind="ws", route=name, status=response["statusCode"], started=started)
                return response

        return handler

    return wrap


def _header(event: WebSocketEvent, name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _refusal(status: int, code: str, message: str | None = None) -> LambdaResponse:
    return {"statusCode": status, "body": json.dumps(error_body(code, message))}


@_route("$connect")
def on_connect(event: WebSocketEvent) -> LambdaResponse:
    """Refuses the upgrade (nothing stored) unless the cookie is a participant's."""
    if not wiring.settings().origin_allowed(_header(event, "origin")):
        return _refusal(403, "forbidden")
    room_id = (event.get("queryStringParameters") or {}).get("roomId")
    token = room_token(parse_cookie_header(_header(event, "cookie")), room_id or "")
    wiring.service().connect(room_id, token, event["requestContext"]["connectionId"])
    return _OK


@_route("$disconnect")
def on_disconnect(event: WebSocketEvent) -> LambdaResponse:
    # A refusal is only logged: the connection is gone either way, and its keys
    # expire with the room.
    wiring.service().disconnect(event["requestContext"]["connectionId"])
    return _OK


@_route("$default")
def on_default(event: WebSocketEvent) -> LambdaResponse:
    """`{"action": "ping"}`, `{"action": "typing"}` and `{"action": "receipt", "text":
    <sealed>}`, each optionally with the page's `"roomId"` (the store checks the
    connection is that room's; naming it saves the lookup of the connection's room:
    one billed command instead of two); anything else is answered with a bad-request
    error on the connection and changes nothing. A frame past the connection's budget
    is a 429 (the service tells it why and hangs up)."""
    connection_id = event["requestContext"]["connectionId"]
    chat = wiring.service()
    try:
        action, room_id, frame = _action(event)
        receipt = check_receipt(frame.get("text")) if action == "receipt" else None
    except BadRequest as error:
        chat.reply(connection_id, {"type": "error", "error": error.code, "message": str(error)})
        raise
    if action == "ping":
        known = chat.ping(connection_id, room_id)
    elif receipt is not None:
        # Relayed to the other participant, never stored (docs/protocol.md, receipts).
        known = chat.relay(connection_id, {"type": "receipt", "text": receipt}, room_id)
    else:
        known = chat.typing(connection_id, room_id)
    return _OK if known else _refusal(410, "room-not-found")


_ACTIONS = ("ping", "typing", "receipt")


def _action(event: WebSocketEvent) -> tuple[str, str | None, dict[str, Any]]:
    if event.get("isBase64Encoded"):
        raise BadRequest('Binary frames are not understood; send JSON like {"action": "ping"}.')
    try:
        frame = json.loads(event.get("body") or "")
        action, room_id = frame.get("action"), frame.get("roomId")
    except (ValueError, AttributeError, RecursionError):
        raise BadRequest('Send JSON like {"action": "ping"} or {"action": "typing"}.') from None
    if action not in _ACTIONS:
        raise BadRequest('Unknown action; use "ping", "typing" or "receipt".')
    if room_id is not None:
        room_id = check_room_id(room_id if isinstance(room_id, str) else None)
    return str(action), room_id, frame
