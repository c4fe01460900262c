"""The room store on Upstash Redis over REST (scripts.py runs the Lua scripts).

Key layout (the braces keep a room's keys in one hash slot):

    meta:{room}         the room, one hash: its verifier and expiry, seats, hellos,
                        connections, rate counters, clientIds and the newest
                        HISTORY_CAP messages as a ring (lua/lib.lua lists the fields)
    conn:<connection>   the room ID of a connection (for $disconnect, and for a
                        frame that does not name its room)
    ratelimit:create:<hashed client>   rooms created in the current window

Every key of a room expires with it; destroy deletes them all. Upstash bills
each command, the scripts' own included: send 3 (a retry 4), join 3, $connect 4,
the time left 1, a ping or a relay 1 (tests/functions/test_store_scripts.py counts
them on a real redis-server). The scripts are found by name in lua/: adding one
needs no list. A stored message's entry is lua/lib.lua's alone: this module passes a
message's parts and reads the parts the scripts answer, never the entry itself.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable

from upstash_redis import Redis

from .domain import (
    HISTORY_CAP,
    MAX_CONNECTIONS_PER_PARTICIPANT,
    Hello,
    History,
    Limit,
    Message,
    RoomConnections,
    RoomNotFound,
    SeatHello,
    Seating,
    StoredMessage,
    Unauthorized,
)
from .scripts import Reply, Scripts


def _meta(room_id: str) -> str:
    return f"meta:{{{room_id}}}"


def _conn(connection_id: str) -> str:
    return f"conn:{connection_id}"


def _stored(parts: list[Reply]) -> StoredMessage:
    """A stored message from a script's answer: its parts, {seat, id, timestamp, text}.
    lua/lib.lua alone builds and reads the stored entry (`entry`, `entry_parts`)."""
    seat, message_id, timestamp, text = parts
    return StoredMessage(int(seat), Message(str(message_id), str(text), int(timestamp)))


def _hello_json(hello: Hello) -> str:
    fields = {"generation": hello.generation, "commit": hello.commit, "mac": hello.mac}
    if hello.pub is not None:
        fields["pub"] = hello.pub
    return json.dumps(fields, separators=(",", ":"))


def _parse_hellos(*stored: str | None) -> tuple[SeatHello, ...]:
    """From the hello:1 and hello:2 fields (None where a seat has none)."""
    return tuple(
        SeatHello(seat, Hello(**json.loads(text)))
        for seat, text in enumerate(stored, start=1)
        if text is not None
    )


def _parse_connections(room_id: str, flat: list[str]) -> RoomConnections:
    """From a script's flat list: connection ID, '<seat>:<connected at>', ..."""
    return RoomConnections(
        room_id, {flat[i]: int(flat[i + 1].partition(":")[0]) for i in range(0, len(flat), 2)}
    )


def _parse_conns(room_id: str, text: str | None) -> RoomConnections:
    """From the room's conns field: '<connection> <seat>:<connected at>,...'."""
    flat = [part for entry in (text or "").split(",") if entry for part in entry.split(" ", 1)]
    return _parse_connections(room_id, flat)


def _expiry(verifier_field: str) -> int:
    """The room's expiry (ms) from its verifier field, '<verifier>:<expiry>'."""
    return int(verifier_field.rpartition(":")[2])


def _verifier(verifier_field: str) -> str:
    """The verifier itself from the same field."""
    return verifier_field.rpartition(":")[0]


def _window(limit: Limit, now_ms: int) -> tuple[int, int]:
    """The fixed window `now_ms` falls in, and the whole seconds until it ends."""
    window_ms = limit.window_seconds * 1000
    number = now_ms // window_ms
    return number, max(1, math.ceil(((number + 1) * window_ms - now_ms) / 1000))


class UpstashRoomStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts = Scripts(redis)

    def create_room(
        self,
        room_id: str,
        verifier: str,
        ttl_seconds: int,
        now_ms: int,
        client: str,
        limit: Limit,
    ) -> bool:
        result = self._scripts.run(
            "create_room",
            [_meta(room_id), f"ratelimit:create:{client}"],
            [
                str(ttl_seconds),
                verifier,
                str(limit.max_requests),
                str(limit.window_seconds),
                str(now_ms),
            ],
        )
        return bool(result == 1)

    def join(self, room_id: str, participant: str, verifier: str, max_participants: int) -> Seating:
        _, seat, participants, expiry, hello1, hello2 = self._scripts.run(
            "join", [_meta(room_id)], [participant, str(max_participants), verifier]
        )
        return Seating(int(seat), int(participants), int(expiry), _parse_hellos(hello1, hello2))

    def publish_hello(
        self, room_id: str, participant: str, hello: Hello, limit: Limit, now_ms: int
    ) -> tuple[SeatHello, RoomConnections]:
        window, seconds_left = _window(limit, now_ms)
        _, seat, connections = self._scripts.run(
            "publish_hello",
            [_meta(room_id)],
            [
                participant,
                _hello_json(hello),
                str(limit.max_requests),
                str(window),
                str(seconds_left),
            ],
        )
        return SeatHello(int(seat), hello), _parse_connections(room_id, connections)

    def expires_at(self, room_id: str, participant: str) -> int:
        """One plain HMGET: a read needs no script."""
        verifier, seat = self._scripts.command(
            lambda: self._redis.hmget(_meta(room_id), "verifier", f"p:{participant}")
        )
        if verifier is None:
            raise RoomNotFound()
        if seat is None:
            raise Unauthorized()
        return _expiry(verifier)

    def door(self, room_id: str, participant: str | None) -> tuple[str, int, bool] | None:
        """One plain HMGET, as expires_at."""
        verifier, seats, seat = self._scripts.command(
            lambda: self._redis.hmget(
                _meta(room_id), "verifier", "seats", f"p:{participant or '-'}"
            )
        )
        if verifier is None:
            return None
        return _verifier(verifier), int(seats or 0), seat is not None

    def append_message(
        self,
        room_id: str,
        participant: str,
        message: Message,
        client_id: str,
        limit: Limit,
        now_ms: int,
    ) -> tuple[StoredMessage, RoomConnections]:
        window, seconds_left = _window(limit, now_ms)
        _, stored, connections = self._scripts.run(
            "send",
            [_meta(room_id)],
            [
                participant,
                client_id,
                message.id,
                str(message.timestamp),
                message.text,
                str(limit.max_requests),
                str(window),
                str(HISTORY_CAP),
                str(seconds_left),
                hashlib.sha256(message.text.encode()).hexdigest(),
            ],
        )
        return _stored(stored), _parse_connections(room_id, connections)

    def messages(self, room_id: str, participant: str, after: str | None, limit: int) -> History:
        _, seat, page, more, hello1, hello2 = self._scripts.run(
            "messages",
            [_meta(room_id)],
            [participant, after or "", str(limit), str(HISTORY_CAP)],
        )
        return History(
            int(seat),
            [_stored(each) for each in page],
            _parse_hellos(hello1, hello2),
            more == 1,
        )

    def destroy(self, room_id: str, participant: str) -> RoomConnections:
        _, connections = self._scripts.run("destroy", [_meta(room_id)], [participant])
        gone = _parse_connections(room_id, connections)
        if gone.seats:
            # The reverse keys, by name now that the room is gone (they would
            # expire with it anyway; a $disconnect meanwhile finds no room).
            keys = [_conn(each) for each in gone.seats]
            self._scripts.command(lambda: self._redis.delete(*keys))
        return gone

    def connect(
        self, room_id: str, participant: str, connection_id: str, now_ms: int
    ) -> RoomConnections:
        _, _, connections = self._scripts.run(
            "connect",
            [_meta(room_id), _conn(connection_id)],
            [
                participant,
                connection_id,
                room_id,
                str(now_ms),
                str(MAX_CONNECTIONS_PER_PARTICIPANT),
            ],
        )
        return _parse_connections(room_id, connections)

    def disconnect(self, connection_id: str) -> RoomConnections | None:
        room_id = self._room_of(connection_id)
        if room_id is None:
            return None
        result = self._scripts.run("disconnect", [_meta(room_id)], [connection_id])
        if result[0] == "gone":
            return None
        return _parse_connections(room_id, result[1])

    def connections(
        self, connection_id: str, room_id: str | None = None
    ) -> tuple[RoomConnections, int] | None:
        """Read only, no script: one HMGET when the frame named its room (checked:
        the connection must be one of that room's), else a GET of the reverse key first."""
        room_id = room_id or self._room_of(connection_id)
        if room_id is None:
            return None
        verifier, conns = self._scripts.command(
            lambda: self._redis.hmget(_meta(room_id), "verifier", "conns")
        )
        if verifier is None:
            return None
        found = _parse_conns(room_id, conns)
        if connection_id not in found.seats:
            return None
        return found, _expiry(verifier)

    def forget_connections(
        self, room_id: str, connection_ids: Iterable[str], connected_before_ms: int
    ) -> None:
        ids = list(connection_ids)
        self._scripts.run(
            "forget_connections",
            [_meta(room_id), *(_conn(each) for each in ids)],
            [str(connected_before_ms), *ids],
        )

    def _room_of(self, connection_id: str) -> str | None:
        room_id = self._scripts.command(lambda: self._redis.get(_conn(connection_id)))
        return str(room_id) if room_id else None
