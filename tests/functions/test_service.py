"""Every rule of the contract (docs/api.md) at the service level, on the real store and
its Lua scripts in process (tests/fakes.py) and a recording pusher."""

from __future__ import annotations

import time

import pytest

from devkit.credentials import PROOF, VERIFIER, WRONG_PROOF
from devkit.wire import label_of, largest_wire_text, wire_text
from privochat.domain import (
    FRAMES_PER_CONNECTION,
    HELLOS_PER_SEAT,
    HISTORY_CAP,
    TEXT_MAX_CHARS,
    TYPING_EVERY_MS,
    BadRequest,
    ClientIdReused,
    Limit,
    Message,
    RateLimited,
    RoomConnections,
    RoomFull,
    RoomNotFound,
    StoredMessage,
    Unauthorized,
    Unavailable,
    WrongKey,
    new_token,
    participant_key,
)
from privochat.payloads import message_payload
from privochat.service import PAGE_TEXT_BYTES, PEERS_FRESH_MS, ChatService, Limits
from tests.fakes import LuaRoomStore, RecordingPusher
from tests.support.rooms import SECRET, join, key32

CLIENT = "203.0.113.7"
GENEROUS = Limits(room_creations=Limit(10_000, 60), messages=Limit(10_000, 60))


@pytest.fixture
def pusher() -> RecordingPusher:
    return RecordingPusher()


@pytest.fixture
def store() -> LuaRoomStore:
    """The real store and its Lua scripts, in process; time comes from the service."""
    return LuaRoomStore()


@pytest.fixture
def chat(store: LuaRoomStore, pusher: RecordingPusher, clock: list[int]) -> ChatService:
    return ChatService(
        store,
        pusher,
        room_ttl_seconds=600,
        limits=GENEROUS,
        secret=SECRET,
        clock_ms=lambda: clock[0],
    )


_sends = iter(range(1_000_000))


def send(chat: ChatService, room_id: str, token: str | None, label: str) -> StoredMessage:
    """A message whose text is `label` spelt as a wire text."""
    return chat.send(room_id, token, wire_text(label), f"c{next(_sends)}")


def texts(chat: ChatService, room_id: str, token: str) -> list[str]:
    """The labels of the messages sent with `send`."""
    return [label_of(each.message.text) for each in chat.messages(room_id, token).messages]


@pytest.fixture
def clock() -> list[int]:
    """Now, in ms; a test may move it on. It starts at the real time: Redis expires a
    room's keys on its own clock, at the expiry the service's clock gave them."""
    return [time.time_ns() // 1_000_000]


@pytest.fixture
def room(chat: ChatService) -> tuple[str, str, str]:
    """A room with two participants: (room ID, Ann's token, Bob's token)."""
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    return room_id, join(chat, room_id).token, join(chat, room_id).token


def test_create_room_gives_a_21_character_id_and_the_ttl(chat: ChatService) -> None:
    room_id, ttl = chat.create_room(CLIENT, VERIFIER)
    assert len(room_id) == 21 and ttl == 600


def test_create_room_never_overwrites_a_room_whose_id_is_drawn_again(
    chat: ChatService, store: LuaRoomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = chat.create_room(CLIENT, VERIFIER)
    join(chat, first)
    drawn = iter([first, first, "B" * 21])
    monkeypatch.setattr("privochat.service.new_id", lambda: next(drawn))
    assert chat.create_room(CLIENT, VERIFIER)[0] == "B" * 21
    assert store.room_fields(first)["seats"] == "1"  # the first room is untouched


def test_create_room_gives_up_after_three_taken_ids(
    chat: ChatService, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken, _ = chat.create_room(CLIENT, VERIFIER)
    monkeypatch.setattr("privochat.service.new_id", lambda: taken)
    with pytest.raises(Unavailable):
        chat.create_room(CLIENT, VERIFIER)


def test_join_hands_out_a_256_bit_token_and_counts_participants(chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    first = join(chat, room_id)
    assert len(first.token) == 43 and first.participants == 1
    assert join(chat, room_id).participants == 2


def test_joining_again_keeps_the_token_and_seat(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    again = join(chat, room_id, ann)
    assert again.token == ann and again.participants == 2


def test_third_joiner_gets_room_full(chat: ChatService, room: tuple[str, str, str]) -> None:
    with pytest.raises(RoomFull):
        join(chat, room[0])


def test_a_malformed_cookie_is_replaced_not_trusted(chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    assert join(chat, room_id, "short").token != "short"


@pytest.mark.parametrize(
    "planted",
    [
        new_token("A" * 21, b"another server's secret........."),
        "x" * 43,  # well-formed, never issued
    ],
)
def test_a_token_this_server_never_issued_for_the_room_is_replaced(
    chat: ChatService, planted: str
) -> None:
    """No session fixation: a token planted in the browser never becomes a seat."""
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    assert chat.seat_token(room_id, planted) != planted


def _respelled(token: str) -> str:
    """The same 32 bytes with one of the 2 unused bits of the last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:-1] + alphabet[alphabet.index(token[-1]) | 1]


def test_another_spelling_of_a_seated_token_is_no_token(chat: ChatService) -> None:
    """A token has one spelling: a variant is not the participant, and what it
    brings to a join is replaced by a fresh token (it takes no seat as itself)."""
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann = join(chat, room_id).token
    variant = _respelled(ann)
    assert variant != ann
    with pytest.raises(Unauthorized):
        chat.ttl(room_id, variant)
    assert chat.seat_token(room_id, variant) not in (ann, variant)


def test_a_token_of_another_room_is_replaced(chat: ChatService) -> None:
    first, _ = chat.create_room(CLIENT, VERIFIER)
    second, _ = chat.create_room(CLIENT, VERIFIER)
    token = join(chat, first).token
    other = join(chat, second, token).token
    assert other != token
    with pytest.raises(Unauthorized):
        chat.ttl(second, token)
    assert 598 <= chat.ttl(first, token) <= 600
    assert 598 <= chat.ttl(second, other) <= 600


def test_a_token_handed_out_before_a_lost_answer_gets_the_same_seat(
    chat: ChatService, store: LuaRoomStore
) -> None:
    """The token is chosen before the store is touched: if the join was applied
    but its answer lost, the retry with that token finds its seat, never room-full."""
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    token = chat.seat_token(room_id, None)
    first = chat.join(room_id, token, PROOF)  # applied; imagine the answer lost
    join(chat, room_id)  # the other person takes the second seat meanwhile
    assert chat.seat_token(room_id, token) == token
    retry = chat.join(room_id, token, PROOF)
    assert (retry.seat, retry.participants) == (first.seat, 2)


def test_a_wrong_proof_is_refused_and_takes_no_seat(chat: ChatService, store: LuaRoomStore) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    stranger = chat.seat_token(room_id, None)
    with pytest.raises(WrongKey):
        chat.join(room_id, stranger, WRONG_PROOF)
    assert "seats" not in store.room_fields(room_id)
    with pytest.raises(BadRequest):
        chat.join(room_id, stranger, None)
    assert join(chat, room_id).participants == 1


def test_a_seated_participant_must_prove_the_key_again(chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    token = join(chat, room_id).token
    with pytest.raises(WrongKey):
        chat.join(room_id, token, WRONG_PROOF)


@pytest.mark.parametrize("verifier", ["", "short", VERIFIER[:-1] + "B", VERIFIER + "A"])
def test_a_malformed_verifier_creates_nothing(
    chat: ChatService, store: LuaRoomStore, verifier: str
) -> None:
    with pytest.raises(BadRequest):
        chat.create_room(CLIENT, verifier)
    assert store.keys("meta:*") == []


def test_the_store_keeps_the_verifier_never_the_proof(
    chat: ChatService, store: LuaRoomStore
) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    join(chat, room_id)
    fields = store.room_fields(room_id)
    assert fields["verifier"].partition(":")[0] == VERIFIER != PROOF
    assert PROOF not in repr(fields)


def test_hellos_are_kept_per_seat_relayed_and_given_to_joiners(
    chat: ChatService, pusher: RecordingPusher
) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann = join(chat, room_id).token
    chat.connect(room_id, ann, "ca")
    chat.publish_hello(room_id, ann, 1, key32("C"), key32("M"))
    bob = join(chat, room_id)
    assert [(h.seat, h.hello.commit, h.hello.pub) for h in bob.hellos] == [(1, key32("C"), None)]
    chat.connect(room_id, bob.token, "cb")
    published = chat.publish_hello(room_id, bob.token, 1, key32("D"), key32("N"), key32("P"))
    assert published.seat == 2
    hello = {"seat": 2, "generation": 1, "commit": key32("D"), "mac": key32("N"), "pub": key32("P")}
    assert pusher.events_for("ca")[-1] == {"type": "hello", "hello": hello}
    history = chat.messages(room_id, ann)
    assert [h.seat for h in history.hellos] == [1, 2]


@pytest.mark.parametrize(
    ("generation", "commit", "mac", "pub"),
    [
        (0, key32("C"), key32("M"), None),
        (1, "short", key32("M"), None),
        (1, key32("C"), key32("M"), "p"),
    ],
)
def test_a_malformed_hello_is_refused(
    chat: ChatService, room: tuple[str, str, str], generation: int, commit: str, mac: str, pub: str
) -> None:
    with pytest.raises(BadRequest):
        chat.publish_hello(room[0], room[1], generation, commit, mac, pub)
    assert chat.messages(room[0], room[1]).hellos == ()


def test_a_seat_past_its_hello_limit_is_refused_and_nothing_is_relayed(
    chat: ChatService, pusher: RecordingPusher
) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann = join(chat, room_id).token
    bob = join(chat, room_id).token
    chat.connect(room_id, bob, "cb")
    for generation in range(1, HELLOS_PER_SEAT.max_requests + 1):
        chat.publish_hello(room_id, ann, generation, key32("C"), key32("M"))
    relayed = len(pusher.events_for("cb"))
    with pytest.raises(RateLimited):
        chat.publish_hello(room_id, ann, 99, key32("C"), key32("M"))
    assert len(pusher.events_for("cb")) == relayed
    assert [h.hello.generation for h in chat.messages(room_id, ann).hellos] == [
        HELLOS_PER_SEAT.max_requests
    ]


def test_only_participants_publish_hellos(chat: ChatService, room: tuple[str, str, str]) -> None:
    with pytest.raises(Unauthorized):
        chat.publish_hello(room[0], new_token(room[0], b"forged" * 6), 1, key32("C"), key32("M"))


def test_the_store_never_sees_the_token(store: LuaRoomStore, chat: ChatService) -> None:
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    token = join(chat, room_id).token
    fields = store.room_fields(room_id)
    assert token not in repr(fields) and f"p:{participant_key(room_id, token)}" in fields


@pytest.mark.parametrize(
    "room_id", [None, "", "short", "x" * 22, "a" * 20 + "!", "../../etc/passwd12"]
)
def test_malformed_room_ids_are_bad_requests(chat: ChatService, room_id: str | None) -> None:
    with pytest.raises(BadRequest):
        join(chat, room_id)
    with pytest.raises(BadRequest):
        chat.ttl(room_id, new_token("A" * 21, SECRET))


def test_unknown_rooms_are_not_found(chat: ChatService) -> None:
    with pytest.raises(RoomNotFound):
        join(chat, "A" * 21)
    with pytest.raises(RoomNotFound):
        chat.messages("A" * 21, new_token("A" * 21, SECRET))


def test_requests_without_a_participants_cookie_are_unauthorized(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id = room[0]
    for token in (None, "", new_token("A" * 21, SECRET)):
        with pytest.raises(Unauthorized):
            chat.messages(room_id, token)
        with pytest.raises(Unauthorized):
            send(chat, room_id, token, "hi")
        with pytest.raises(Unauthorized):
            chat.destroy(room_id, token)


def test_a_participant_of_one_room_can_do_nothing_in_another(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    other, _ = chat.create_room(CLIENT, VERIFIER)
    join(chat, other)
    with pytest.raises(Unauthorized):
        chat.messages(other, room[1])


def test_send_stores_and_pushes_the_message_to_every_connection(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    message = send(chat, room_id, ann, "hello")
    assert message.seat == 1
    own, theirs = message_payload(message, message.seat), message_payload(message, 3 - message.seat)
    assert pusher.events_for("ca")[-1] == {"type": "message", "message": own}
    assert pusher.events_for("cb")[-1] == {"type": "message", "message": theirs}
    assert chat.messages(room_id, bob).messages == [message]
    assert texts(chat, room_id, ann) == ["hello"]


def test_own_is_decided_once_by_the_readers_seat() -> None:
    """Issue 23: payloads.py alone says whether a message is the reader's own (the
    push to each seat, the send's answer and the history all ask it), from the seat."""
    stored = StoredMessage(2, Message("A" * 21, wire_text("hi"), 1_700_000_000_000))
    assert message_payload(stored, reader_seat=2)["own"] is True
    assert message_payload(stored, reader_seat=1)["own"] is False


NOT_WIRE_TEXTS = [
    "",
    wire_text("x", 11_001),  # one character too many
    "\U0001f600" * 8000,  # 8,000 characters, 32,000 bytes: the probe's page was 6.42 MB
    "hello",
    "3.AAAAAAAAAAA.",  # nothing sealed
    "0.AAAAAAAAAAA.aGk",  # no version 0
    "1000.AAAAAAAAAAA.aGk",  # versions have at most 3 digits
    "3.AAAAAAAAAA.aGk",  # a 10-character epoch
    "3.AAAAAAAAAAA.a+k/",  # base64, not base64url
    "3.AAAAAAAAAAA.aGk=",  # padded
    "3.AAAAAAAAAAA.aGk\n",
    "2.AAAAAAAAAAA.aGk\U0001f600",
]


@pytest.mark.parametrize("text", NOT_WIRE_TEXTS)
def test_a_text_that_is_not_a_wire_text_is_refused_and_nothing_is_stored(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str], text: str
) -> None:
    """Only the wire alphabet (ASCII): a text's bytes are its characters."""
    room_id, ann, _ = room
    with pytest.raises(BadRequest, match="wire text"):
        chat.send(room_id, ann, text, "c")
    assert texts(chat, room_id, ann) == []
    assert pusher.pushed == []


def test_the_longest_sealed_message_is_accepted(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    chat.send(room_id, ann, largest_wire_text(), "c")
    assert len(chat.messages(room_id, ann).messages) == 1


def test_a_send_without_a_client_id_is_refused(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    """Every send names itself, so a retry after a lost answer cannot store twice."""
    with pytest.raises(BadRequest):
        chat.send(room[0], room[1], wire_text("hi"), None)
    assert texts(chat, room[0], room[1]) == []


def test_a_retry_with_the_same_client_id_stores_once_and_returns_the_first(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    first = chat.send(room_id, ann, wire_text("hello"), "c1")
    retry = chat.send(room_id, ann, wire_text("hello"), "c1")
    assert retry == first
    assert len(texts(chat, room_id, ann)) == 1


def test_a_retry_after_the_cap_dropped_its_message_never_pushes_an_unstored_text(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    """Another text under a dropped message's clientId is refused and pushed
    nowhere (it was pushed under the first message's ID); the same text gets the
    first message back, as every retry does."""
    room_id, ann, bob = room
    chat.connect(room_id, bob, "cb")
    first = chat.send(room_id, ann, wire_text("the first text"), "first")
    for i in range(HISTORY_CAP):
        send(chat, room_id, ann, f"m{i}")
    pushes = len(pusher.pushed)
    with pytest.raises(ClientIdReused):
        chat.send(room_id, ann, wire_text("another text"), "first")
    assert len(pusher.pushed) == pushes
    assert chat.send(room_id, ann, wire_text("the first text"), "first") == first
    assert pusher.events_for("cb")[-1]["message"] == message_payload(first, 3 - first.seat)
    assert "another text" not in texts(chat, room_id, ann)


def test_history_comes_in_bounded_pages(chat: ChatService, room: tuple[str, str, str]) -> None:
    room_id, ann, _ = room
    sent = [send(chat, room_id, ann, f"m{i}").message.id for i in range(450)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = chat.messages(room_id, ann, after)
        pages += 1
        assert len(page.messages) <= 200
        seen += [each.message.id for each in page.messages]
        if not page.more:
            break
        after = seen[-1]
    assert seen == sent and pages == 3


def test_a_page_holds_at_most_page_text_bytes_of_texts(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    """200 of the largest texts are 2.2 MB: the page ends before 2 MB, the next
    page goes on from there."""
    room_id, ann, _ = room
    sent = [chat.send(room_id, ann, largest_wire_text(), f"l{i}").message for i in range(200)]
    first = chat.messages(room_id, ann)
    assert len(first.messages) == PAGE_TEXT_BYTES // TEXT_MAX_CHARS == 181
    assert first.more
    rest = chat.messages(room_id, ann, first.messages[-1].message.id)
    assert [each.message for each in first.messages + rest.messages] == sent
    assert not rest.more


def test_a_message_pushed_to_another_tab_of_its_author_is_marked_own(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ann-tab-1")
    chat.connect(room_id, ann, "ann-tab-2")
    chat.connect(room_id, bob, "cb")
    message = send(chat, room_id, ann, "from tab 1")
    for tab in ("ann-tab-1", "ann-tab-2"):
        assert pusher.events_for(tab)[-1]["message"] == message_payload(message, message.seat)
    assert pusher.events_for("cb")[-1]["message"] == message_payload(message, 3 - message.seat)


def test_a_malformed_client_id_is_a_bad_request(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    with pytest.raises(BadRequest):
        chat.send(room[0], room[1], wire_text("hi"), "no spaces allowed")


def test_messages_after_an_id_are_only_the_later_ones(
    chat: ChatService, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    sent = [send(chat, room_id, ann if i % 2 else bob, f"m{i}").message for i in range(5)]
    later = chat.messages(room_id, ann, after=sent[2].id).messages
    assert [m.message.id for m in later] == [sent[3].id, sent[4].id]
    with pytest.raises(BadRequest):
        chat.messages(room_id, ann, after="not an id")


def test_destroy_tells_every_connection_then_hangs_up_and_deletes_all(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    send(chat, room_id, ann, "bye")
    chat.destroy(room_id, bob)
    assert pusher.events_for("ca")[-1] == {"type": "destroy"}
    assert pusher.events_for("cb")[-1] == {"type": "destroy"}
    assert sorted(pusher.closed) == ["ca", "cb"]
    for call in (
        lambda: chat.messages(room_id, ann),
        lambda: chat.ttl(room_id, bob),
        lambda: join(chat, room_id, ann),
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
    chat: ChatService, store: LuaRoomStore, room: tuple[str, str, str]
) -> None:
    with pytest.raises(Unauthorized):
        chat.connect(room[0], new_token(room[0], SECRET), "cx")  # issued, but no seat
    with pytest.raises(RoomNotFound):
        chat.connect("B" * 21, new_token("B" * 21, SECRET), "cx")
    assert store.connections("cx") is None


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


def test_a_burst_of_typing_frames_is_one_push_per_interval(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str], clock: list[int]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca1")
    chat.connect(room_id, bob, "cb")
    for _ in range(50):  # within the connection's frame budget
        assert chat.typing("ca1")
    assert pusher.events_for("cb").count({"type": "typing"}) == 1
    assert {"type": "typing"} not in pusher.events_for("ca1"), "never to its own seat"
    clock[0] += TYPING_EVERY_MS
    chat.typing("ca1", room_id)
    assert pusher.events_for("cb").count({"type": "typing"}) == 2


class CountingStore(LuaRoomStore):
    """Counts the reads a relay or a ping makes (each one billed command at Upstash)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def connections(
        self, connection_id: str, room_id: str | None = None
    ) -> tuple[RoomConnections, int] | None:
        self.reads += 1
        return super().connections(connection_id, room_id)


def test_a_relay_reads_the_store_at_most_once_per_freshness_window_and_stores_nothing(
    pusher: RecordingPusher, clock: list[int]
) -> None:
    store = CountingStore()
    chat = ChatService(store, pusher, 600, GENEROUS, SECRET, clock_ms=lambda: clock[0])
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann, bob = join(chat, room_id).token, join(chat, room_id).token
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    receipt: dict[str, object] = {"type": "receipt", "sealed": "2.AAAAAAAAAAA.aGk"}
    for _ in range(10):
        assert chat.relay("ca", receipt, room_id)
        clock[0] += 1_000
    assert pusher.events_for("cb") == [receipt] * 10
    assert store.reads == 1, "one read, then the remembered peers"
    clock[0] += PEERS_FRESH_MS
    chat.relay("ca", receipt, room_id)
    assert store.reads == 2
    assert chat.messages(room_id, ann).messages == [], "a relayed frame is never stored"
    # A peer that is gone is forgotten at once: the next relay reads again.
    pusher.gone.add("cb")
    chat.relay("ca", receipt, room_id)
    chat.relay("ca", receipt, room_id)
    assert store.reads == 3


def test_a_relay_from_an_unknown_connection_is_hung_up(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str]
) -> None:
    room_id, ann, _ = room
    assert chat.relay("nobody", {"type": "receipt"}) is False
    assert chat.relay("nobody", {"type": "receipt"}, room_id) is False
    assert pusher.closed == ["nobody", "nobody"]
    chat.connect(room_id, ann, "ca")
    assert chat.relay("ca", {"type": "receipt"}, "B" * 21) is False, "not its room"


def test_a_pong_carries_the_rooms_expiry_and_reads_the_store_every_time(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str], clock: list[int]
) -> None:
    created = clock[0]
    room_id, ann, _ = room
    chat.connect(room_id, ann, "ca")
    assert chat.ping("ca", room_id)
    expires_at = join(chat, room_id, ann).expires_at_ms
    assert pusher.events_for("ca") == [{"type": "pong", "online": 1, "expiresAt": expires_at}]
    assert expires_at == created + 600_000


def test_a_gone_connection_is_forgotten_and_the_push_goes_on(
    chat: ChatService,
    pusher: RecordingPusher,
    store: LuaRoomStore,
    room: tuple[str, str, str],
    clock: list[int],
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    clock[0] += 60_000
    pusher.gone.add("ca")
    message = send(chat, room_id, bob, "still there?")
    assert pusher.events_for("cb")[-1]["message"] == message_payload(message, message.seat)
    remaining = store.connections("cb")
    assert remaining is not None and remaining[0].seats == {"cb": 2}


def test_a_connection_past_its_frame_budget_is_told_why_and_hung_up(
    chat: ChatService, pusher: RecordingPusher, room: tuple[str, str, str], clock: list[int]
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    clock[0] -= clock[0] % 60_000  # the start of a window
    for i in range(FRAMES_PER_CONNECTION.max_requests):
        assert chat.ping("ca") if i % 2 else chat.typing("ca")
    assert pusher.closed == []
    with pytest.raises(RateLimited):
        chat.ping("ca")
    assert pusher.events_for("ca")[-1] == {
        "type": "error",
        "error": "rate-limited",
        "message": "Too many requests; try again in 60 s.",
        "retryAfter": 60,
    }
    assert pusher.closed == ["ca"]
    assert chat.ping("cb")  # the budget is the connection's own


def test_a_ping_from_a_connection_the_store_forgot_hangs_it_up_so_its_page_reconnects(
    chat: ChatService,
    pusher: RecordingPusher,
    room: tuple[str, str, str],
    clock: list[int],
) -> None:
    room_id, ann, bob = room
    chat.connect(room_id, ann, "ca")
    chat.connect(room_id, bob, "cb")
    clock[0] += 60_000
    pusher.gone.add("ca")  # the gateway said 410, yet the socket is open
    send(chat, room_id, bob, "lost on the way")
    pusher.gone.clear()
    assert chat.ping("ca") is False
    assert pusher.closed == ["ca"]
    assert {"type": "pong", "online": 1} not in pusher.events_for("ca")


def test_events_from_unknown_connections_are_ignored(
    chat: ChatService, pusher: RecordingPusher
) -> None:
    assert chat.ping("nobody") is False
    assert chat.typing("nobody") is False
    chat.disconnect("nobody")
    assert pusher.pushed == []


def test_room_creation_over_the_limit_is_rate_limited_per_client(
    store: LuaRoomStore, pusher: RecordingPusher
) -> None:
    chat = ChatService(
        store,
        pusher,
        600,
        limits=Limits(room_creations=Limit(2, 60), messages=GENEROUS.messages),
        secret=SECRET,
    )
    chat.create_room(CLIENT, VERIFIER)
    chat.create_room(CLIENT, VERIFIER)
    with pytest.raises(RateLimited) as caught:
        chat.create_room(CLIENT, VERIFIER)
    assert 1 <= caught.value.retry_after_seconds <= 60
    chat.create_room("198.51.100.1", VERIFIER)


def test_sending_over_the_limit_is_rate_limited_and_stores_nothing(
    store: LuaRoomStore, pusher: RecordingPusher
) -> None:
    chat = ChatService(
        store,
        pusher,
        600,
        limits=Limits(room_creations=GENEROUS.room_creations, messages=Limit(2, 60)),
        secret=SECRET,
    )
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann = join(chat, room_id).token
    send(chat, room_id, ann, "one")
    send(chat, room_id, ann, "two")
    with pytest.raises(RateLimited):
        send(chat, room_id, ann, "three")
    assert texts(chat, room_id, ann) == ["one", "two"]


def test_a_410_for_a_connection_still_connecting_does_not_forget_it(
    store: LuaRoomStore, pusher: RecordingPusher
) -> None:
    """Both connect at once: Bob's $connect pushes presence to Ann's connection
    while hers is still running; the gateway answers 410; Ann stays in the room."""
    now = [time.time_ns() // 1_000_000]
    chat = ChatService(store, pusher, 600, limits=GENEROUS, secret=SECRET, clock_ms=lambda: now[0])
    room_id, _ = chat.create_room(CLIENT, VERIFIER)
    ann, bob = join(chat, room_id).token, join(chat, room_id).token
    chat.connect(room_id, ann, "ca")
    pusher.gone.add("ca")
    now[0] += 500
    chat.connect(room_id, bob, "cb")
    assert store.connections("ca") is not None
    now[0] += 60_000  # long after: a 410 now means gone
    send(chat, room_id, bob, "hello?")
    assert store.connections("ca") is None
