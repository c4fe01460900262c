"""The HTTP API (`/api/*`): a FastAPI app, wrapped by Mangum for API Gateway
HTTP API events (payload v2). Routes parse, call the service, shape the answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import wiring
from .client_address import client_address
from .config import Settings
from .cookies import cookie_name, parse_cookie_header, room_token, with_room_token
from .domain import (
    CLIENT_ID_MAX_CHARS,
    MAX_GENERATION,
    TEXT_MAX_CHARS,
    ChatError,
    RateLimited,
    Unavailable,
)
from .logs import event_ids, log_event
from .payloads import hello_payload, message_payload
from .service import ChatService
from .wire import STATUS_BY_CODE, error_body, error_of

log = logging.getLogger(__name__)
# Our own line per request (logs.py) says more; Mangum's would repeat it.
logging.getLogger("mangum").setLevel(logging.WARNING)


class ErrorBody(BaseModel):
    error: str
    message: str


_KEY_PATTERN = r"^[0-9A-Za-z_-]{42}[AEIMQUYcgkosw048]$"  # base64url of 32 bytes, no padding


def _key_field(description: str, default: Any = ...) -> Any:
    return Field(
        default, min_length=43, max_length=43, pattern=_KEY_PATTERN, description=description
    )


class CreateRoom(BaseModel):
    verifier: str = _key_field("SHA-256 of the join proof derived from the link key")


class JoinRoom(BaseModel):
    proof: str = _key_field("the join proof derived from the link key")


class RoomCreated(BaseModel):
    roomId: str
    ttl: int


class HelloOut(BaseModel):
    seat: int
    generation: int
    commit: str
    mac: str
    pub: str | None = None


class RoomJoined(BaseModel):
    roomId: str
    ttl: int
    participants: int
    seat: int
    hellos: list[HelloOut]


class PublishHello(BaseModel):
    generation: int = Field(ge=1, le=MAX_GENERATION)
    commit: str = _key_field("commitment to the ephemeral public key")
    mac: str = _key_field("HMAC of the commitment under the link's hello key")
    pub: str | None = _key_field("the ephemeral X25519 public key, once revealed", default=None)


class HelloPublished(BaseModel):
    hello: HelloOut


class RoomTtl(BaseModel):
    ttl: int


class RoomDestroyed(BaseModel):
    destroyed: bool


class MessageOut(BaseModel):
    id: str
    seat: int
    text: str
    timestamp: int
    own: bool


class MessageList(BaseModel):
    messages: list[MessageOut]
    hellos: list[HelloOut]
    more: bool


class MessageSent(BaseModel):
    message: MessageOut


class SendMessage(BaseModel):
    # A `sender` from a version 1 client is ignored: names travel inside the text.
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=TEXT_MAX_CHARS)
    clientId: str = Field(min_length=1, max_length=CLIENT_ID_MAX_CHARS, pattern=r"^[0-9A-Za-z_-]+$")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error answers a route may give, each with the one error body. Every route
    may also answer 400 (a malformed query or body), 413 (body too large), 422 (malformed
    input) and 503."""
    return {status: {"model": ErrorBody} for status in (*statuses, 400, 413, 422, 503)}


_ID_PATTERN = r"^[0-9A-Za-z_-]{21}$"
RoomId = Annotated[
    str, Query(alias="roomId", pattern=_ID_PATTERN, description="21 URL-safe characters")
]
MessageId = Annotated[str | None, Query(pattern=_ID_PATTERN, description="a message id")]


def _cookies(request: Request) -> dict[str, str]:
    return parse_cookie_header(request.headers.get("cookie"))


Cookies = Annotated[dict[str, str], Depends(_cookies)]


class BodyLimit:
    """Refuses a body over the limit with 413 before anything parses it: by its
    Content-Length when it has one, else by what arrives (read up to the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await _send_error(send, "payload-too-large")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await _send_error(send, "payload-too-large")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


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
                await _send_error(send, "forbidden")
                return
        await self.app(scope, receive, send)


async def _send_error(send: Send, code: str) -> None:
    status = STATUS_BY_CODE[code]
    response = JSONResponse(error_body(code), status_code=status)
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": response.raw_headers,
    }
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


def _allowed_methods(app: FastAPI, scope: Scope) -> str:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def _set_cookie(
    response: Response,
    request: Request,
    cookies: dict[str, str],
    room_id: str,
    token: str,
    max_age: int,
) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(
        cookie_name(secure),
        with_room_token(cookies, room_id, token),
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def chat_service() -> ChatService:
    """The service, built once per cold start (tests override this dependency)."""
    return wiring.service()


Service = Annotated[ChatService, Depends(chat_service)]


def create_app(settings: Callable[[], Settings] = wiring.settings) -> FastAPI:
    app = FastAPI(
        title="PrivoChat API",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's docs page loads its script from a CDN
        redoc_url=None,
    )
    app.add_middleware(OriginCheck, settings=settings)
    app.add_middleware(BodyLimit, max_bytes=settings().max_body_bytes)

    @app.middleware("http")
    async def log_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
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

    @app.exception_handler(ChatError)
    async def chat_error(_: Request, error: ChatError) -> JSONResponse:
        status, body = error_of(error)
        headers = (
            {"Retry-After": str(error.retry_after_seconds)}
            if isinstance(error, RateLimited)
            else None
        )
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = tuple(first.get("loc", ()))
        where = ".".join(str(part) for part in location if part != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid")
        )
        # The contract: a malformed room ID (the query) is a 400, a malformed body a 422.
        status = 400 if location[:1] == ("query",) else 422
        return JSONResponse(error_body("bad-request", message), status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = "not-found" if error.status_code == 404 else "bad-request"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Starlette names only the first route's methods; a path may have several.
            headers["Allow"] = _allowed_methods(app, request.scope)
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=headers
        )

    @app.exception_handler(Exception)
    async def crash(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            error_body("internal", "Something went wrong on our side."),
            status_code=500,
            headers={"Cache-Control": "no-store"},
        )

    @app.post("/api/room/create", responses=_errors(403, 429))
    def create_room(body: CreateRoom, request: Request, chat: Service) -> RoomCreated:
        client = client_address(
            request.headers,
            request.client.host if request.client else "unknown",
            settings().origin_verify_secret,
        )
        room_id, ttl = chat.create_room(client, body.verifier)
        return RoomCreated(roomId=room_id, ttl=ttl)

    @app.post(
        "/api/room/join",
        response_model=RoomJoined,
        response_model_exclude_none=True,
        responses=_errors(400, 403, 404, 409),
    )
    def join_room(
        body: JoinRoom,
        request: Request,
        response: Response,
        chat: Service,
        roomId: RoomId,
        cookies: Cookies,
    ) -> RoomJoined | JSONResponse:
        token = chat.seat_token(roomId, room_token(cookies, roomId))
        max_age = settings().room_ttl_seconds
        try:
            joined = chat.join(roomId, token, body.proof)
        except Unavailable as error:
            # The store may have seated this token before its answer was lost:
            # the browser gets it now, so that its retry lands in the same seat.
            status, error_json = error_of(error)
            failed = JSONResponse(error_json, status_code=status)
            _set_cookie(failed, request, cookies, roomId, token, max_age)
            return failed
        _set_cookie(response, request, cookies, roomId, token, max_age)
        return RoomJoined(
            roomId=joined.room_id,
            ttl=joined.ttl,
            participants=joined.participants,
            seat=joined.seat,
            hellos=[HelloOut.model_validate(hello_payload(each)) for each in joined.hellos],
        )

    @app.post(
        "/api/room/hello",
        response_model_exclude_none=True,
        responses=_errors(400, 401, 403, 404),
    )
    def publish_hello(
        body: PublishHello, chat: Service, roomId: RoomId, cookies: Cookies
    ) -> HelloPublished:
        published = chat.publish_hello(
            roomId, room_token(cookies, roomId), body.generation, body.commit, body.mac, body.pub
        )
        return HelloPublished(hello=HelloOut.model_validate(hello_payload(published)))

    @app.get("/api/room/ttl", responses=_errors(400, 401, 404))
    def room_ttl(chat: Service, roomId: RoomId, cookies: Cookies) -> RoomTtl:
        return RoomTtl(ttl=chat.ttl(roomId, room_token(cookies, roomId)))

    @app.delete("/api/room", responses=_errors(400, 401, 403, 404))
    def destroy_room(chat: Service, roomId: RoomId, cookies: Cookies) -> RoomDestroyed:
        chat.destroy(roomId, room_token(cookies, roomId))
        return RoomDestroyed(destroyed=True)

    @app.get("/api/messages", response_model_exclude_none=True, responses=_errors(400, 401, 404))
    def list_messages(
        chat: Service, roomId: RoomId, cookies: Cookies, after: MessageId = None
    ) -> MessageList:
        history = chat.messages(roomId, room_token(cookies, roomId), after)
        return MessageList(
            messages=[
                MessageOut.model_validate(message_payload(each, each.seat == history.seat))
                for each in history.messages
            ],
            hellos=[HelloOut.model_validate(hello_payload(each)) for each in history.hellos],
            more=history.more,
        )

    @app.post("/api/messages", responses=_errors(400, 401, 403, 404, 429))
    def send_message(
        body: SendMessage, chat: Service, roomId: RoomId, cookies: Cookies
    ) -> MessageSent:
        stored = chat.send(roomId, room_token(cookies, roomId), body.text, body.clientId)
        return MessageSent(message=MessageOut.model_validate(message_payload(stored, own=True)))

    return app


app = create_app()
handler = Mangum(app, lifespan="off", api_gateway_base_path="/")
