from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from devkit.servers import redis_server, serve_in_thread
from infra.local_stack import redis_backend
from infra.local_stack.upstash_endpoint import UpstashEndpoint
from privochat.ports import RoomStore
from privochat.scripts import connect_upstash
from privochat.store_upstash import UpstashRoomStore
from tests.fakes import LuaRoomStore


@dataclass
class UpstashSetup:
    """The real upstash-redis client, through the local Upstash endpoint, on a backend."""

    url: str
    token: str
    endpoint: UpstashEndpoint
    backend: redis_backend.RedisBackend

    def store(self, timeout_seconds: float = 3.0) -> UpstashRoomStore:
        return UpstashRoomStore(connect_upstash(self.url, self.token, timeout_seconds))

    def keys(self, pattern: str = "*") -> list[bytes]:
        return list(self.backend.execute(["KEYS", pattern]))


def _serve(backend: redis_backend.RedisBackend) -> Iterator[UpstashSetup]:
    token = secrets.token_urlsafe(16)
    endpoint = UpstashEndpoint(backend, token)
    app = web.Application()
    endpoint.add_routes(app, "/upstash")
    with serve_in_thread(app) as base_url:
        yield UpstashSetup(f"{base_url}/upstash", token, endpoint, backend)
    backend.close()


@pytest.fixture(scope="session")
def upstash_embedded() -> Iterator[UpstashSetup]:
    yield from _serve(redis_backend.embedded())


@pytest.fixture(scope="session")
def upstash_redis_server() -> Iterator[UpstashSetup]:
    with redis_server() as url:
        yield from _serve(redis_backend.server(url))


@pytest.fixture(params=["in-process", "embedded", "redis-server"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def upstash_setup(store_kind: str, request: pytest.FixtureRequest) -> UpstashSetup | None:
    if store_kind == "in-process":
        return None
    fixture = "upstash_embedded" if store_kind == "embedded" else "upstash_redis_server"
    setup: UpstashSetup = request.getfixturevalue(fixture)
    return setup


@pytest.fixture
def store(upstash_setup: UpstashSetup | None) -> RoomStore:
    return LuaRoomStore() if upstash_setup is None else upstash_setup.store()
