"""The room store on Upstash Redis over REST (scripts.py runs the Lua scripts).

Key layout (the braces keep a room's keys in one hash slot):

    meta:{room}         hash: verifier, seats, p:<participant> -> seat,
                        hello:<seat> -> hello JSON, c:<connection> -> '<seat>:<since ms>',
                        rl:<seat>:<window> -> sends in that window,
                        t:<seat> -> when its last typing signal was relayed,
                        f:<connection> -> '<window>:<frames>' it sent ($default)
    messages:{room}     list of '<seat>|<id>|<timestamp>|<text>', the newest HISTORY_CAP
    client-ids:{room}   hash: '<seat>:<clientId>' -> '<id>|<timestamp>'
    conn:<connection>   the room ID of a connection (for $disconnect and $default)
    ratelimit:create:<hashed client>   rooms created in the current window

Every key of a room expires with it; destroy deletes them all. Upstash bills
each command, the scripts' own included: each operation spends at most five
(tests/functions/test_store_scripts.py counts them on a real redis-server).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
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
    SeatHello,
    Seating,
    StoredMessage,
)
from .scripts import Scripts

_SCRIPTS = (
    "create_room",
    "join",
    "publish_hello",
    "ttl",
    "send",
    "messages",
    "destroy",
    "connect",
    "disconnect",
    "forget_connections",
    "typing",
    "ping",
)


def _meta(room_id: str) -> str:
    return f"meta:{{{room_id}}}"


def _messages(room_id: str) -> str:
    return f"messages:{{{room_id}}}"


def _client_ids(room_id: str) -> str:
    return f"client-ids:{{{room_id}}}"


def _conn(connection_id: str) -> str:
    return f"conn:{connection_id}"


def _stored_entry(message: Message) -> str:
    """A message as the scripts store it (after its author's seat and a bar). The
    text comes last, so it may hold any character."""
    return f"{message.id}|{message.timestamp}|{message.text}"


def _parse_stored(element: str) -> StoredMessage:
    seat, message_id, timestamp, text = element.split("|", 3)
    return StoredMessage(int(seat), Message(message_id, text, int(timestamp)))


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


def _connections_in_meta(room_id: str, fields: dict[str, str]) -> RoomConnections:
    """From a room's hash: its c:<connection> fields."""
    flat = [
        item
        for name, value in fields.items()
        if name.startswith("c:")
        for item in (name[2:], value)
    ]
    return _parse_connections(room_id, flat)


def _frame_args(frames: Limit) -> list[str]:
    return [str(frames.window_seconds * 1000), str(frames.max_requests)]


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """The fixed window `now` falls in, and the whole seconds until it ends."""
    number = int(now // limit.window_seconds)
    return number, max(1, math.ceil((number + 1) * limit.window_seconds - now))


class UpstashRoomStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts = Scripts(redis, _SCRIPTS)

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
            [str(ttl_seconds), verifier, str(limit.max_requests), str(limit.window_seconds)],
        )
        return bool(result == 1)

    def join(self, room_id: str, participant: str, verifier: str, max_participants: int) -> Seating:
        _, seat, participants, ttl, hello1, hello2 = self._scripts.run(
            "join", [_meta(room_id)], [participant, str(max_participants), verifier]
        )
        return Seating(int(seat), int(participants), int(ttl), _parse_hellos(hello1, hello2))

    def publish_hello(
        self, room_id: str, participant: str, hello: Hello, limit: Limit
    ) -> tuple[SeatHello, RoomConnections]:
        window, seconds_left = _window(limit, time.time())
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

    def ttl(self, room_id: str, participant: str) -> int:
        return int(self._scripts.run("ttl", [_meta(room_id)], [participant])[1])

    def append_message(
        self, room_id: str, participant: str, message: Message, client_id: str, limit: Limit
    ) -> tuple[StoredMessage, RoomConnections]:
        window, seconds_left = _window(limit, time.time())
        _, stored, connections = self._scripts.run(
            "send",
            [_meta(room_id), _messages(room_id), _client_ids(room_id)],
            [
                participant,
                client_id,
                _stored_entry(message),
                str(limit.max_requests),
                str(window),
                str(HISTORY_CAP),
                str(seconds_left),
                hashlib.sha256(message.text.encode()).hexdigest(),
            ],
        )
        return _parse_stored(stored), _parse_connections(room_id, connections)

    def messages(self, room_id: str, participant: str, after: str | None, limit: int) -> History:
        _, seat, page, more, hello1, hello2 = self._scripts.run(
            "messages",
            [_meta(room_id), _messages(room_id)],
            [participant, after or "", str(limit)],
        )
        return History(
            int(seat),
            [_parse_stored(each) for each in page],
            _parse_hellos(hello1, hello2),
            more == 1,
        )

    def destroy(self, room_id: str, participant: str) -> RoomConnections:
        _, connections = self._scripts.run(
            "destroy",
            [_meta(room_id), _messages(room_id), _client_ids(room_id)],
            [participant],
        )
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
        _, connections = self._scripts.run(
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
        result = self._scripts.run(
            "disconnect", [_meta(room_id), _conn(connection_id)], [connection_id]
        )
        if result[0] == "gone":
            return None
        return _parse_connections(room_id, result[1])

    def connections_of(self, connection_id: str) -> RoomConnections | None:
        """Read only: two plain commands, no script, no lock."""
        room_id = self._room_of(connection_id)
        if room_id is None:
            return None
        fields = self._scripts.command(lambda: self._redis.hgetall(_meta(room_id)))
        connections = _connections_in_meta(room_id, fields)
        return connections if connection_id in connections.seats else None

    def ping(self, connection_id: str, now_ms: int, frames: Limit) -> RoomConnections | None:
        room_id = self._room_of(connection_id)
        if room_id is None:
            return None
        result = self._scripts.run(
            "ping", [_meta(room_id)], [connection_id, str(now_ms), *_frame_args(frames)]
        )
        if result[0] == "gone":
            return None
        return _parse_connections(room_id, result[1])

    def typing(
        self, connection_id: str, now_ms: int, every_ms: int, frames: Limit
    ) -> tuple[RoomConnections, bool] | None:
        room_id = self._room_of(connection_id)
        if room_id is None:
            return None
        result = self._scripts.run(
            "typing",
            [_meta(room_id)],
            [connection_id, str(now_ms), str(every_ms), *_frame_args(frames)],
        )
        if result[0] == "gone":
            return None
        return _parse_connections(room_id, result[2]), result[1] == 1

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
