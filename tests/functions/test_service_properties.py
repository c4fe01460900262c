"""Property tests of the service rules: they hold for any input, not just examples."""

from __future__ import annotations

import contextlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from devkit.credentials import VERIFIER
from devkit.wire import label_of, wire_text
from privochat.domain import TEXT_MAX_CHARS, BadRequest, Limit, RoomFull
from privochat.service import ChatService, Limits
from tests.fakes import LuaRoomStore, RecordingPusher
from tests.support.rooms import SECRET, join

UNLIMITED = Limits(room_creations=Limit(10**9, 60), messages=Limit(10**9, 60))


def new_chat() -> ChatService:
    return ChatService(
        LuaRoomStore(),
        RecordingPusher(),
        room_ttl_seconds=600,
        limits=UNLIMITED,
        secret=SECRET,
    )


def room_with_two(chat: ChatService) -> tuple[str, str, str]:
    room_id, _ = chat.create_room("client", VERIFIER)
    return room_id, join(chat, room_id).token, join(chat, room_id).token


@settings(deadline=None)  # a loaded 2-core machine is slow, not wrong
@given(joiners=st.integers(min_value=1, max_value=12), rejoins=st.lists(st.integers(0, 11)))
def test_at_most_two_seats_whatever_the_order_of_joins(joiners: int, rejoins: list[int]) -> None:
    chat = new_chat()
    room_id, _ = chat.create_room("client", VERIFIER)
    seated: list[str] = []
    for _ in range(joiners):
        with contextlib.suppress(RoomFull):
            seated.append(join(chat, room_id).token)
    assert len(seated) == min(joiners, 2)
    for index in rejoins:
        if index < len(seated):
            assert join(chat, room_id, seated[index]).token == seated[index]


@settings(max_examples=50, deadline=None)
@given(
    texts=st.lists(st.text(min_size=1, max_size=30).filter(str.strip), min_size=1, max_size=15),
    data=st.data(),
)
def test_after_any_message_lists_exactly_the_later_ones(
    texts: list[str], data: st.DataObject
) -> None:
    chat = new_chat()
    room_id, ann, bob = room_with_two(chat)
    sent = [
        chat.send(room_id, ann if i % 2 else bob, wire_text(text), f"c{i}").message
        for i, text in enumerate(texts)
    ]
    k = data.draw(st.integers(0, len(sent) - 1))
    later = chat.messages(room_id, ann, after=sent[k].id).messages
    assert [m.message.id for m in later] == [m.id for m in sent[k + 1 :]]
    assert [label_of(m.message.text) for m in chat.messages(room_id, bob).messages] == texts


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@settings(max_examples=80, deadline=None)
@given(
    text=st.text(max_size=60)
    | st.text("2." + _B64URL + "+/=\n\U0001f600", max_size=40)
    | st.from_regex(r"\A2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{1,40}\Z")
    | st.just(wire_text("y", TEXT_MAX_CHARS + 1)),
    client_id=st.text(max_size=70),
)
@example(text="1.00000000000.0", client_id="0")  # version 1: the server reads no version
def test_a_message_is_stored_exactly_when_it_is_valid(text: str, client_id: str) -> None:
    chat = new_chat()
    room_id, ann, _ = room_with_two(chat)
    head, epoch, sealed = [*text.split(".", 2), "", ""][:3]
    valid = (
        len(text) <= TEXT_MAX_CHARS
        and head.isascii()  # any version, 1 to 999: a newer page needs no new server
        and head.isdigit()
        and len(head) <= 3
        and head[0] != "0"
        and len(epoch) == 11
        and len(sealed) >= 1
        and all(c in _B64URL for c in epoch + sealed)
        and 1 <= len(client_id) <= 64
        and all(c.isascii() and (c.isalnum() or c in "_-") for c in client_id)
    )
    try:
        chat.send(room_id, ann, text, client_id)
        accepted = True
    except BadRequest:
        accepted = False
    assert accepted == valid
    assert len(chat.messages(room_id, ann).messages) == (1 if valid else 0)


@settings(max_examples=50, deadline=None)
@given(client_ids=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=20))
def test_each_client_id_stores_one_message_however_often_it_is_retried(
    client_ids: list[str],
) -> None:
    chat = new_chat()
    room_id, ann, _ = room_with_two(chat)
    first: dict[str, str] = {}
    for client_id in client_ids:
        stored = chat.send(room_id, ann, wire_text(f"text {client_id}"), client_id)
        assert first.setdefault(client_id, stored.message.id) == stored.message.id
    assert len(chat.messages(room_id, ann).messages) == len(set(client_ids))
