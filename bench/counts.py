"""Upstash REST requests per operation, counted at the local stack's Upstash
endpoint (the scripts are warmed first, so each call is one EVALSHA)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.support.rooms import PROOF, VERIFIER
from tests.support.servers import LocalStack

OPERATIONS = (
    "create",
    "join",
    "ttl",
    "$connect",
    "send",
    "list",
    "ping",
    "typing",
    "$disconnect",
    "destroy",
)


def settled_count(stack: LocalStack, quiet_seconds: float = 0.3) -> int:
    """The request count once nothing (a late $disconnect, say) is under way."""
    count = stack.upstash_requests()
    while True:
        time.sleep(quiet_seconds)
        now = stack.upstash_requests()
        if now == count:
            return count
        count = now


def _next(ws: ClientConnection, kind: str) -> dict[str, object]:
    while True:
        event = json.loads(ws.recv(timeout=5))
        if event.get("type") == kind:
            return event  # type: ignore[no-any-return]


class _Person:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.http = stack.client()

    def call(
        self, method: str, path: str, room_id: str | None = None, **kwargs: object
    ) -> httpx.Response:
        params = {"roomId": room_id} if room_id else None
        response = self.http.request(method, path, params=params, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response

    def socket(self, sockets: ExitStack, room_id: str, greet: bool = True) -> ClientConnection:
        ws = sockets.enter_context(
            connect(
                f"{self.stack.ws_url}?roomId={room_id}",
                origin=Origin(self.stack.origin),
                additional_headers={"Cookie": f"x-auth-token={self.http.cookies['x-auth-token']}"},
                open_timeout=5,
            )
        )
        if greet:
            ws.send('{"action":"ping"}')
            _next(ws, "pong")
        return ws


def _operations(stack: LocalStack) -> Iterator[str | None]:
    """Every operation once. Yields an operation's name just before doing it, and
    None before a step that is not measured (and at the end): what happens
    between two yields is the named operation and nothing else."""
    ann, bob = _Person(stack), _Person(stack)
    with ExitStack() as sockets:
        yield "create"
        room_id = ann.call("POST", "/api/room/create", json={"verifier": VERIFIER}).json()["roomId"]
        yield "join"
        ann.call("POST", "/api/room/join", room_id, json={"proof": PROOF})
        yield None
        bob.call("POST", "/api/room/join", room_id, json={"proof": PROOF})
        bob_ws = bob.socket(sockets, room_id)
        yield "ttl"
        ann.call("GET", "/api/room/ttl", room_id)
        yield "$connect"  # done once the other participant hears of it; the greeting's ping is apart
        ann_ws = ann.socket(sockets, room_id, greet=False)
        _next(bob_ws, "presence")
        yield "send"
        ann.call(
            "POST", "/api/messages", room_id, json={"text": "one trip", "clientId": "one-trip"}
        )
        _next(bob_ws, "message")
        yield "list"
        ann.call("GET", "/api/messages", room_id)
        yield "ping"
        ann_ws.send('{"action":"ping"}')
        _next(ann_ws, "pong")
        yield "typing"
        ann_ws.send('{"action":"typing"}')
        _next(bob_ws, "typing")
        yield "$disconnect"
        ann_ws.close()
        _next(bob_ws, "presence")
        yield None
        bob_ws.close()
        # Destroy with nobody connected: the hang-ups it causes are $disconnects of their own.
        yield "destroy"
        ann.call("DELETE", "/api/room", room_id)
        yield None
    ann.http.close()
    bob.http.close()


def requests_per_operation(stack: LocalStack) -> dict[str, int]:
    """{operation: Upstash REST requests it made}, after a warm-up round (which
    loads every script, so that each call is one EVALSHA)."""
    for _ in _operations(stack):
        pass
    counts: dict[str, int] = {}
    measuring, before = None, 0
    for name in _operations(stack):
        now = settled_count(stack)
        if measuring is not None:
            counts[measuring] = now - before
        measuring, before = name, now
    return counts
