"""Where the local stack keeps its data: an embedded fakeredis (default) or a
real Redis server. Both answer raw replies (bytes, ints, lists, None), as the
Upstash REST endpoint must pass them on unconverted."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import fakeredis
import redis

Reply = Any


class RedisBackend:
    def __init__(self, client: redis.Redis, embedded: bool) -> None:
        # Raw replies: no RESP3 maps, no "SET -> True" conversions.
        client.response_callbacks.clear()
        self._client = client
        # fakeredis is not meant for concurrent callers; a real server is.
        self._lock = threading.Lock() if embedded else None
        # EVALSHA names a script by the SHA-1 of the source the client sent; the
        # server knows the adapted source by another one.
        self._adapted_sha: dict[str, str] = {}

    def execute(self, command: list[str]) -> Reply:
        with self._lock or _NO_LOCK:
            return self._client.execute_command(*self._adapted(command))  # type: ignore[no-untyped-call]  # redis-py is untyped here

    def pipeline(self, commands: list[list[str]], transaction: bool) -> list[Reply]:
        """Replies in order; a failed command's reply is its exception."""
        with self._lock or _NO_LOCK:
            pipe = self._client.pipeline(transaction=transaction)
            for command in commands:
                pipe.execute_command(*self._adapted(command))  # type: ignore[no-untyped-call]
            return list(pipe.execute(raise_on_error=False))

    def _adapted(self, command: list[str]) -> list[str]:
        """Scripts as Upstash runs them: see `adapt_script`. EVALSHA of a script
        sent before names the adapted one."""
        name = command[0].upper()
        if name == "EVAL":
            source = adapt_script(command[1])
            if source != command[1]:
                self._adapted_sha[_sha1(command[1])] = _sha1(source)
            return [command[0], source, *command[2:]]
        if name == "EVALSHA":
            return [command[0], self._adapted_sha.get(command[1], command[1]), *command[2:]]
        return command

    def close(self) -> None:
        self._client.close()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


_NO_LOCK = _NoLock()


def embedded() -> RedisBackend:
    return RedisBackend(
        fakeredis.FakeRedis(server=fakeredis.FakeServer(), protocol=2), embedded=True
    )


def server(url: str) -> RedisBackend:
    return RedisBackend(redis.Redis.from_url(url, protocol=2), embedded=False)


# Upstash locks only the keys a script declares when its shebang says
# `allow-key-locking`, and refuses any other key. Redis 7.0 does not know that
# flag (and fakeredis no shebang at all), so the line goes, and every
# redis.call/pcall of such a script is checked against KEYS first: a script
# that would fail on Upstash fails here too.
_KEY_LOCKING = "#!lua flags=allow-key-locking"
_DECLARED_KEYS_ONLY = """
local __declared = {}
for _, key in ipairs(KEYS) do __declared[key] = true end
local __all_keys = {DEL = true, EXISTS = true, UNLINK = true, MGET = true, TOUCH = true}
local function __checked(call)
  return function(command, ...)
    local args = {...}
    local keys = __all_keys[string.upper(command)] and args or {args[1]}
    for _, key in ipairs(keys) do
      if not __declared[key] then
        error('ERR allow-key-locking: the script touched ' .. tostring(key) .. ', not in KEYS')
      end
    end
    return call(command, ...)
  end
end
local __call, __pcall = __checked(redis.call), __checked(redis.pcall)
"""


def adapt_script(source: str) -> str:
    if not source.startswith("#!lua"):
        return source
    shebang, _, body = source.partition("\n")
    if _KEY_LOCKING not in shebang:
        return body
    body = body.replace("redis.call(", "__call(").replace("redis.pcall(", "__pcall(")
    return _DECLARED_KEYS_ONLY + body


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
