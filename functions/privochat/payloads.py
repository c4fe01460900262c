"""The JSON shapes of what clients receive: messages and hellos, the same in
HTTP answers and in pushes. The one place that knows them."""

from __future__ import annotations

from .domain import SeatHello, StoredMessage


def message_payload(stored: StoredMessage, reader_seat: int) -> dict[str, object]:
    """A message as the participant in `reader_seat` receives it. `own` (docs/api.md)
    is decided here only: whether the reader's seat is the author's."""
    message = stored.message
    return {
        "id": message.id,
        "seat": stored.seat,
        "text": message.text,
        "timestamp": message.timestamp,
        "own": stored.seat == reader_seat,
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
