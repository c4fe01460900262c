"""The shapes of the HTTP API's bodies and query parameters (pydantic), from
which FastAPI validates requests and writes the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from .domain import (
    CLIENT_ID_MAX_CHARS,
    CLIENT_ID_PATTERN,
    ID_PATTERN,
    KEY_PATTERN,
    MAX_GENERATION,
    TEXT_MAX_CHARS,
    WIRE_TEXT_PATTERN,
)


class ErrorBody(BaseModel):
    error: str
    message: str


def _whole(pattern: str) -> str:
    """A pattern of domain.py (the one source) for the whole value, as JSON Schema wants it."""
    return f"^{pattern}$"


def _key_field(description: str, default: Any = ...) -> Any:
    return Field(
        default, min_length=43, max_length=43, pattern=_whole(KEY_PATTERN), description=description
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
    # When the room ends, ms since the epoch: the page counts down to it and asks no more.
    expiresAt: int
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
    expiresAt: int


class RoomStatus(BaseModel):
    """`GET /api/room/status`: whether the room exists and whether this browser's cookie
    holds a seat in it (nothing else: no TTL, no count of seats)."""

    exists: bool
    seated: bool
    # POST only, with the link's proof: both seats are taken by others (what a join would say).
    full: bool = False


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

    text: str = Field(
        max_length=TEXT_MAX_CHARS,
        pattern=WIRE_TEXT_PATTERN,
        description="the sealed wire text: <version>.<epoch>.<base64url>, version 3 today (docs/protocol.md)",
    )
    clientId: str = Field(
        min_length=1, max_length=CLIENT_ID_MAX_CHARS, pattern=_whole(CLIENT_ID_PATTERN)
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error answers a route may give, each with the one error body. Every route
    may also answer 400 (a malformed query or body), 413 (body too large), 422 (malformed
    input) and 503."""
    return {status: {"model": ErrorBody} for status in (*statuses, 400, 413, 422, 503)}


RoomId = Annotated[
    str, Query(alias="roomId", pattern=_whole(ID_PATTERN), description="21 URL-safe characters")
]
MessageId = Annotated[str | None, Query(pattern=_whole(ID_PATTERN), description="a message id")]
