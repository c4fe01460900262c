"""The room store on Upstash Redis over REST.

Every operation is one Lua script: one REST request (EVALSHA, or EVAL when the
server does not know the script yet), atomic on the server. Key layout:

    meta:{room}         hash: createdAt, participants, verifier, <participant key> -> seat,
                        hello:<seat> -> the seat's latest hello (JSON)
    messages:{room}     list of '<seat>|<id>|<timestamp>|<text>'
    client-ids:{room}   hash: '<seat>:<clientId>' -> the stored message
    connections:{room}  hash: connection ID -> '<seat>:<connected at, ms>'
    conn:<connection>   the room ID of a connection (for $disconnect)
    ratelimit:create:<hashed client>:<window>, ratelimit:send:<participant>:<window>
                        upstash-ratelimit's fixed-window counters

Every key of a room is given the room's remaining life when written, so all of
it expires together. The braces keep a room's keys in one hash slot.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx
from upstash_ratelimit import FixedWindow
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from .domain import (
    ChatError,
    Hello,
    History,
    Limit,
    Message,
    RateLimited,
    RoomConnections,
    RoomFull,
    RoomNotFound,
    Seat,
    SeatHello,
    StoredMessage,
    Unauthorized,
    Unavailable,
    WrongKey,
)

log = logging.getLogger(__name__)

# A script's reply as the REST client decodes it: nested lists of str and int.
# It stays inside this module: every public method returns domain objects.
Reply = Any

_REFUSALS: dict[str, type[ChatError]] = {
    "room-not-found": RoomNotFound,
    "unauthorized": Unauthorized,
    "room-full": RoomFull,
    "wrong-key": WrongKey,
}
# An error reply, no reply, or a reply of the wrong shape (a proxy's HTML error
# page, an error object where a pipeline's list was due): the store is unavailable.
_STORE_FAILURES = (UpstashError, httpx.HTTPError, ValueError, TypeError, AttributeError, KeyError)
_CREATE_LIMIT_PREFIX = "ratelimit:create:"
_SEND_LIMIT_PREFIX = "ratelimit:send:"


@dataclass(frozen=True)
class Script:
    source: str
    sha: str

    @classmethod
    def load(cls, name: str) -> Script:
        folder = resources.files(__package__) / "lua"
        source = (folder / "lib.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()
        # Redis names scripts by their SHA-1 (EVALSHA); not a security use.
        return cls(source, hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest())


_SCRIPTS = {
    name: Script.load(name)
    for name in (
        "create_room",
        "join",
        "publish_hello",
        "ttl",
        "send",
        "messages",
        "destroy",
        "connect",
        "disconnect",
        "connections_of",
        "forget_connections",
    )
}


def connect_upstash(url: str, token: str, timeout_seconds: float) -> Redis:
    """The REST client, with a timeout (the SDK's default has none) and no
    retries: a retried write could be applied twice, and a fast 503 beats a slow one."""
    redis = Redis(url, token, rest_retries=0, allow_telemetry=False)
    # The SDK offers no timeout setting; its httpx client accepts one.
    redis._http._client.timeout = httpx.Timeout(timeout_seconds)
    return redis


def _meta(room_id: str) -> str:
    return f"meta:{{{room_id}}}"


def _messages(room_id: str) -> str:
    return f"messages:{{{room_id}}}"


def _client_ids(room_id: str) -> str:
    return f"client-ids:{{{room_id}}}"


def _connections(room_id: str) -> str:
    return f"connections:{{{room_id}}}"


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
    """From HMGET of hello:1 and hello:2 (None where a seat has none)."""
    return tuple(
        SeatHello(seat, Hello(**json.loads(text)))
        for seat, text in enumerate(stored, start=1)
        if text is not None
    )


def _parse_connections(room_id: str, flat: list[str]) -> RoomConnections:
    """From HGETALL of connections:{room}: connection ID -> '<seat>:<connected at>'."""
    return RoomConnections(
        room_id, {flat[i]: int(flat[i + 1].partition(":")[0]) for i in range(0, len(flat), 2)}
    )


class UpstashRoomStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def _run(
        self, name: str, keys: list[str], args: list[str], limit: tuple[str, Limit] | None = None
    ) -> Reply:
        """Runs script `name` in one REST request. With `limit` (an identifier and
        its limit), upstash-ratelimit's fixed-window counter runs first in the same
        transaction, and the script refuses to write when the count is over."""
        try:
            if limit is None:
                result = self._script(self._redis, name, keys, args)
            else:
                result = self._limited(name, keys, args, *limit)
        except _STORE_FAILURES as error:
            log.warning("room store failed: %s: %s", type(error).__name__, error)
            raise Unavailable("The room store is unavailable.") from error
        if isinstance(result, list) and result and result[0] in _REFUSALS:
            raise _REFUSALS[result[0]]()
        return result

    @staticmethod
    def _script(redis: Redis, name: str, keys: list[str], args: list[str]) -> Reply:
        """EVALSHA, or EVAL when the server does not know the script (yet)."""
        script = _SCRIPTS[name]
        try:
            return redis.evalsha(script.sha, keys, args)
        except UpstashError as error:
            if "NOSCRIPT" not in str(error):
                raise
            return redis.eval(script.source, keys, args)

    def _limited(
        self, name: str, keys: list[str], args: list[str], identifier: str, limit: Limit
    ) -> Reply:
        # upstash-ratelimit's limiters are generators that yield the one command
        # they need and take its reply, so that it can ride in our request.
        steps = FixedWindow(limit.max_requests, limit.window_seconds)._limit(identifier)
        _, (counter_script, counter_keys, counter_args) = next(steps)
        counter = [
            "EVAL",
            counter_script,
            len(counter_keys),
            *counter_keys,
            *map(str, counter_args),
        ]
        keys, args = [*keys, *counter_keys], [*args, str(limit.max_requests)]
        script = _SCRIPTS[name]
        try:
            count, result = self._transaction(
                counter, ["EVALSHA", script.sha, len(keys), *keys, *args]
            )
        except UpstashError as error:
            if "NOSCRIPT" not in str(error):
                raise
            # The counter did run (EXEC runs every queued command): read it, don't count twice.
            count, result = self._transaction(
                ["GET", *counter_keys], ["EVAL", script.source, len(keys), *keys, *args]
            )
            count = int(count)
        verdict = steps.send(count)
        if not verdict.allowed:
            raise RateLimited(max(1, math.ceil(verdict.reset - time.time())))
        return result

    def _transaction(self, *commands: list[object]) -> list[Reply]:
        """Commands in one MULTI/EXEC: one REST request, run back to back."""
        transaction = self._redis.multi()
        for command in commands:
            transaction.execute(command)
        return list(transaction.exec())

    def create_room(
        self,
        room_id: str,
        verifier: str,
        ttl_seconds: int,
        now_ms: int,
        client: str,
        limit: Limit,
    ) -> bool:
        result = self._run(
            "create_room",
            [_meta(room_id)],
            [str(now_ms), str(ttl_seconds), verifier],
            (_CREATE_LIMIT_PREFIX + client, limit),
        )
        return bool(result == 1)

    def join(self, room_id: str, participant: str, verifier: str, max_participants: int) -> Seat:
        _, seat, participants, ttl, hello1, hello2 = self._run(
            "join", [_meta(room_id)], [participant, str(max_participants), verifier]
        )
        return Seat(int(seat), int(participants), int(ttl), _parse_hellos(hello1, hello2))

    def publish_hello(
        self, room_id: str, participant: str, hello: Hello
    ) -> tuple[SeatHello, RoomConnections]:
        _, seat, connections = self._run(
            "publish_hello",
            [_meta(room_id), _connections(room_id)],
            [participant, _hello_json(hello)],
        )
        return SeatHello(int(seat), hello), _parse_connections(room_id, connections)

    def ttl(self, room_id: str, participant: str) -> int:
        return int(self._run("ttl", [_meta(room_id)], [participant])[1])

    def append_message(
        self, room_id: str, participant: str, message: Message, client_id: str, limit: Limit
    ) -> tuple[StoredMessage, RoomConnections]:
        _, stored, connections = self._run(
            "send",
            [_meta(room_id), _messages(room_id), _client_ids(room_id), _connections(room_id)],
            [participant, client_id, _stored_entry(message)],
            (_SEND_LIMIT_PREFIX + participant, limit),
        )
        return _parse_stored(stored), _parse_connections(room_id, connections)

    def messages(self, room_id: str, participant: str, after: str | None, limit: int) -> History:
        _, seat, page, more, hello1, hello2 = self._run(
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

    def destroy(self, room_id: str, participant: str, message_limit: Limit) -> RoomConnections:
        # The participants' send counters live on for at most two windows: delete both.
        window = time.time_ns() // 1_000_000 // (message_limit.window_seconds * 1000)
        _, connections = self._run(
            "destroy",
            [_meta(room_id), _messages(room_id), _client_ids(room_id), _connections(room_id)],
            [participant, _SEND_LIMIT_PREFIX, f":{window}", f":{window - 1}"],
        )
        return _parse_connections(room_id, connections)

    def connect(
        self, room_id: str, participant: str, connection_id: str, now_ms: int
    ) -> RoomConnections:
        _, connections = self._run(
            "connect",
            [_meta(room_id), _connections(room_id), _conn(connection_id)],
            [participant, connection_id, room_id, str(now_ms)],
        )
        return _parse_connections(room_id, connections)

    def disconnect(self, connection_id: str) -> RoomConnections | None:
        return self._room_of(self._run("disconnect", [_conn(connection_id)], [connection_id]))

    def connections_of(self, connection_id: str) -> RoomConnections | None:
        return self._room_of(self._run("connections_of", [_conn(connection_id)], []))

    def forget_connections(
        self, room_id: str, connection_ids: Iterable[str], connected_before_ms: int
    ) -> None:
        self._run(
            "forget_connections",
            [_connections(room_id)],
            [str(connected_before_ms), *connection_ids],
        )

    @staticmethod
    def _room_of(result: Reply) -> RoomConnections | None:
        if result[0] == "gone":
            return None
        _, room_id, connections = result
        return _parse_connections(room_id, connections)
