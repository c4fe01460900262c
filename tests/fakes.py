"""Stand-ins for the service's ports, for tests that need no I/O and no server.

`LuaRoomStore` is the real store (`UpstashRoomStore`, the real upstash-redis
client) running the real Lua scripts of functions/privochat/lua/ on an embedded
fakeredis, in process: the requests go through an httpx transport to the same
code the local Upstash endpoint runs, not over a socket. The scripts are the
room's rules; no test keeps a copy of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx
import redis

from infra.local_stack import redis_backend
from infra.local_stack.upstash_endpoint import encode, error_text
from privochat.scripts import connect_upstash
from privochat.store_upstash import UpstashRoomStore


class LuaRoomStore(UpstashRoomStore):
    """The Upstash store on an embedded fakeredis of its own (every script runs in
    fakeredis's Lua, as in the local stack). Its data is readable for assertions."""

    def __init__(self) -> None:
        self.backend = redis_backend.embedded()
        client = httpx.Client(transport=httpx.MockTransport(self._answer))
        super().__init__(connect_upstash("http://lua-room-store.invalid", "token", 3.0, client))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        """One command, as the local Upstash endpoint answers it."""
        command = [str(arg) for arg in json.loads(request.content)]
        try:
            reply = self.backend.execute(command)
        except redis.exceptions.ResponseError as error:
            return httpx.Response(400, json={"error": error_text(error)})
        as_base64 = request.headers.get("Upstash-Encoding", "").lower() == "base64"
        return httpx.Response(200, json={"result": encode(reply, as_base64)})

    def room_fields(self, room_id: str) -> dict[str, str]:
        """The room's hash (lua/lib.lua names its fields); {} once it is gone."""
        flat = self.backend.execute(["HGETALL", f"meta:{{{room_id}}}"])
        text = [each.decode() for each in flat]
        return dict(zip(text[::2], text[1::2], strict=True))

    def keys(self, pattern: str = "*") -> list[str]:
        return [each.decode() for each in self.backend.execute(["KEYS", pattern])]


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
