"""An Upstash-REST-compatible endpoint, so the real `upstash-redis` client runs
unchanged against a local Redis. Speaks what the client uses: a command as a
JSON array, `/pipeline`, `/multi-exec`, Bearer auth, `Upstash-Encoding: base64`."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from aiohttp import web

from .redis_backend import RedisBackend, Reply


def encode(reply: Reply, as_base64: bool) -> Any:
    """Upstash's JSON for a raw reply: strings base64 when asked (but the status
    "OK", which the client takes as it is), ints and null as they are, lists deep."""
    if isinstance(reply, list):
        return [encode(item, as_base64) for item in reply]
    if isinstance(reply, str):
        reply = reply.encode()
    if isinstance(reply, bytes):
        if not as_base64 or reply == b"OK":
            return reply.decode(errors="replace")
        return base64.b64encode(reply).decode()
    return reply


def error_text(error: Exception) -> str:
    """redis-py strips the error code of some replies; Upstash passes it on."""
    if isinstance(error, redis.exceptions.NoScriptError):
        return f"NOSCRIPT {error}"
    text = str(error)
    first = text.split(" ", 1)[0]
    return text if first.isupper() else f"ERR {text}"


class UpstashEndpoint:
    def __init__(self, backend: RedisBackend, token: str, workers: int = 16) -> None:
        self._backend = backend
        self._token = token
        # Its own threads: Lambda threads block on this endpoint, so sharing a
        # pool with them could deadlock.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upstash")
        self.requests = 0  # REST requests served, for tests and benchmarks

    def add_routes(self, app: web.Application, prefix: str) -> None:
        app.router.add_post(prefix, self.command)
        app.router.add_post(f"{prefix}/pipeline", self.pipeline)
        app.router.add_post(f"{prefix}/multi-exec", self.transaction)
        app.router.add_get(f"{prefix}/_stats", self.stats)

    async def command(self, request: web.Request) -> web.Response:
        body = await self._authorized_body(request)
        if not _is_command(body):
            return _json({"error": "ERR the body must be a JSON array: a command"}, 400)
        try:
            reply = await self._run(self._backend.execute, [str(arg) for arg in body])
        except redis.exceptions.ResponseError as error:
            return _json({"error": error_text(error)}, 400)
        return _json({"result": encode(reply, _wants_base64(request))})

    async def pipeline(self, request: web.Request) -> web.Response:
        return await self._many(request, transaction=False)

    async def transaction(self, request: web.Request) -> web.Response:
        return await self._many(request, transaction=True)

    async def stats(self, request: web.Request) -> web.Response:
        await self._authorized_body(request, read=False)
        return _json({"requests": self.requests})

    async def _many(self, request: web.Request, transaction: bool) -> web.Response:
        body = await self._authorized_body(request)
        if not isinstance(body, list) or not body or not all(_is_command(c) for c in body):
            return _json({"error": "ERR the body must be a JSON array of commands"}, 400)
        commands = [[str(arg) for arg in command] for command in body]
        replies = await self._run(self._backend.pipeline, commands, transaction)
        as_base64 = _wants_base64(request)
        return _json(
            [
                {"error": error_text(reply)}
                if isinstance(reply, Exception)
                else {"result": encode(reply, as_base64)}
                for reply in replies
            ]
        )

    async def _authorized_body(self, request: web.Request, read: bool = True) -> Any:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "Unauthorized"}), content_type="application/json"
            )
        if not read:
            return None
        self.requests += 1
        try:
            return await request.json()
        except ValueError:
            return None

    async def _run(self, function: Any, *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"error": f"ERR redis unavailable: {error}"}),
                content_type="application/json",
            ) from error


def _is_command(body: Any) -> bool:
    return (
        isinstance(body, list)
        and bool(body)
        and all(isinstance(arg, (str, int, float)) for arg in body)
    )


def _wants_base64(request: web.Request) -> bool:
    return request.headers.get("Upstash-Encoding", "").lower() == "base64"


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)
