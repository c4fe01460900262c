"""The JSON shapes clients receive are built in one place (payloads.py) and the
OpenAPI models only describe them: the two must name the same fields, so that an
HTTP answer, a push and docs/api.md cannot drift apart."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from privochat.domain import Hello, Message, SeatHello, StoredMessage
from privochat.http_schemas import HelloOut, MessageOut
from privochat.payloads import hello_payload, message_payload

MESSAGE = StoredMessage(
    seat=2, message=Message(id="m" * 21, text="3.AAAAAAAAAAA.AAAA", timestamp=1)
)
REVEALED = SeatHello(seat=1, hello=Hello(generation=1, commit="c" * 43, mac="m" * 43, pub="p" * 43))
COMMITTED = SeatHello(seat=1, hello=Hello(generation=1, commit="c" * 43, mac="m" * 43))


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        (message_payload(MESSAGE, reader_seat=1), MessageOut),
        (hello_payload(REVEALED), HelloOut),
    ],
    ids=["message", "hello"],
)
def test_each_payload_has_exactly_its_models_fields(
    payload: dict[str, object], model: type[BaseModel]
) -> None:
    assert set(payload) == set(model.model_fields)
    assert model.model_validate(payload).model_dump() == payload


def test_a_hello_not_revealed_has_no_pub_and_a_message_says_whose_it_is() -> None:
    assert "pub" not in hello_payload(COMMITTED)
    assert message_payload(MESSAGE, reader_seat=2)["own"] is True
    assert message_payload(MESSAGE, reader_seat=1)["own"] is False
