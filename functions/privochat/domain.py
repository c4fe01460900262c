"""The rules of a PrivoChat room, free of HTTP, WebSocket and Redis.

A room has at most two participants, holds messages until it is destroyed or
expires, and is reached only by those participants. Identifiers are random and
unguessable; a participant's token is never stored, only its hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TypeGuard

MAX_PARTICIPANTS = 2
# WebSocket connections one participant may hold at once: a few tabs or devices,
# and a reconnect before the gateway reports the old socket gone. Beyond, the
# upgrade is refused, so one participant cannot make every push fan out widely.
MAX_CONNECTIONS_PER_PARTICIPANT = 4
# A room keeps its newest 500 messages (at most 500 x 11 KB); older ones are
# dropped, as everything is when the room ends.
HISTORY_CAP = 500
# A connection's typing signals are relayed at most this often (the page sends
# one every 4 s while typing); a flood of frames is one push.
TYPING_EVERY_MS = 3000
# The longest wire text of protocol v3 (docs/protocol.md): a 1000-character
# message padded to the 8192-byte bucket, sealed and base64url-encoded, is 10,974.
TEXT_MAX_CHARS = 11_000
# The longest receipt: its JSON (a 100-character name at most) fits the 1024-byte
# bucket, 1,417 characters on the wire.
RECEIPT_MAX_CHARS = 1_417
# A wire text: "<version>.<epoch>.<base64url>", ASCII only, so its bytes are its
# characters (a page's size in bytes follows from its count) and JSON never escapes
# it. Any version: a newer page needs no new server, and the server cannot read it.
WIRE_TEXT_PATTERN = r"^[1-9][0-9]{0,2}\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]+$"
CLIENT_ID_MAX_CHARS = 64
# A participant re-keys only when its browser lost its keys: a few generations at most.
MAX_GENERATION = 10_000

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
_ID_LENGTH = 21  # nanoid-style: 21 symbols of 6 bits = 126 bits
# The patterns of the values the server checks, each written here only (whole-string
# patterns, no anchors): http_schemas.py anchors them for the OpenAPI document, and the
# page's copies are compared with them (tests/functions/test_patterns.py: links.js
# exports ROOM_ID_PATTERN, protocol.js spells the wire text).
ID_PATTERN = f"[0-9A-Za-z_-]{{{_ID_LENGTH}}}"  # room and message IDs alike
# 32 bytes in canonical base64url, no padding: the last of the 43 characters carries
# 2 unused bits, which must be zero (one value, one spelling).
KEY_PATTERN = "[0-9A-Za-z_-]{42}[AEIMQUYcgkosw048]"
CLIENT_ID_PATTERN = f"[0-9A-Za-z_-]{{1,{CLIENT_ID_MAX_CHARS}}}"
_ID = re.compile(ID_PATTERN)
_KEY = re.compile(KEY_PATTERN)
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_WIRE_TEXT = re.compile(WIRE_TEXT_PATTERN)


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


class WrongKey(ChatError):
    """The join proof does not match the room's verifier: no seat, no cookie."""

    code = "wrong-key"


class TooManyConnections(ChatError):
    code = "too-many-connections"


class ClientIdReused(ChatError):
    """A send names a clientId already used for another text, whose message the
    room no longer holds: there is no stored message to answer with."""

    code = "client-id-reused"


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


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bytes_32(value: str | None) -> bytes | None:
    """The 32 bytes `value` spells in canonical base64url, else None. The last of
    its 43 characters carries 2 unused bits: only the spelling with them zero is
    accepted, so one token (or key) has one spelling, not four."""
    if value is None or not _KEY.fullmatch(value):
        return None
    return base64.urlsafe_b64decode(value + "=")


def _token_tag(secret: bytes, room_id: str, nonce: bytes) -> bytes:
    return hmac.digest(secret, b"privochat token\0" + room_id.encode() + b"\0" + nonce, "sha256")[
        :16
    ]


def new_token(room_id: str, secret: bytes) -> str:
    """A participant's token for one room: 128 random bits and a 128-bit MAC of
    them and the room under the server's secret. The server can tell a token it
    issued for this room from any other without storing it (no session fixation,
    and a join retried after a lost answer can keep the token it was sent)."""
    nonce = secrets.token_bytes(16)
    return _b64url(nonce + _token_tag(secret, room_id, nonce))


def issued_for(token: str | None, room_id: str, secret: bytes) -> TypeGuard[str]:
    """Whether this server issued `token` for `room_id` (in the spelling it issued)."""
    raw = _bytes_32(token)
    return raw is not None and hmac.compare_digest(raw[16:], _token_tag(secret, room_id, raw[:16]))


def key_bytes(value: str | None, name: str) -> bytes:
    """32 bytes given as base64url without padding (a verifier, proof, key or MAC)."""
    raw = _bytes_32(value)
    if raw is None:
        raise BadRequest(f"{name} must be 32 bytes in base64url (43 characters, no padding).")
    return raw


def verifier_of(proof: str | None) -> str:
    """What a room stores to check joins: SHA-256 of the proof, never the proof."""
    return _b64url(hashlib.sha256(key_bytes(proof, "proof")).digest())


def check_room_id(room_id: str | None) -> str:
    if room_id is None or not _ID.fullmatch(room_id):
        raise BadRequest("roomId must be 21 characters of A-Z, a-z, 0-9, '_' or '-'.")
    return room_id


def check_message_id(message_id: str) -> str:
    if not _ID.fullmatch(message_id):
        raise BadRequest("after must be a message id (21 URL-safe characters).")
    return message_id


@dataclass(frozen=True)
class Hello:
    """A participant's public handshake values (docs/protocol.md). Opaque to the
    server, which keeps the last one of each seat and relays it."""

    generation: int
    commit: str
    mac: str
    pub: str | None = None


@dataclass(frozen=True)
class SeatHello:
    seat: int
    hello: Hello


def new_hello(generation: int, commit: str, mac: str, pub: str | None) -> Hello:
    if not 1 <= generation <= MAX_GENERATION:
        raise BadRequest(f"generation must be 1 to {MAX_GENERATION}.")
    for name, value in (("commit", commit), ("mac", mac)) + ((("pub", pub),) if pub else ()):
        key_bytes(value, name)
    return Hello(generation, commit, mac, pub)


def participant_key(room_id: str, token: str) -> str:
    """What the store keeps instead of the token: a SHA-256 salted with the room,
    so that the same browser cannot be linked across rooms from the stored data."""
    return hashlib.sha256(f"{room_id}:{token}".encode()).hexdigest()


@dataclass(frozen=True)
class Message:
    """A message as the server knows it: an opaque sealed text (names, lengths
    and sequence numbers are inside it), with its ID and arrival time."""

    id: str
    text: str
    timestamp: int  # ms since the epoch


@dataclass(frozen=True)
class StoredMessage:
    """A message as the store keeps it: with the seat (1 or 2) of its author."""

    seat: int
    message: Message


def new_message(text: str, now_ms: int) -> Message:
    # Opaque sealed text: its shape and length are all the server may judge.
    if len(text) > TEXT_MAX_CHARS or not _WIRE_TEXT.fullmatch(text):
        raise BadRequest(
            f"text must be a sealed wire text (<version>.<epoch>.<base64url>) "
            f"of at most {TEXT_MAX_CHARS} characters."
        )
    return Message(id=new_id(), text=text, timestamp=now_ms)


def check_receipt(text: object) -> str:
    """A receipt is relayed, never stored: a wire text no longer than the longest receipt."""
    if not isinstance(text, str) or len(text) > RECEIPT_MAX_CHARS or not _WIRE_TEXT.fullmatch(text):
        raise BadRequest(
            f"A receipt's text must be a sealed wire text of at most {RECEIPT_MAX_CHARS} characters."
        )
    return text


def check_client_id(client_id: str | None) -> str:
    """Every send names itself, so a send retried after a lost answer is stored once."""
    if client_id is None or not _CLIENT_ID.fullmatch(client_id):
        raise BadRequest(f"clientId must be 1 to {CLIENT_ID_MAX_CHARS} URL-safe characters.")
    return client_id


@dataclass(frozen=True)
class Limit:
    """At most `max_requests` in each fixed window of `window_seconds`."""

    max_requests: int
    window_seconds: int


# Frames ($default: ping, typing) one connection may send per window; the next
# is refused and the connection hung up. The page sends about 33 a minute at
# most (a typing signal every 2 s, a ping every 20 s), so this never touches it;
# a flood stops here instead of spending the stage's throttle shared by all.
FRAMES_PER_CONNECTION = Limit(max_requests=60, window_seconds=60)

# Hellos one seat may publish per window; past it, nothing is stored or relayed. A page
# publishes at most two per key generation (commit, then reveal), and a generation
# changes only when a browser lost its keys: ten a minute is far past any real use,
# and keeps a flood of hellos (each pushed to the other page) from costing anything.
HELLOS_PER_SEAT = Limit(max_requests=10, window_seconds=60)


class FrameBudget:
    """FRAMES_PER_CONNECTION counted in this process's memory, not in the store:
    counting a frame in the store cost two billed commands on every ping and
    typing signal. A warm function sees most of a connection's frames; a flood
    spread over N concurrent instances gets at most N budgets, and the stage's
    route throttles (template.yaml) bound the rest. Forgets everything past
    `max_tracked` connections (a fresh window for each)."""

    def __init__(self, limit: Limit, max_tracked: int = 10_000) -> None:
        self._limit = limit
        self._max_tracked = max_tracked
        self._counted: dict[str, tuple[int, int]] = {}  # connection -> (window, frames)

    def count(self, connection_id: str, now_ms: int) -> None:
        """One more frame; RateLimited (not counted) when it is one too many."""
        window_ms = self._limit.window_seconds * 1000
        window = now_ms // window_ms
        counted_window, frames = self._counted.get(connection_id, (window, 0))
        frames = frames + 1 if counted_window == window else 1
        if frames > self._limit.max_requests:
            raise RateLimited(max(1, -(-((window + 1) * window_ms - now_ms) // 1000)))
        if len(self._counted) >= self._max_tracked and connection_id not in self._counted:
            self._counted.clear()
        self._counted[connection_id] = (window, frames)


def hashed(value: str, secret: bytes) -> str:
    """An identifier for rate limits that does not store who asked: an HMAC under
    the server's secret (a plain hash of an IPv4 address is undone in seconds)."""
    return hmac.new(secret, b"privochat client\0" + value.encode(), "sha256").hexdigest()[:32]


@dataclass(frozen=True)
class Seating:
    """Where a participant sits, and what the room looks like from there."""

    seat: int
    participants: int
    expires_at_ms: int  # when the room ends (ms since the epoch): fixed at its creation
    hellos: tuple[SeatHello, ...] = ()


def seconds_left(expires_at_ms: int, now_ms: int) -> int:
    """Whole seconds until `expires_at_ms` (rounded up, as a countdown shows them), never below 0."""
    return max(0, -(-(expires_at_ms - now_ms) // 1000))


@dataclass(frozen=True)
class History:
    """A page of a room's messages as one participant sees it."""

    seat: int
    messages: list[StoredMessage]
    hellos: tuple[SeatHello, ...]
    more: bool


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
