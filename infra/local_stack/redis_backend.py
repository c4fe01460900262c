"""Where the local stack keeps its data: an embedded fakeredis (default) or a
real Redis server. Both answer raw replies (bytes, ints, lists, None), as the
Upstash REST endpoint must pass them on unconverted."""

from __future__ import annotations

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

    @staticmethod
    def _adapted(command: list[str]) -> list[str]:
        """Upstash takes the shebang line that upstash-ratelimit's scripts start
        with (`#!lua flags=allow-key-locking`); fakeredis cannot parse shebangs,
        and Redis 7.0 (Debian 12) does not know that flag. Drop the line."""
        if command[0].upper() == "EVAL" and command[1].startswith("#!lua"):
            return [command[0], command[1].split("\n", 1)[1], *command[2:]]
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
