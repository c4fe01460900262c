"""Someone's browser without the page: a cookie jar, the site's Origin, the API's
calls and WebSockets opened with the cookie, over plain HTTP to a local stack.
What end-to-end tests, the protocol's oracle (tests/support/e2ee.py) and the
store benchmarks talk through. (The load generator, bench/loadgen.py, has an
asyncio client of its own: thousands of these at once need one event loop.)"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from .credentials import PROOF, VERIFIER

_client_ids = itertools.count()


class ApiClient:
    """Answers are returned as they come; `create` alone raises, since without a
    room there is nothing to go on with."""

    def __init__(self, origin: str, site_origin: str | None = None) -> None:
        """`origin`: where the stack listens; `site_origin`: the Origin header sent
        (another site's, to play a cross-site request)."""
        self.origin = origin
        self.ws_url = origin.replace("http", "ws", 1) + "/ws"
        self.http = httpx.Client(
            base_url=origin, headers={"Origin": site_origin or origin}, timeout=10
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def token(self) -> str | None:
        """The cookie's value: this browser's token of each room it sits in."""
        return self.http.cookies.get("x-auth-token")

    def create(self, verifier: str = VERIFIER) -> str:
        """Creates a room for the link key whose verifier this is; returns its ID."""
        response = self.http.post("/api/room/create", json={"verifier": verifier})
        response.raise_for_status()
        return str(response.json()["roomId"])

    def join(self, room_id: str, proof: str = PROOF) -> httpx.Response:
        return self.http.post("/api/room/join", params={"roomId": room_id}, json={"proof": proof})

    def hello(self, room_id: str, body: Mapping[str, Any]) -> httpx.Response:
        return self.http.post("/api/room/hello", params={"roomId": room_id}, json=dict(body))

    def send(
        self, room_id: str, text: str, client_id: str | None = None, **extra: Any
    ) -> httpx.Response:
        """A message; a fresh clientId unless given (a retry gives the same one)."""
        body = {"text": text, "clientId": client_id or f"c{next(_client_ids)}", **extra}
        return self.http.post("/api/messages", params={"roomId": room_id}, json=body)

    def messages(self, room_id: str, after: str | None = None) -> httpx.Response:
        """One page of the history (after the message `after`, if given)."""
        params = {"roomId": room_id, **({"after": after} if after else {})}
        return self.http.get("/api/messages", params=params)

    def ttl(self, room_id: str) -> httpx.Response:
        return self.http.get("/api/room/ttl", params={"roomId": room_id})

    def destroy(self, room_id: str) -> httpx.Response:
        return self.http.delete("/api/room", params={"roomId": room_id})

    @contextmanager
    def websocket(self, room_id: str) -> Iterator[ClientConnection]:
        """The room's WebSocket, opened as the browser opens it: the site's Origin
        and this browser's cookie."""
        headers = {"Origin": str(self.http.headers["Origin"])}
        if self.token:
            headers["Cookie"] = f"x-auth-token={self.token}"
        with connect(
            f"{self.ws_url}?roomId={room_id}", additional_headers=headers, open_timeout=5
        ) as ws:
            yield ws


def next_event(ws: ClientConnection, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next pushed event of the given type (others are skipped), within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        event: dict[str, Any] = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        if event.get("type") == kind:
            return event


def greet(ws: ClientConnection) -> int:
    """What the browser does on open: ping, and learn who is online from the pong."""
    ws.send(json.dumps({"action": "ping"}))
    return int(next_event(ws, "pong")["online"])
