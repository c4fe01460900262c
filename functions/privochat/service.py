"""The chat service: every use case of the API, over a room store and a pusher."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from .domain import (
    FRAMES_PER_CONNECTION,
    HELLOS_PER_SEAT,
    MAX_PARTICIPANTS,
    TYPING_EVERY_MS,
    FrameBudget,
    History,
    Limit,
    RateLimited,
    RoomConnections,
    SeatHello,
    StoredMessage,
    Unauthorized,
    Unavailable,
    check_client_id,
    check_message_id,
    check_room_id,
    hashed,
    issued_for,
    key_bytes,
    new_hello,
    new_id,
    new_message,
    new_token,
    participant_key,
    seconds_left,
    verifier_of,
)
from .payloads import hello_payload, message_payload
from .ports import Pusher, RoomStore

log = logging.getLogger(__name__)

# A push to a connection whose $connect has not returned yet is answered 410 by
# the gateway; such a young connection is not forgotten. $connect takes well
# under a second; a gone connection is normally removed by its $disconnect.
CONNECTING_GRACE_MS = 10_000
# A page of history stays far under Lambda's 6 MB answer: at most 200 messages and
# 2 MB of texts (wire texts are ASCII: bytes are characters; README says the total).
PAGE_MESSAGES = 200
PAGE_TEXT_BYTES = 2_000_000
# How long a warm function relays to the connections it last read for a connection
# without asking the store again: a relay (typing, a receipt) costs no command then.
# A page that opens a further tab meanwhile misses relays for at most this long; one
# that reconnects replaces a connection that is then gone, and the first push to a
# gone one (410) drops what was remembered, so the next relay reads afresh.
PEERS_FRESH_MS = 60_000
# Connections whose peers are remembered, at most (then forgotten all at once).
PEERS_REMEMBERED = 10_000


@dataclass(frozen=True)
class Limits:
    """How often one client may create a room, and one participant send a message."""

    room_creations: Limit
    messages: Limit


@dataclass(frozen=True)
class Joined:
    room_id: str
    token: str
    ttl: int
    expires_at_ms: int
    participants: int
    seat: int
    hellos: tuple[SeatHello, ...]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _within_page_bytes(page: History) -> History:
    """The page cut where its texts would pass PAGE_TEXT_BYTES (the rest is the
    next page). A text is at most 11,000 characters, so the first always fits."""
    size = 0
    for count, each in enumerate(page.messages):
        size += len(each.message.text.encode())
        if size > PAGE_TEXT_BYTES:
            return replace(page, messages=page.messages[:count], more=True)
    return page


class ChatService:
    def __init__(
        self,
        store: RoomStore,
        pusher: Pusher,
        room_ttl_seconds: int,
        limits: Limits,
        secret: bytes,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._store = store
        self._pusher = pusher
        self._room_ttl_seconds = room_ttl_seconds
        self._limits = limits
        self._secret = secret
        self._clock_ms = clock_ms
        # Per warm process (domain.FrameBudget): frames, typing turns, and peers.
        self._frames = FrameBudget(FRAMES_PER_CONNECTION)
        self._typed_at: dict[str, int] = {}
        self._peers: dict[str, tuple[RoomConnections, int, int]] = {}

    def create_room(self, client: str, verifier: str) -> tuple[str, int]:
        """`client` identifies who asks (an IP address) for the rate limit; only a
        hash of it is stored. `verifier` is what joins will be checked against."""
        key_bytes(verifier, "verifier")
        # 126 random bits: a collision is all but impossible, but never overwrite a room.
        for _ in range(3):
            room_id = new_id()
            created = self._store.create_room(
                room_id,
                verifier,
                self._room_ttl_seconds,
                self._clock_ms(),
                hashed(client, self._secret),
                self._limits.room_creations,
            )
            if created:
                return room_id, self._room_ttl_seconds
        raise Unavailable("Could not allocate a room ID.")

    def seat_token(self, room_id: str | None, presented: str | None) -> str:
        """The token a join will use, chosen before the store is touched: the one
        the browser brings if this server issued it for this room (a rejoin, or a
        retry after a lost answer), else a new one (never a token planted by
        someone else). The caller hands it to the browser even when the join
        fails as unavailable, so that the retry lands in the same seat."""
        room_id = check_room_id(room_id)
        if issued_for(presented, room_id, self._secret):
            return presented
        return new_token(room_id, self._secret)

    def join(self, room_id: str | None, token: str, proof: str | None) -> Joined:
        """Take a seat with the link's proof; a participant who joins again keeps theirs."""
        room_id = check_room_id(room_id)
        if not issued_for(token, room_id, self._secret):
            raise Unauthorized("Join with a token from seat_token().")
        verifier = verifier_of(proof)
        seat = self._store.join(
            room_id, participant_key(room_id, token), verifier, MAX_PARTICIPANTS
        )
        ttl = seconds_left(seat.expires_at_ms, self._clock_ms())
        return Joined(
            room_id, token, ttl, seat.expires_at_ms, seat.participants, seat.seat, seat.hellos
        )

    def publish_hello(
        self,
        room_id: str | None,
        token: str | None,
        generation: int,
        commit: str,
        mac: str,
        pub: str | None = None,
    ) -> SeatHello:
        """Keep the caller's latest hello and relay it to every connection of the room."""
        room_id, participant = self._participant(room_id, token)
        hello = new_hello(generation, commit, mac, pub)
        stored, connections = self._store.publish_hello(
            room_id, participant, hello, HELLOS_PER_SEAT, self._clock_ms()
        )
        event: dict[str, object] = {"type": "hello", "hello": hello_payload(stored)}
        self._push(room_id, connections.ids(), event)
        return stored

    def expires_at(self, room_id: str | None, token: str | None) -> int:
        """When the room ends (ms since the epoch); the page counts down to it."""
        room_id, participant = self._participant(room_id, token)
        return self._store.expires_at(room_id, participant)

    def door(self, room_id: str | None, token: str | None, proof: str | None) -> tuple[bool, bool]:
        """Before any Join, read only: (whether the room exists, whether it is full for
        this caller). Full is told only to one who proves the link (the proof matches the
        verifier) and holds no seat: exactly what their join would answer, with no seat taken."""
        room_id = check_room_id(room_id)
        verifier = verifier_of(proof)
        seated_as = (
            participant_key(room_id, token) if issued_for(token, room_id, self._secret) else None
        )
        found = self._store.door(room_id, seated_as)
        if found is None:
            return False, False
        stored, seats, seated = found
        proved = hmac.compare_digest(stored.encode(), verifier.encode())
        return True, proved and not seated and seats >= MAX_PARTICIPANTS

    def ttl(self, room_id: str | None, token: str | None) -> int:
        return self.seconds_until(self.expires_at(room_id, token))

    def seconds_until(self, expires_at_ms: int) -> int:
        return seconds_left(expires_at_ms, self._clock_ms())

    def send(
        self,
        room_id: str | None,
        token: str | None,
        text: str,
        client_id: str | None,
    ) -> StoredMessage:
        room_id, participant = self._participant(room_id, token)
        message = new_message(text, self._clock_ms())
        stored, connections = self._store.append_message(
            room_id,
            participant,
            message,
            check_client_id(client_id),
            self._limits.messages,
            message.timestamp,
        )
        # A retry (same clientId) pushes again: the first push may never have
        # happened. Clients drop a message whose id they already show.
        # Each seat's connections get the message as that seat reads it (payloads.py).
        # The other participant first: theirs is the delivery that is waited for.
        for seat in sorted(set(connections.seats.values()), key=lambda seat: seat == stored.seat):
            event: dict[str, object] = {"type": "message", "message": message_payload(stored, seat)}
            self._push(connections.room_id, connections.ids(only_seat=seat), event)
        return stored

    def messages(self, room_id: str | None, token: str | None, after: str | None = None) -> History:
        """A page of the history (oldest first, after message `after`), with both hellos."""
        room_id, participant = self._participant(room_id, token)
        if after is not None:
            check_message_id(after)
        return _within_page_bytes(self._store.messages(room_id, participant, after, PAGE_MESSAGES))

    def destroy(self, room_id: str | None, token: str | None) -> None:
        """Delete the room in one atomic step, then tell its connections and hang up.
        The store returns the connections it deleted, so none is missed."""
        room_id, participant = self._participant(room_id, token)
        connections = self._store.destroy(room_id, participant)
        self._pusher.push(connections.ids(), {"type": "destroy"})
        self._pusher.close(connections.ids())

    def connect(self, room_id: str | None, token: str | None, connection_id: str) -> None:
        room_id, participant = self._participant(room_id, token)
        connections = self._store.connect(room_id, participant, connection_id, self._clock_ms())
        # The gateway cannot push to a connection before its $connect returns;
        # the new client learns the count from the answer to its first ping.
        self._push(
            room_id,
            connections.ids(excluding=connection_id),
            {"type": "presence", "online": connections.online},
        )

    def disconnect(self, connection_id: str) -> None:
        connections = self._store.disconnect(connection_id)
        if connections is not None:
            presence = {"type": "presence", "online": connections.online}
            self._push(connections.room_id, connections.ids(), presence)

    def ping(self, connection_id: str, room_id: str | None = None) -> bool:
        """Answer a ping with a pong that carries the presence count and when the
        room ends (and so tell the page that the server still knows its connection;
        one it forgot is hung up instead). One store read (the frame names its room)."""
        with self._frame(connection_id):
            self._frames.count(connection_id, self._clock_ms())
        found = self._read_peers(connection_id, room_id)
        if found is None:
            return self._forgotten(connection_id)
        connections, expires_at_ms = found
        pong: dict[str, object] = {
            "type": "pong",
            "online": connections.online,
            "expiresAt": expires_at_ms,
        }
        self.reply(connection_id, pong)
        return True

    def reply(self, connection_id: str, event: dict[str, object]) -> None:
        """Send an event to one connection (the answer to something it sent)."""
        self._pusher.push([connection_id], event)

    def relay(
        self, connection_id: str, frame: dict[str, object], room_id: str | None = None
    ) -> bool:
        """Push `frame` to the other participant's connections, never storing it:
        typing, and any small signal from one page to the other. Counted against the
        connection's frame budget; the peers come from this process's memory when
        read in the last PEERS_FRESH_MS (no store command), else from one read.
        False (and the connection hung up) when the store does not know it."""
        now = self._clock_ms()
        with self._frame(connection_id):
            self._frames.count(connection_id, now)
        remembered = self._peers.get(connection_id)
        if remembered is not None and now - remembered[2] < PEERS_FRESH_MS:
            connections = remembered[0]
        else:
            found = self._read_peers(connection_id, room_id)
            if found is None:
                return self._forgotten(connection_id)
            connections = found[0]
        own_seat = connections.seats.get(connection_id)
        self._push(connections.room_id, connections.ids(excluding_seat=own_seat), frame)
        return True

    def typing(self, connection_id: str, room_id: str | None = None) -> bool:
        """Tell the other participant's connections that this one is typing: at most
        once per TYPING_EVERY_MS per connection (frames between are dropped, counted)."""
        now = self._clock_ms()
        if now - self._typed_at.get(connection_id, -TYPING_EVERY_MS) < TYPING_EVERY_MS:
            with self._frame(connection_id):
                self._frames.count(connection_id, now)
            return True
        if len(self._typed_at) >= PEERS_REMEMBERED:
            self._typed_at.clear()
        self._typed_at[connection_id] = now
        return self.relay(connection_id, {"type": "typing"}, room_id)

    def _read_peers(
        self, connection_id: str, room_id: str | None
    ) -> tuple[RoomConnections, int] | None:
        """The connection's room from the store (remembered for relays), or None."""
        found = self._store.connections(connection_id, room_id)
        if found is None:
            self._peers.pop(connection_id, None)
            return None
        if len(self._peers) >= PEERS_REMEMBERED:
            self._peers.clear()
        self._peers[connection_id] = (found[0], found[1], self._clock_ms())
        return found

    @contextmanager
    def _frame(self, connection_id: str) -> Iterator[None]:
        """A connection past its frame budget is told why, then hung up: its next
        frames would each cost an invocation out of the stage's shared throttle."""
        try:
            yield
        except RateLimited as error:
            refusal: dict[str, object] = {
                "type": "error",
                "error": error.code,
                "message": str(error),
                "retryAfter": error.retry_after_seconds,
            }
            self.reply(connection_id, refusal)
            self._pusher.close([connection_id])
            raise

    def _forgotten(self, connection_id: str) -> bool:
        """A connection the store does not know (its room is gone, or a push was
        answered 410 and it was forgotten) is hung up, so that its page
        reconnects now and registers again, instead of waiting for pushes that
        will never come."""
        self._pusher.close([connection_id])
        return False

    def _participant(self, room_id: str | None, token: str | None) -> tuple[str, str]:
        room_id = check_room_id(room_id)
        if not issued_for(token, room_id, self._secret):
            raise Unauthorized("This request needs the cookie of a participant of the room.")
        return room_id, participant_key(room_id, token)

    def _push(self, room_id: str, targets: list[str], event: dict[str, object]) -> None:
        if not targets:
            return
        gone = self._pusher.push(targets, event)
        if gone:
            # Remembered peers that include a gone connection are read again.
            self._peers = {
                key: value
                for key, value in self._peers.items()
                if key not in gone and not gone & value[0].seats.keys()
            }
            try:
                self._store.forget_connections(
                    room_id, gone, self._clock_ms() - CONNECTING_GRACE_MS
                )
            except Unavailable:
                # Harmless: they will be pruned again at the next push, and expire with the room.
                log.warning("could not forget %d gone connections", len(gone))
