from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack, local_stack

_client_ids = itertools.count()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The local stack as `make run` starts it, on the embedded store."""
    with local_stack() as running:
        yield running


class Participant:
    """Someone in a browser: a cookie jar, and WebSockets opened with it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.http = stack.client()

    def create(self) -> str:
        """Creates a room for the link key whose proof is PROOF; returns its ID."""
        response = self.http.post("/api/room/create", json={"verifier": VERIFIER})
        assert response.status_code == 200, response.text
        return str(response.json()["roomId"])

    def join(self, room_id: str, proof: str = PROOF) -> httpx.Response:
        return self.http.post("/api/room/join", params={"roomId": room_id}, json={"proof": proof})

    @property
    def token(self) -> str | None:
        """The cookie's value: this browser's token of each room it sits in."""
        return self.http.cookies.get("x-auth-token")

    @contextmanager
    def websocket(self, room_id: str) -> Iterator[ClientConnection]:
        headers = {"Origin": self.stack.origin}
        if self.token:
            headers["Cookie"] = f"x-auth-token={self.token}"
        with connect(
            f"{self.stack.ws_url}?roomId={room_id}", additional_headers=headers, open_timeout=5
        ) as ws:
            yield ws

    def send(self, room_id: str, text: str, **extra: Any) -> httpx.Response:
        return self.http.post(
            "/api/messages",
            params={"roomId": room_id},
            json={"text": text, "clientId": f"c{next(_client_ids)}", **extra},
        )


def next_event(ws: ClientConnection, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next event of the given type (others are skipped)."""
    while True:
        event = json.loads(ws.recv(timeout=timeout))
        if event.get("type") == kind:
            return event  # type: ignore[no-any-return]


def greet(ws: ClientConnection) -> int:
    """What the browser does on open: ping, and learn who is online from the pong."""
    ws.send(json.dumps({"action": "ping"}))
    return int(next_event(ws, "pong")["online"])


@pytest.fixture
def people(stack: LocalStack) -> Iterator[tuple[Participant, Participant, Participant]]:
    trio = (Participant(stack), Participant(stack), Participant(stack))
    yield trio
    for person in trio:
        person.http.close()


@pytest.fixture
def room(stack: LocalStack, people: tuple[Participant, Participant, Participant]) -> str:
    """A room that Ann and Bob (people[0], people[1]) have joined."""
    room_id = people[0].create()
    assert people[0].join(room_id).status_code == 200
    assert people[1].join(room_id).status_code == 200
    return str(room_id)
