"""The JSON shapes of what clients receive: messages and hellos, the same in
HTTP answers and in pushes. The one place that knows them."""

from __future__ import annotations

from .domain import SeatHello, StoredMessage


def message_payload(stored: StoredMessage, own: bool) -> dict[str, object]:
    message = stored.message
    return {
        "id": message.id,
        "seat": stored.seat,
        "text": message.text,
        "timestamp": message.timestamp,
        "own": own,
    }


def hello_payload(seat_hello: SeatHello) -> dict[str, object]:
    hello = seat_hello.hello
    payload: dict[str, object] = {
        "seat": seat_hello.seat,
        "generation": hello.generation,
        "commit": hello.commit,
        "mac": hello.mac,
    }
    if hello.pub is not None:
        payload["pub"] = hello.pub
    return payload
