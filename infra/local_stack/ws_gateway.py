"""API Gateway WebSocket API: `$connect`, `$disconnect` and `$default` events
for Lambda handlers, and the Management API (`@connections`) that boto3 calls.

As in AWS: the upgrade is refused with the status `$connect` returns; a
connection can be pushed to only once `$connect` has returned 200 (before that
a push is 410 Gone); an idle connection is closed after `idle_seconds`, any
connection after `max_seconds`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from .lambda_runtime import Handler, LambdaRuntime

_GONE = {"x-amzn-ErrorType": "GoneException"}


def _connection_id() -> str:
    # Shaped like API Gateway's (base64 with '='), so URL encoding is exercised.
    return base64.b64encode(os.urandom(10)).decode()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Connection:
    ws: web.WebSocketResponse
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    open: asyncio.Event = field(default_factory=asyncio.Event)


class WebSocketGateway:
    def __init__(
        self,
        runtime: LambdaRuntime,
        on_connect: Handler,
        on_disconnect: Handler,
        on_default: Handler,
        stage: str = "local",
        idle_seconds: float = 600,
        max_seconds: float = 7200,
    ) -> None:
        self._runtime = runtime
        self._routes = {
            "$connect": on_connect,
            "$disconnect": on_disconnect,
            "$default": on_default,
        }
        self._stage = stage
        self._idle_seconds = idle_seconds
        self._max_seconds = max_seconds
        self.connections: dict[str, Connection] = {}

    def add_routes(self, app: web.Application, path: str, management_prefix: str) -> None:
        app.router.add_get(path, self.upgrade)
        resource = f"{management_prefix}/@connections/{{connection_id}}"
        app.router.add_post(resource, self.post_to_connection)
        app.router.add_get(resource, self.get_connection)
        app.router.add_delete(resource, self.delete_connection)

    def _event(
        self, request: web.Request, route: str, connection_id: str, body: str | None = None
    ) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        now = time.time()
        context = {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "domainName": request.host,
            "stage": self._stage,
            "apiId": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "connectedAt": int(now * 1000),
            "identity": {"sourceIp": request.remote or "127.0.0.1"},
        }
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if route == "$connect":
            event["headers"] = dict(request.headers.items())
            event["multiValueHeaders"] = {
                name: request.headers.getall(name) for name in request.headers
            }
            if request.query:
                event["queryStringParameters"] = dict(request.query.items())
                event["multiValueQueryStringParameters"] = {
                    name: request.query.getall(name) for name in request.query
                }
        if body is not None:
            event["body"] = body
        return event

    async def close_all(self, _: web.Application) -> None:
        """On shutdown: hang up on every client (each then gets its $disconnect)."""
        for connection in list(self.connections.values()):
            await connection.ws.close(code=1001, message=b"Server shutting down")

    async def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        return await self._runtime.invoke(route, self._routes[route], event)

    async def upgrade(self, request: web.Request) -> web.StreamResponse:
        connection_id = _connection_id()
        result = await self._invoke("$connect", self._event(request, "$connect", connection_id))
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            return web.Response(
                status=status, text=result.get("body") or "", content_type="application/json"
            )
        ws = web.WebSocketResponse(max_msg_size=128 * 1024)
        connection = Connection(ws, request.remote or "", request.headers.get("User-Agent", ""))
        self.connections[connection_id] = connection
        try:
            await ws.prepare(request)
            connection.open.set()
            await self._serve(request, connection_id, connection)
        finally:
            self.connections.pop(connection_id, None)
            await self._invoke("$disconnect", self._event(request, "$disconnect", connection_id))
        return ws

    async def _serve(
        self, request: web.Request, connection_id: str, connection: Connection
    ) -> None:
        ws = connection.ws
        while not ws.closed:
            hard_stop = connection.connected_at + self._max_seconds - time.time()
            try:
                message = await ws.receive(timeout=min(self._idle_seconds, max(hard_stop, 0.01)))
            except TimeoutError:
                await ws.close(code=1001, message=b"Going away")
                return
            if message.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                return
            if message.type == WSMsgType.TEXT:
                connection.last_active_at = time.time()
                event = self._event(request, "$default", connection_id, body=message.data)
                await self._invoke("$default", event)

    async def _connection(self, request: web.Request) -> Connection | None:
        connection = self.connections.get(request.match_info["connection_id"])
        if connection is None:
            return None
        try:
            await asyncio.wait_for(connection.open.wait(), 5)
        except TimeoutError:
            return None
        return None if connection.ws.closed else connection

    async def post_to_connection(self, request: web.Request) -> web.Response:
        connection = await self._connection(request)
        data = await request.read()
        if connection is None:
            return _gone()
        try:
            await connection.ws.send_str(data.decode())
        except (ConnectionResetError, RuntimeError):
            return _gone()
        return web.Response(status=200)

    async def get_connection(self, request: web.Request) -> web.Response:
        connection = await self._connection(request)
        if connection is None:
            return _gone()
        return web.json_response(
            {
                "ConnectedAt": _iso(connection.connected_at),
                "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
                "LastActiveAt": _iso(connection.last_active_at),
            }
        )

    async def delete_connection(self, request: web.Request) -> web.Response:
        connection = await self._connection(request)
        if connection is None:
            return _gone()
        await connection.ws.close(code=1000, message=b"Closed by the server")
        return web.Response(status=204)


def _gone() -> web.Response:
    return web.Response(
        status=410,
        text=json.dumps({"message": "Gone"}),
        content_type="application/json",
        headers=_GONE,
    )
