"""The rules of a PrivoChat room, free of HTTP, WebSocket and Redis.

A room has at most two participants, holds messages until it is destroyed or
expires, and is reached only by those participants. Identifiers are random and
unguessable; a participant's token is never stored, only its hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TypeGuard

MAX_PARTICIPANTS = 2
SENDER_MAX_CHARS = 100
# The browser limits plaintext to 1000 characters; its ciphertext is longer.
TEXT_MAX_CHARS = 8000
CLIENT_ID_MAX_CHARS = 64

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
_ID_LENGTH = 21  # nanoid-style: 21 symbols of 6 bits = 126 bits
_ROOM_ID = re.compile(r"[0-9A-Za-z_-]{21}")
_TOKEN = re.compile(r"[0-9A-Za-z_-]{43}")  # token_urlsafe(32): 256 bits
_CLIENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class ChatError(Exception):
    """A request the rules refuse; `code` is what the client is told."""

    code = "bad-request"


class BadRequest(ChatError):
    code = "bad-request"


class Unauthorized(ChatError):
    code = "unauthorized"


class RoomNotFound(ChatError):
    code = "room-not-found"


class RoomFull(ChatError):
    code = "room-full"


class RateLimited(ChatError):
    code = "rate-limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many requests; try again in {retry_after_seconds} s.")
        self.retry_after_seconds = retry_after_seconds


class Unavailable(ChatError):
    """The store cannot be reached or answered with an error; nothing was changed."""

    code = "unavailable"


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_token(value: str | None) -> TypeGuard[str]:
    return value is not None and _TOKEN.fullmatch(value) is not None


def check_room_id(room_id: str | None) -> str:
    if room_id is None or not _ROOM_ID.fullmatch(room_id):
        raise BadRequest("roomId must be 21 characters of A-Z, a-z, 0-9, '_' or '-'.")
    return room_id


def check_message_id(message_id: str) -> str:
    if not _ROOM_ID.fullmatch(message_id):
        raise BadRequest("after must be a message id (21 URL-safe characters).")
    return message_id


def participant_key(room_id: str, token: str) -> str:
    """What the store keeps instead of the token: a SHA-256 salted with the room,
    so that the same browser cannot be linked across rooms from the stored data."""
    return hashlib.sha256(f"{room_id}:{token}".encode()).hexdigest()


@dataclass(frozen=True)
class Message:
    id: str
    sender: str
    text: str
    timestamp: int  # ms since the epoch

    def to_wire(self, own: bool | None = None) -> dict[str, object]:
        wire: dict[str, object] = {
            "id": self.id,
            "sender": self.sender,
            "text": self.text,
            "timestamp": self.timestamp,
        }
        if own is not None:
            wire["own"] = own
        return wire


@dataclass(frozen=True)
class StoredMessage:
    """A message as the store keeps it: with the seat (1 or 2) of its author."""

    seat: int
    message: Message


def new_message(sender: str, text: str, now_ms: int) -> Message:
    if not 1 <= len(sender) <= SENDER_MAX_CHARS or not sender.strip():
        raise BadRequest(f"sender must be 1 to {SENDER_MAX_CHARS} characters.")
    if not 1 <= len(text) <= TEXT_MAX_CHARS or not text.strip():
        raise BadRequest(f"text must be 1 to {TEXT_MAX_CHARS} characters.")
    return Message(id=new_id(), sender=sender, text=text, timestamp=now_ms)


def check_client_id(client_id: str | None) -> str | None:
    if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
        raise BadRequest(f"clientId must be 1 to {CLIENT_ID_MAX_CHARS} URL-safe characters.")
    return client_id


@dataclass(frozen=True)
class Limit:
    """At most `max_requests` in each fixed window of `window_seconds`."""

    max_requests: int
    window_seconds: int


def hashed(value: str) -> str:
    """An identifier for rate limits that does not store who asked (an IP, say)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Seat:
    """Where a participant sits, and what the room looks like from there."""

    seat: int
    participants: int
    ttl: int


@dataclass(frozen=True)
class RoomConnections:
    """The WebSocket connections of a room, each with the seat of its participant."""

    room_id: str
    seats: dict[str, int]  # connection ID -> seat

    @property
    def online(self) -> int:
        """Participants connected now: two tabs of one person count once."""
        return len(set(self.seats.values()))

    def ids(
        self,
        *,
        only_seat: int | None = None,
        excluding_seat: int | None = None,
        excluding: str | None = None,
    ) -> list[str]:
        return [
            connection_id
            for connection_id, seat in self.seats.items()
            if seat != excluding_seat and connection_id != excluding and only_seat in (None, seat)
        ]
