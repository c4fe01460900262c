"""Every rule of the contract at the service level, with in-memory fakes."""

from __future__ import annotations

import pytest

from privochat.domain import (
    BadRequest,
    Limit,
    RateLimited,
    RoomFull,
    RoomNotFound,
    Unauthorized,
    new_token,
    participant_key,
)
from privochat.service import ChatService, Limits
from tests.fakes import InMemoryRoomStore, RecordingPusher

CLIENT = "203.0.113.7"
GENEROUS = Limits(room_creations=Limit(10_000, 60), messages=Limit(10_000, 60))


@pytest.fixture
def pusher() -> RecordingPusher:
    return RecordingPusher()


@pytest.fixture
def store() -> InMemoryRoomStore:
    return InMemoryRoomStore()


@pytest.fixture
def chat(store: InMemoryRoomStore, pusher: RecordingPusher, clock: list[int]) -> ChatService:
    return ChatService(
        store, pusher, room_ttl_seconds=600, limits=GENEROUS, clock_ms=lambda: clock[0]
    )


@pytest.fixture
def clock() -> list[int]:
    """Now, in ms; a test may move it on."""
    return [1_700_000_000_000]


@pytest.fixture
def room(chat: ChatService) -> tuple[str, str, str]:
    """A room with two participants: (room ID, Ann's token, Bob's token)."""
    room_id, _ = chat.create_room(CLIENT)
    return room_id, chat.join(room_id, None).token, chat.join(room_id, None).token


def test_create_room_gives_a_21_character_id_and_the_ttl(chat: ChatService) -> None:
    room_id, ttl = chat.create_room(CLIENT)
    assert len(room_id) == 21 and ttl == 600


def test_create_room_never_reuses_an_id(chat: ChatService) -> None:
    assert len({chat.create_room(CLIENT)[0] for _ in range(200)}) == 200


def test_join_hands_out_a_256_bit_token_and_counts_participants(chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT)
    first = chat.join(room_id, None)
    assert len(first.token) == 43 and first.participants == 1
    assert chat.join(room_id, None).participants == 2


def test_joining_again_keeps_the_token_and_seat(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    again = chat.join(room_id, ann)
    assert again.token == ann and again.participants == 2


def test_third_joiner_gets_room_full(chat: ChatService, room: tuple[str, str, str]) -> None:
    with pytest.raises(RoomFull):
        chat.join(room[0], None)


def test_a_malformed_cookie_is_replaced_not_trusted(chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT)
    assert chat.join(room_id, "short").token != "short"


def test_one_browser_token_opens_several_rooms(chat: ChatService) -> None:
    first, _ = chat.create_room(CLIENT)
    second, _ = chat.create_room(CLIENT)
    token = chat.join(first, None).token
    assert chat.join(second, token).token == token
    assert 598 <= chat.ttl(first, token) <= 600
    assert 598 <= chat.ttl(second, token) <= 600


def test_the_store_never_sees_the_token(store: InMemoryRoomStore, chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT)
    token = chat.join(room_id, None).token
    seats = store._rooms[room_id].seats
    assert token not in seats and participant_key(room_id, token) in seats


@pytest.mark.parametrize(
    "room_id", [None, "", "short", "x" * 22, "a" * 20 + "!", "../../etc/passwd12"]
)
def test_malformed_room_ids_are_bad_requests(chat: ChatService, room_id: str | None) -> None:
    with pytest.raises(BadRequest):
        chat.join(room_id, None)
    with pytest.raises(BadRequest):
        chat.ttl(room_id, new_token())


def test_unknown_rooms_are_not_found(chat: ChatService) -> None:
    with pytest.raises(RoomNotFound):
        chat.join("A" * 21, None)
    with pytest.raises(RoomNotFound):
        chat.messages("A" * 21, new_token())


def test_requests_without_a_participants_cookie_are_unauthorized(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id = room[0]
    for token in (None, "", new_token()):
        with pytest.raises(Unauthorized):
            chat.messages(room_id, token)
        with pytest.raises(Unauthorized):
            chat.send(room_id, token, "eve", "hi")
        with pytest.raises(Unauthorized):
            chat.destroy(room_id, token)


def test_a_participant_of_one_room_can_do_nothing_in_another(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    other, _ = chat.create_room(CLIENT)
    chat.join(other, None)
    with pytest.raises(Unauthorized):
        chat.messages(other, room[1])


def test_send_stores_and_pushes_the_message_to_every_connection(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    message = chat.send(room_id, ann, "ann", "hello")
    assert pusher.events_for("ca")[-1] == {"type": "message", "message": message.to_wire(own=True)}
    assert pusher.events_for("cb")[-1] == {"type": "message", "message": message.to_wire(own=False)}
    assert chat.messages(room_id, bob) == [message.to_wire(own=False)]
    assert chat.messages(room_id, ann) == [message.to_wire(own=True)]


@pytest.mark.parametrize(
    ("sender", "text"),
    [("", "hi"), ("   ", "hi"), ("x" * 101, "hi"), ("ann", ""), ("ann", "  "), ("ann", "x" * 8001)],
)
def test_empty_or_over_long_messages_are_refused_and_nothing_is_stored(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str], sender: str, text: str
) -> None:
    room_id, ann, _ = room
    with pytest.raises(BadRequest):
        chat.send(room_id, ann, sender, text)
    assert chat.messages(room_id, ann) == []
    assert pusher.pushed == []


def test_the_longest_allowed_message_is_accepted(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    chat.send(room_id, ann, "x" * 100, "y" * 8000)
    assert len(chat.messages(room_id, ann)) == 1


def test_a_retry_with_the_same_client_id_stores_once_and_returns_the_first(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    first = chat.send(room_id, ann, "ann", "hello", client_id="c1")
    retry = chat.send(room_id, ann, "ann", "hello", client_id="c1")
    assert retry == first
    assert len(chat.messages(room_id, ann)) == 1


def test_a_message_pushed_to_another_tab_of_its_author_is_marked_own(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ann-tab-1")
    chat.connect(room_id, ann, "ann-tab-2")
    chat.connect(room_id, bob, "cb")
    message = chat.send(room_id, ann, "ann", "from tab 1")
    for tab in ("ann-tab-1", "ann-tab-2"):
        assert pusher.events_for(tab)[-1]["message"] == message.to_wire(own=True)
    assert pusher.events_for("cb")[-1]["message"] == message.to_wire(own=False)


def test_a_malformed_client_id_is_a_bad_request(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    with pytest.raises(BadRequest):
        chat.send(room[0], room[1], "ann", "hi", client_id="no spaces allowed")


def test_messages_after_an_id_are_only_the_later_ones(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    sent = [chat.send(room_id, ann if i % 2 else bob, "x", f"m{i}") for i in range(5)]
    later = chat.messages(room_id, ann, after=sent[2].id)
    assert [m["id"] for m in later] == [sent[3].id, sent[4].id]
    with pytest.raises(BadRequest):
        chat.messages(room_id, ann, after="not an id")


def test_destroy_tells_every_connection_then_hangs_up_and_deletes_all(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    chat.send(room_id, ann, "ann", "bye")
    chat.destroy(room_id, bob)
    assert pusher.events_for("ca")[-1] == {"type": "destroy"}
    assert pusher.events_for("cb")[-1] == {"type": "destroy"}
    assert sorted(pusher.closed) == ["ca", "cb"]
    for call in (
        lambda: chat.messages(room_id, ann),
        lambda: chat.ttl(room_id, bob),
        lambda: chat.join(room_id, ann),
        lambda: chat.destroy(room_id, ann),
    ):
        with pytest.raises(RoomNotFound):
            call()


def test_presence_goes_one_two_one(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    assert chat.ping("ca")
    chat.connect(room_id, bob, "cb")
    chat.disconnect("cb")
    online = [e["online"] for e in pusher.events_for("ca") if "online" in e]
    assert online == [1, 2, 1]
    # The gateway cannot push to a connection during its own $connect.
    assert pusher.events_for("cb") == []


def test_connect_is_refused_to_strangers_and_stores_nothing(
    chat: ChatService, store: InMemoryRoomStore, room: tuple[str, str, str]
) -> None:
    with pytest.raises(Unauthorized):
        chat.connect(room[0], new_token(), "cx")
    with pytest.raises(RoomNotFound):
        chat.connect("B" * 21, room[1], "cx")
    assert store.connections_of("cx") is None


def test_typing_reaches_only_the_other_participant(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca1")
    chat.connect(room_id, ann, "ca2")
    chat.connect(room_id, bob, "cb")
    assert chat.typing("ca1")
    assert {"type": "typing"} in pusher.events_for("cb")
    assert {"type": "typing"} not in pusher.events_for("ca2")


def test_a_gone_connection_is_forgotten_and_the_push_goes_on(
    chat: ChatService,
    pusher: RecordingPusher,
    store: InMemoryRoomStore,
    room: tuple[str, str, str],
    clock: list[int],
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    clock[0] += 60_000
    pusher.gone.add("ca")
    message = chat.send(room_id, bob, "bob", "still there?")
    assert pusher.events_for("cb")[-1]["message"] == message.to_wire(own=True)  # type: ignore[index]
    assert store.connections_of("cb").seats == {"cb": 2}  # type: ignore[union-attr]


def test_events_from_unknown_connections_are_ignored(
    chat: ChatService, pusher: RecordingPusher
) -> None:
    assert chat.ping("nobody") is False
    assert chat.typing("nobody") is False
    chat.disconnect("nobody")
    assert pusher.pushed == []


def test_room_creation_over_the_limit_is_rate_limited_per_client(
    store: InMemoryRoomStore, pusher: RecordingPusher
) -> None:
    chat = ChatService(
        store, pusher, 600, limits=Limits(room_creations=Limit(2, 60), messages=GENEROUS.messages)
    )
    chat.create_room(CLIENT)
    chat.create_room(CLIENT)
    with pytest.raises(RateLimited) as caught:
        chat.create_room(CLIENT)
    assert 1 <= caught.value.retry_after_seconds <= 60
    chat.create_room("198.51.100.1")


def test_sending_over_the_limit_is_rate_limited_and_stores_nothing(
    store: InMemoryRoomStore, pusher: RecordingPusher
) -> None:
    chat = ChatService(
        store,
        pusher,
        600,
        limits=Limits(room_creations=GENEROUS.room_creations, messages=Limit(2, 60)),
    )
    room_id, _ = chat.create_room(CLIENT)
    ann = chat.join(room_id, None).token
    chat.send(room_id, ann, "ann", "one")
    chat.send(room_id, ann, "ann", "two")
    with pytest.raises(RateLimited):
        chat.send(room_id, ann, "ann", "three")
    assert [m["text"] for m in chat.messages(room_id, ann)] == ["one", "two"]


def test_a_410_for_a_connection_still_connecting_does_not_forget_it(
    store: InMemoryRoomStore, pusher: RecordingPusher
) -> None:
    """Both connect at once: Bob's $connect pushes presence to Ann's connection
    while hers is still running; the gateway answers 410; Ann stays in the room."""
    now = [1_700_000_000_000]
    chat = ChatService(store, pusher, 600, limits=GENEROUS, clock_ms=lambda: now[0])
    room_id, _ = chat.create_room(CLIENT)
    ann, bob = chat.join(room_id, None).token, chat.join(room_id, None).token
    chat.connect(room_id, ann, "ca")
    pusher.gone.add("ca")
    now[0] += 500
    chat.connect(room_id, bob, "cb")
    assert store.connections_of("ca") is not None
    now[0] += 60_000  # long after: a 410 now means gone
    chat.send(room_id, bob, "bob", "hello?")
    assert store.connections_of("ca") is None
