"""What every HTTP request passes before a route: a body size limit and UTF-8
check, an Origin check for writes, and one log line (with Cache-Control:
no-store on the answer). Raw ASGI where it must act before FastAPI parses anything."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .errors import STATUS_BY_CODE, error_body
from .logs import event_ids, log_event

log = logging.getLogger(__name__)


class BodyCheck:
    """Refuses a body over the limit with 413 before anything parses it: by its
    Content-Length when it has one, else by what arrives (read up to the limit).
    Then refuses one that is not UTF-8 with 400: JSON between systems is UTF-8
    (RFC 8259), but json.loads would guess UTF-16 or UTF-32 from zero bytes."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.settings().max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > max_bytes:
            await send_error(send, "payload-too-large")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > max_bytes:
                await send_error(send, "payload-too-large")
                return
        if not _is_utf8_text(body):
            await send_error(send, "bad-request", "The body must be JSON in UTF-8.")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _is_utf8_text(body: bytes) -> bool:
    # A JSON text never holds a raw zero byte (it must be escaped), while UTF-16
    # or UTF-32 of ASCII is valid UTF-8 full of them.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in body


class OriginCheck:
    """State-changing requests from a foreign origin are refused (CSRF defence
    besides the SameSite=Strict cookie and JSON-only bodies)."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = dict(scope["headers"]).get(b"origin")
            if not self.settings().origin_allowed(origin.decode() if origin else None):
                await send_error(send, "forbidden")
                return
        await self.app(scope, receive, send)


async def send_error(send: Send, code: str, message: str | None = None) -> None:
    status = STATUS_BY_CODE[code]
    response = JSONResponse(error_body(code, message), status_code=status)
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": response.raw_headers,
    }
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


async def log_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """One JSON line per request, failed ones too; every line written meanwhile
    carries the request ID."""
    started = time.perf_counter()
    event = request.scope.get("aws.event") or {}
    route = f"{request.method} {request.url.path}"
    with event_ids(event.get("requestContext", {}).get("requestId", "-")):
        try:
            response = await call_next(request)
        except Exception:
            # Starlette answers 500 outside this middleware: log it here.
            log.exception("unhandled error")
            log_event(kind="http", route=route, status=500, started=started)
            raise
        # Answers are for one participant at one moment: no cache may keep them.
        response.headers["Cache-Control"] = "no-store"
        log_event(kind="http", route=route, status=response.status_code, started=started)
        return response
