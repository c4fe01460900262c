"""tests/support/room_keys.py reads and writes the store as the server does: what it
writes, the API answers; what the server writes, it reads (the browser tests that play a
hostile server use it)."""

from __future__ import annotations

from devkit.api_client import ApiClient, greet
from devkit.servers import LocalStack, local_stack
from devkit.wire import label_of, wire_text
from tests.support.room_keys import RoomKeys


def _labels(client: ApiClient, room_id: str) -> list[str]:
    messages = client.messages(room_id).json()["messages"]
    return [label_of(each["text"]) for each in messages]


def test_the_helper_and_the_server_agree_on_messages_and_connections() -> None:
    stack: LocalStack
    with local_stack() as stack:
        ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
        room_id = ann.create()
        ann.join(room_id)
        bob.join(room_id)
        for label in ("one", "two", "three"):
            ann.send(room_id, wire_text(label)).raise_for_status()
        keys = RoomKeys(stack, room_id)
        entries = keys.entries()
        assert [label_of(e.split("|", 3)[3]) for e in entries] == ["one", "two", "three"]
        keys.swap(0, 2)
        assert _labels(bob, room_id) == ["three", "two", "one"]
        assert keys.remove(entries[1]) == 1
        assert _labels(bob, room_id) == ["three", "one"]
        keys.append(entries[1])
        assert _labels(bob, room_id) == ["three", "one", "two"]
        ann.send(room_id, wire_text("four")).raise_for_status()
        assert _labels(bob, room_id) == ["three", "one", "two", "four"]
        with bob.websocket(room_id) as ws:
            greet(ws)
            [(connection, seat)] = keys.connections().items()
            assert seat == 2
            keys.forget(connection)
            assert keys.connections() == {}
