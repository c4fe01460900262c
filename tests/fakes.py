"""In-memory stand-ins for the service's ports, for tests that need no I/O.

`InMemoryRoomStore` keeps the same promises as the Redis store (the store
contract tests run against both), with a lock for atomicity and a settable clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from privochat.domain import (
    HISTORY_CAP,
    MAX_CONNECTIONS_PER_PARTICIPANT,
    ClientIdReused,
    Hello,
    History,
    Limit,
    Message,
    RateLimited,
    RoomConnections,
    RoomFull,
    RoomNotFound,
    SeatHello,
    Seating,
    StoredMessage,
    TooManyConnections,
    Unauthorized,
    WrongKey,
)


@dataclass
class _Room:
    expires_at_ms: int
    verifier: str
    seats: dict[str, int] = field(default_factory=dict)
    hellos: dict[int, Hello] = field(default_factory=dict)
    messages: list[StoredMessage] = field(default_factory=list)
    by_client_id: dict[str, StoredMessage] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)
    connected_at: dict[str, int] = field(default_factory=dict)


class InMemoryRoomStore:
    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self.now_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._rooms: dict[str, _Room] = {}
        self._conn: dict[str, str] = {}
        self._counters: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def _count(self, identifier: str, limit: Limit, now_ms: int) -> None:
        """A fixed-window counter, on the caller's clock."""
        window_ms = limit.window_seconds * 1000
        window = now_ms // window_ms
        key = (identifier, window)
        if self._counters.get(key, 0) + 1 > limit.max_requests:
            raise RateLimited(max(1, -(-((window + 1) * window_ms - now_ms) // 1000)))
        self._counters[key] = self._counters.get(key, 0) + 1

    def _room(self, room_id: str) -> _Room | None:
        room = self._rooms.get(room_id)
        if room is not None and room.expires_at_ms <= self.now_ms():
            del self._rooms[room_id]
            self._conn = {c: r for c, r in self._conn.items() if r != room_id}
            return None
        return room

    def _seat(self, room_id: str, participant: str) -> tuple[_Room, int]:
        room = self._room(room_id)
        if room is None:
            raise RoomNotFound()
        if participant not in room.seats:
            raise Unauthorized()
        return room, room.seats[participant]

    def create_room(
        self,
        room_id: str,
        verifier: str,
        ttl_seconds: int,
        now_ms: int,
        client: str,
        limit: Limit,
    ) -> bool:
        with self._lock:
            self._count(f"create:{client}", limit, now_ms)
            if self._room(room_id) is not None:
                return False
            self._rooms[room_id] = _Room(now_ms + ttl_seconds * 1000, verifier)
            return True

    @staticmethod
    def _hellos(room: _Room) -> tuple[SeatHello, ...]:
        return tuple(SeatHello(seat, room.hellos[seat]) for seat in sorted(room.hellos))

    def join(self, room_id: str, participant: str, verifier: str, max_participants: int) -> Seating:
        with self._lock:
            room = self._room(room_id)
            if room is None:
                raise RoomNotFound()
            if verifier != room.verifier:
                raise WrongKey()
            if participant not in room.seats:
                if len(room.seats) >= max_participants:
                    raise RoomFull()
                room.seats[participant] = len(room.seats) + 1
            return Seating(
                room.seats[participant], len(room.seats), room.expires_at_ms, self._hellos(room)
            )

    def publish_hello(
        self, room_id: str, participant: str, hello: Hello, limit: Limit, now_ms: int
    ) -> tuple[SeatHello, RoomConnections]:
        with self._lock:
            room, seat = self._seat(room_id, participant)
            self._count(f"hello:{room_id}:{seat}", limit, now_ms)
            room.hellos[seat] = hello
            return SeatHello(seat, hello), RoomConnections(room_id, dict(room.connections))

    def expires_at(self, room_id: str, participant: str) -> int:
        with self._lock:
            room, _ = self._seat(room_id, participant)
            return room.expires_at_ms

    def append_message(
        self,
        room_id: str,
        participant: str,
        message: Message,
        client_id: str,
        limit: Limit,
        now_ms: int,
    ) -> tuple[StoredMessage, RoomConnections]:
        with self._lock:
            room, seat = self._seat(room_id, participant)
            self._count(f"send:{participant}", limit, now_ms)
            key = f"{seat}:{client_id}"
            stored = room.by_client_id.get(key)
            if stored is None:
                stored = StoredMessage(seat, message)
                room.messages.append(stored)
                del room.messages[:-HISTORY_CAP]
                room.by_client_id[key] = stored
            elif stored not in room.messages and stored.message.text != message.text:
                # Dropped by the cap: only the same text may be answered under its ID.
                raise ClientIdReused()
            return stored, RoomConnections(room_id, dict(room.connections))

    def messages(self, room_id: str, participant: str, after: str | None, limit: int) -> History:
        with self._lock:
            room, seat = self._seat(room_id, participant)
            ids = [each.message.id for each in room.messages]
            start = ids.index(after) + 1 if after in ids else 0
            page = room.messages[start : start + limit]
            more = start + limit < len(room.messages)
            return History(seat, page, self._hellos(room), more)

    def destroy(self, room_id: str, participant: str) -> RoomConnections:
        with self._lock:
            room, _ = self._seat(room_id, participant)
            del self._rooms[room_id]
            self._counters = {
                key: count
                for key, count in self._counters.items()
                if key[0] not in {f"send:{p}" for p in room.seats}
            }
            for connection_id in room.connections:
                self._conn.pop(connection_id, None)
            return RoomConnections(room_id, dict(room.connections))

    def connect(
        self, room_id: str, participant: str, connection_id: str, now_ms: int
    ) -> RoomConnections:
        with self._lock:
            room, seat = self._seat(room_id, participant)
            if list(room.connections.values()).count(seat) >= MAX_CONNECTIONS_PER_PARTICIPANT:
                raise TooManyConnections()
            room.connections[connection_id] = seat
            room.connected_at[connection_id] = now_ms
            self._conn[connection_id] = room_id
            return RoomConnections(room_id, dict(room.connections))

    def disconnect(self, connection_id: str) -> RoomConnections | None:
        with self._lock:
            room_id = self._conn.pop(connection_id, None)
            room = self._room(room_id) if room_id else None
            if room_id is None or room is None:
                return None
            room.connections.pop(connection_id, None)
            room.connected_at.pop(connection_id, None)
            return RoomConnections(room_id, dict(room.connections))

    def connections(
        self, connection_id: str, room_id: str | None = None
    ) -> tuple[RoomConnections, int] | None:
        with self._lock:
            known = self._conn.get(connection_id)
            room = self._room(known) if known else None
            if known is None or room is None or room_id not in (None, known):
                return None
            return RoomConnections(known, dict(room.connections)), room.expires_at_ms

    def forget_connections(
        self, room_id: str, connection_ids: Iterable[str], connected_before_ms: int
    ) -> None:
        with self._lock:
            room = self._room(room_id)
            if room is None:
                return
            for connection_id in connection_ids:
                if room.connected_at.get(connection_id, connected_before_ms) < connected_before_ms:
                    self._conn.pop(connection_id, None)
                    room.connections.pop(connection_id, None)


class RecordingPusher:
    """Records every push; connections named in `gone` answer 410."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, dict[str, object]]] = []
        self.closed: list[str] = []
        self.gone: set[str] = set()

    def push(self, connection_ids: Iterable[str], event: dict[str, object]) -> set[str]:
        ids = list(connection_ids)
        self.pushed.extend((c, event) for c in ids if c not in self.gone)
        return {c for c in ids if c in self.gone}

    def close(self, connection_ids: Iterable[str]) -> None:
        self.closed.extend(connection_ids)

    def events_for(self, connection_id: str) -> list[dict[str, object]]:
        return [event for target, event in self.pushed if target == connection_id]
