"""The HTTP API (`/api/*`; its contract is docs/api.md): a FastAPI app, wrapped
by Mangum for API Gateway HTTP API events (payload v2). Routes parse, call the
service, shape the answer (async: a Lambda environment serves one request at a
time, so the blocking store call costs nothing, and the threadpool hop of sync
routes cost a third of the CPU); bodies are in http_schemas.py, what runs around
them in http_middleware.py and http_errors.py."""

from __future__ import annotations

import logging
from typing import Annotated

from . import lazy_models  # noqa: F401  (first: before FastAPI defines its models)

# isort: split
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from mangum import Mangum

from . import wiring
from .client_address import client_address
from .cookies import cookie_name, parse_cookie_header, room_token, with_room_token
from .domain import RoomNotFound, Unauthorized, Unavailable
from .errors import error_of
from .http_errors import add_error_handlers
from .http_middleware import BodyCheck, OriginCheck, log_request
from .http_schemas import (
    CreateRoom,
    HelloOut,
    HelloPublished,
    JoinRoom,
    MessageId,
    MessageList,
    MessageOut,
    MessageSent,
    PublishHello,
    RoomCreated,
    RoomDestroyed,
    RoomId,
    RoomJoined,
    RoomStatus,
    RoomTtl,
    SendMessage,
    error_responses,
)
from .payloads import hello_payload, message_payload
from .service import ChatService

# Our own line per request (logs.py) says more; Mangum's would repeat it.
logging.getLogger("mangum").setLevel(logging.WARNING)


async def _cookies(request: Request) -> dict[str, str]:
    return parse_cookie_header(request.headers.get("cookie"))


Cookies = Annotated[dict[str, str], Depends(_cookies)]


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


async def chat_service() -> ChatService:
    """The service, built at the first request of a cold start (wiring.py)."""
    return wiring.service()


Service = Annotated[ChatService, Depends(chat_service)]


def create_app() -> FastAPI:
    """The app; it reads its settings per request from wiring.py, never at import."""
    app = FastAPI(
        title="PrivoChat API",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's docs page loads its script from a CDN
        redoc_url=None,
    )
    app.add_middleware(OriginCheck, settings=wiring.settings)
    app.add_middleware(BodyCheck, settings=wiring.settings)

    app.middleware("http")(log_request)
    add_error_handlers(app)

    @app.post("/api/room/create", responses=error_responses(403, 429))
    async def create_room(body: CreateRoom, request: Request, chat: Service) -> RoomCreated:
        client = client_address(
            request.headers,
            request.client.host if request.client else "unknown",
            wiring.settings().origin_verify_secret,
        )
        room_id, ttl = chat.create_room(client, body.verifier)
        return RoomCreated(roomId=room_id, ttl=ttl)

    @app.post(
        "/api/room/join",
        response_model=RoomJoined,
        response_model_exclude_none=True,
        responses=error_responses(400, 403, 404, 409),
    )
    async def join_room(
        body: JoinRoom,
        request: Request,
        response: Response,
        chat: Service,
        roomId: RoomId,
        cookies: Cookies,
    ) -> RoomJoined | JSONResponse:
        token = chat.seat_token(roomId, room_token(cookies, roomId))
        max_age = wiring.settings().room_ttl_seconds
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
            expiresAt=joined.expires_at_ms,
            participants=joined.participants,
            seat=joined.seat,
            hellos=[HelloOut.model_validate(hello_payload(each)) for each in joined.hellos],
        )

    @app.post(
        "/api/room/hello",
        response_model_exclude_none=True,
        responses=error_responses(400, 401, 403, 404, 429),
    )
    async def publish_hello(
        body: PublishHello, chat: Service, roomId: RoomId, cookies: Cookies
    ) -> HelloPublished:
        published = chat.publish_hello(
            roomId, room_token(cookies, roomId), body.generation, body.commit, body.mac, body.pub
        )
        return HelloPublished(hello=HelloOut.model_validate(hello_payload(published)))

    @app.get("/api/room/ttl", responses=error_responses(400, 401, 404))
    async def room_ttl(chat: Service, roomId: RoomId, cookies: Cookies) -> RoomTtl:
        expires_at = chat.expires_at(roomId, room_token(cookies, roomId))
        return RoomTtl(ttl=chat.seconds_until(expires_at), expiresAt=expires_at)

    @app.get("/api/room/status", responses=error_responses(400))
    async def room_status(chat: Service, roomId: RoomId, cookies: Cookies) -> RoomStatus:
        # Read-only, before any Join: whether the room exists (what a join with any
        # proof already tells: 404 or 403) and whether this browser sits in it. The
        # TTL read below changes nothing and is answered only to a seat. A room that
        # is gone is an answer (200), not an error: the page asked, and shows it.
        token = chat.seat_token(roomId, room_token(cookies, roomId))
        try:
            chat.ttl(roomId, token)
        except Unauthorized:
            return RoomStatus(exists=True, seated=False)
        except RoomNotFound:
            return RoomStatus(exists=False, seated=False)
        return RoomStatus(exists=True, seated=True)

    @app.post("/api/room/status", responses=error_responses(400))
    async def room_door(
        chat: Service, roomId: RoomId, body: JoinRoom, cookies: Cookies
    ) -> RoomStatus:
        # The same question with the link's proof: also whether the room is full for this
        # caller (a join with that proof would say 409), still read only and no seat taken.
        exists, full = chat.door(roomId, room_token(cookies, roomId), body.proof)
        return RoomStatus(exists=exists, seated=False, full=full)

    @app.delete("/api/room", responses=error_responses(400, 401, 403, 404))
    async def destroy_room(chat: Service, roomId: RoomId, cookies: Cookies) -> RoomDestroyed:
        chat.destroy(roomId, room_token(cookies, roomId))
        return RoomDestroyed(destroyed=True)

    @app.get(
        "/api/messages", response_model_exclude_none=True, responses=error_responses(400, 401, 404)
    )
    async def list_messages(
        chat: Service, roomId: RoomId, cookies: Cookies, after: MessageId = None
    ) -> MessageList:
        history = chat.messages(roomId, room_token(cookies, roomId), after)
        return MessageList(
            messages=[
                MessageOut.model_validate(message_payload(each, history.seat))
                for each in history.messages
            ],
            hellos=[HelloOut.model_validate(hello_payload(each)) for each in history.hellos],
            more=history.more,
        )

    @app.post("/api/messages", responses=error_responses(400, 401, 403, 404, 409, 429))
    async def send_message(
        body: SendMessage, chat: Service, roomId: RoomId, cookies: Cookies
    ) -> MessageSent:
        stored = chat.send(roomId, room_token(cookies, roomId), body.text, body.clientId)
        return MessageSent(
            message=MessageOut.model_validate(message_payload(stored, reader_seat=stored.seat))
        )

    return app


app = create_app()
handler = Mangum(app, lifespan="off", api_gateway_base_path="/")
