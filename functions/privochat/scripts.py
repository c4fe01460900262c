"""Running the Lua scripts of `lua/` on Upstash over REST: one request each.

Every script starts with `#!lua flags=allow-key-locking`, so Upstash locks only
the keys it names in KEYS (and would refuse any other), never the whole
database: rooms never wait on each other. No MULTI/EXEC and no pipeline: a
transaction always takes Upstash's global lock.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from types import SimpleNamespace
from typing import Any

import httpx
from upstash_redis import Redis
from upstash_redis import http as upstash_http
from upstash_redis.errors import UpstashError

from .domain import (
    ChatError,
    ClientIdReused,
    RateLimited,
    RoomFull,
    RoomNotFound,
    TooManyConnections,
    Unauthorized,
    Unavailable,
    WrongKey,
)

log = logging.getLogger(__name__)

SHEBANG = "#!lua flags=allow-key-locking\n"

# A script's reply as the REST client decodes it: nested lists of str, int and
# None. It stays inside the store: every public method returns domain objects.
Reply = Any

# A script refuses by answering {'<code>', ...}.
_REFUSALS: dict[str, type[ChatError]] = {
    "room-not-found": RoomNotFound,
    "unauthorized": Unauthorized,
    "room-full": RoomFull,
    "wrong-key": WrongKey,
    "too-many-connections": TooManyConnections,
    "client-id-reused": ClientIdReused,
}
# An error reply, no reply, or a reply of the wrong shape (a proxy's HTML error
# page, say): the store is unavailable.
_STORE_FAILURES = (UpstashError, httpx.HTTPError, ValueError, TypeError, AttributeError, KeyError)


@dataclass(frozen=True)
class Script:
    source: str
    sha: str

    @classmethod
    def load(cls, name: str) -> Script:
        folder = resources.files(__package__) / "lua"
        source = SHEBANG + (folder / "lib.lua").read_text() + (folder / f"{name}.lua").read_text()
        # Redis names scripts by their SHA-1 (EVALSHA); not a security use.
        return cls(source, hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest())


def connect_upstash(
    url: str, token: str, timeout_seconds: float, http: httpx.Client | None = None
) -> Redis:
    """The REST client, with a timeout (the SDK's default has none) and no
    retries: a retried write could be applied twice, and a fast 503 beats a slow one.
    With `http`, the SDK uses that client instead of making its own (a second SSL
    context, tens of ms of a cold start): the SDK offers no setting for either."""
    if http is None:
        redis = Redis(url, token, rest_retries=0, allow_telemetry=False)
    else:
        saved = getattr(upstash_http, "httpx")  # noqa: B009
        setattr(upstash_http, "httpx", SimpleNamespace(Client=lambda **_: http))  # noqa: B010
        try:
            redis = Redis(url, token, rest_retries=0, allow_telemetry=False)
        finally:
            setattr(upstash_http, "httpx", saved)  # noqa: B010
    redis._http._client.timeout = httpx.Timeout(timeout_seconds)
    return redis


class Scripts:
    """The scripts of `lua/`, run by name; refusals raised as domain errors."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts: dict[str, Script] = {}

    def run(self, name: str, keys: list[str], args: list[str]) -> Reply:
        """EVALSHA (EVAL when the server does not know the script yet). Scripts are
        found by name in lua/ and read on first use: a new one needs no list."""
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = Script.load(name)
        reply = self.command(lambda: self._evalsha_or_eval(script, keys, args))
        if isinstance(reply, list) and reply and reply[0] == "rate-limited":
            raise RateLimited(max(1, int(reply[1]) if len(reply) > 1 else 1))
        if isinstance(reply, list) and reply and reply[0] in _REFUSALS:
            raise _REFUSALS[reply[0]]()
        return reply

    def command(self, call: Any) -> Reply:
        """One REST request; any failure of the store is `Unavailable`."""
        try:
            return call()
        except _STORE_FAILURES as error:
            log.warning("room store failed: %s: %s", type(error).__name__, error)
            raise Unavailable("The room store is unavailable.") from error

    def _evalsha_or_eval(self, script: Script, keys: list[str], args: list[str]) -> Reply:
        try:
            return self._redis.evalsha(script.sha, keys, args)
        except UpstashError as error:
            if "NOSCRIPT" not in str(error):
                raise
            return self._redis.eval(script.source, keys, args)
