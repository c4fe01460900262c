"""API Gateway WebSocket API: `$connect`, `$disconnect` and `$default` events
for Lambda handlers, and the Management API (`@connections`) that boto3 calls.

As in AWS: the upgrade is refused with the status `$connect` returns; a
connection can be pushed to only once `$connect` has returned 200 (before that
a push is 410 Gone); an idle connection is closed after `idle_seconds`, any
connection after `max_seconds`; a binary frame goes to `$default` base64-encoded
(`isBase64Encoded`); the Management API takes only requests signed (SigV4) with
the handlers' credentials, and `Data` of at most 128 KB.

A post is answered at once: the frame is queued on its connection and written in
order by the connection's own writer, so a client that does not read holds no
caller. (API Gateway does not document what it does with a client that stops
reading; here the connection is hung up on, as if the client had gone, once
`max_pending_bytes` wait for it or a frame cannot be written within
`send_timeout_seconds`; posts to it are then 410 Gone.)
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

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError
from aiohttp.typedefs import Handler

from .cloudfront import origin_headers
from .lambda_runtime import Function, LambdaRuntime
from .sigv4 import SigV4Verifier

# The Management API's limit on a posted message (and API Gateway's frame size).
MAX_DATA_BYTES = 128 * 1024


def _connection_id() -> str:
    # Shaped like API Gateway's (base64 with '='), so URL encoding is exercised.
    return base64.b64encode(os.urandom(10)).decode()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class _HangUp:
    """Queued after the frames a DeleteConnection must not overtake."""


_HANG_UP = _HangUp()


@dataclass
class Connection:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    open: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: asyncio.Queue[bytes | _HangUp] = field(default_factory=asyncio.Queue)
    pending_bytes: int = 0
    # Hung up on (it stopped reading, or DeleteConnection): posts to it are 410.
    dropped: bool = False
    closing: bool = False

    def drop(self) -> None:
        """Cuts the TCP connection at once: a close handshake would wait on a
        client that reads nothing. The reader then ends and `$disconnect` runs."""
        self.dropped = True
        if self.transport is not None:
            self.transport.abort()


class _MaskedFramesOnly:
    """Stands before aiohttp's frame parser, which takes unmasked client frames
    too, while RFC 6455 (5.1) says a server must close the connection on one. It
    follows the frames' headers and lengths (payloads are skipped, not copied); at
    the first unmasked frame it hands the reader a protocol error instead, and
    aiohttp closes the connection with 1002."""

    def __init__(self, reader: Any, parser: Any, fed: bytes) -> None:
        self._reader = reader  # the queue ws.receive() reads
        self._parser = parser
        self._header = bytearray()
        self._payload_left = 0
        self._refused = False
        if self._first_unmasked(fed) is not None:
            self._refuse()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._refused:
            return False, b""
        unmasked = self._first_unmasked(data)
        if unmasked is None:
            result: tuple[bool, bytes] = self._parser.feed_data(data)
            return result
        if unmasked:
            self._parser.feed_data(data[:unmasked])  # the frames before it
        self._refuse()
        return False, b""

    def feed_eof(self) -> None:
        self._parser.feed_eof()

    def _refuse(self) -> None:
        self._refused = True
        error = WebSocketError(WSCloseCode.PROTOCOL_ERROR, "A client's frames must be masked.")
        self._reader.set_exception(error)

    def _first_unmasked(self, data: bytes) -> int | None:
        """Where in `data` the first unmasked frame starts (0 if its header began
        in an earlier chunk), or None."""
        position, start = 0, 0
        while position < len(data):
            if self._payload_left:
                step = min(self._payload_left, len(data) - position)
                self._payload_left -= step
                position += step
                continue
            if not self._header:
                start = position
            self._header.append(data[position])
            position += 1
            if len(self._header) < 2:
                continue
            if not self._header[1] & 0x80:
                return start
            length = self._header[1] & 0x7F
            extended = {126: 2, 127: 8}.get(length, 0)
            if len(self._header) < 2 + extended + 4:  # the lengths, then the mask
                continue
            self._payload_left = (
                int.from_bytes(self._header[2 : 2 + extended]) if extended else length
            )
            self._header.clear()
        return None


class WebSocketGateway:
    def __init__(
        self,
        runtime: LambdaRuntime,
        on_connect: Function,
        on_disconnect: Function,
        on_default: Function,
        verifier: SigV4Verifier,
        origin_secret: str,
        stage: str = "local",
        idle_seconds: float = 600,
        max_seconds: float = 7200,
        send_timeout_seconds: float = 5,
        max_pending_bytes: int = 1024 * 1024,
    ) -> None:
        self._runtime = runtime
        self._verifier = verifier
        self._origin_secret = origin_secret
        self._send_timeout = send_timeout_seconds
        self._max_pending = max_pending_bytes
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
        app.router.add_post(resource, self._signed(self.post_to_connection))
        app.router.add_get(resource, self._signed(self.get_connection))
        app.router.add_delete(resource, self._signed(self.delete_connection))

    def _signed(self, handler: Handler) -> Handler:
        """A Management API call, answered only when it is signed (SigV4) with the
        handlers' credentials; else 403, as AWS answers a caller IAM refuses."""

        async def checked(request: web.Request) -> web.StreamResponse:
            url = f"{request.scheme}://{request.host}{request.raw_path}"
            body = await request.read()  # aiohttp keeps it for the handler
            refusal = self._verifier.refusal(request.method, url, request.headers, body)
            if refusal is not None:
                return _aws_error(403, refusal.error_type, refusal.message)
            return await handler(request)

        return checked

    def _event(
        self,
        request: web.Request,
        route: str,
        connection_id: str,
        body: str | None = None,
        is_base64: bool = False,
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
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": is_base64}
        if route == "$connect":
            headers = origin_headers(request, self._origin_secret)
            event["headers"] = dict(headers.items())
            event["multiValueHeaders"] = {name: headers.getall(name) for name in headers}
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
        await asyncio.gather(
            *(
                self._hang_up(connection, 1001, b"Server shutting down")
                for connection in list(self.connections.values())
            )
        )

    async def _hang_up(self, connection: Connection, code: int, message: bytes) -> None:
        """A close handshake, bounded: a client that reads nothing is cut off."""
        try:
            async with asyncio.timeout(self._send_timeout):
                await connection.ws.close(code=code, message=message)
        except TimeoutError:
            connection.drop()

    async def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        return await self._runtime.invoke(self._routes[route], event)

    async def upgrade(self, request: web.Request) -> web.StreamResponse:
        connection_id = _connection_id()
        result = await self._invoke("$connect", self._event(request, "$connect", connection_id))
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            return web.Response(
                status=status, text=result.get("body") or "", content_type="application/json"
            )
        ws = web.WebSocketResponse(max_msg_size=MAX_DATA_BYTES)
        connection = Connection(
            ws, request.transport, request.remote or "", request.headers.get("User-Agent", "")
        )
        self.connections[connection_id] = connection
        writer: asyncio.Task[None] | None = None
        try:
            # What came with the upgrade request is fed to the parser in prepare().
            early = bytes(request.protocol._message_tail)
            await ws.prepare(request)
            protocol = request.protocol
            protocol._payload_parser = _MaskedFramesOnly(
                ws._reader, protocol._payload_parser, early
            )
            writer = asyncio.create_task(self._write(connection))
            connection.open.set()
            await self._serve(request, connection_id, connection)
        finally:
            connection.dropped = True
            if writer is not None and connection.closing:
                await writer  # its close handshake ends within the send timeout
            elif writer is not None:
                writer.cancel()
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
                await self._hang_up(connection, 1001, b"Going away")
                return
            if message.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                return
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                connection.last_active_at = time.time()
                if message.type == WSMsgType.TEXT:
                    event = self._event(request, "$default", connection_id, body=message.data)
                else:
                    body = base64.b64encode(message.data).decode()
                    event = self._event(request, "$default", connection_id, body, is_base64=True)
                await self._invoke("$default", event)

    async def _write(self, connection: Connection) -> None:
        """The connection's frames, in the order they were posted; a frame that
        cannot be written in time means a client that stopped reading."""
        ws = connection.ws
        while True:
            frame = await connection.outbox.get()
            if isinstance(frame, _HangUp):
                connection.closing = connection.dropped = True
                await self._hang_up(connection, 1000, b"Closed by the server")
                return
            try:
                async with asyncio.timeout(self._send_timeout):
                    if _is_text(frame):
                        await ws.send_str(frame.decode())
                    else:
                        await ws.send_bytes(frame)
            except TimeoutError:
                connection.drop()
                return
            except (ConnectionError, RuntimeError):
                connection.dropped = True  # the client is gone
                return
            connection.pending_bytes -= len(frame)

    async def _connection(self, request: web.Request) -> Connection | None:
        connection = self.connections.get(request.match_info["connection_id"])
        if connection is None:
            return None
        try:
            await asyncio.wait_for(connection.open.wait(), 5)
        except TimeoutError:
            return None
        return None if connection.ws.closed or connection.dropped else connection

    async def post_to_connection(self, request: web.Request) -> web.Response:
        data = await request.read()
        if len(data) > MAX_DATA_BYTES:
            return _aws_error(413, "PayloadTooLargeException", "Message too long")
        connection = await self._connection(request)
        if connection is None:
            return _gone()
        if connection.pending_bytes + len(data) > self._max_pending:
            connection.drop()  # it has not read what it was sent: as good as gone
            return _gone()
        connection.pending_bytes += len(data)
        connection.outbox.put_nowait(data)
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
        # After the frames posted before it (a destroy's last push, say).
        connection.outbox.put_nowait(_HANG_UP)
        return web.Response(status=204)


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _aws_error(status: int, error_type: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"message": message}),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def _gone() -> web.Response:
    return _aws_error(410, "GoneException", "Gone")
