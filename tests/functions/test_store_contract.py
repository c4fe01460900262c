"""The room store's promises, proved where its Lua scripts run: in process on an
embedded fakeredis (tests/fakes.py, the store of the service tests: `make unit`), and
through the real upstash-redis client and the local Upstash endpoint on the embedded
backend and on a real redis-server. No store in the tests has rules of its own."""

from __future__ import annotations

import threading
import time
from typing import TypeVar

import pytest

from devkit.credentials import VERIFIER
from privochat.domain import (
    HISTORY_CAP,
    MAX_CONNECTIONS_PER_PARTICIPANT,
    ClientIdReused,
    Hello,
    Limit,
    Message,
    RateLimited,
    RoomConnections,
    RoomFull,
    RoomNotFound,
    SeatHello,
    StoredMessage,
    TooManyConnections,
    Unauthorized,
    WrongKey,
    new_id,
)
from privochat.ports import RoomStore
from privochat.scripts import Scripts, connect_upstash
from tests.functions.conftest import UpstashSetup
from tests.support.rooms import key32

T = TypeVar("T")
T0 = 1_700_000_000_000  # a connection time, ms
ROOMS = Limit(max_requests=10_000, window_seconds=60)
MESSAGES = Limit(max_requests=10_000, window_seconds=60)
HELLOS = Limit(max_requests=10_000, window_seconds=60)


def _now() -> int:
    return time.time_ns() // 1_000_000


def _conns(
    store: RoomStore, connection_id: str, room_id: str | None = None
) -> RoomConnections | None:
    """The connection's room's connections, or None (store.connections, without the expiry)."""
    found = store.connections(connection_id, room_id)
    return None if found is None else found[0]


def known(value: T | None) -> T:
    """What the store returns when it knows the connection (asserted)."""
    assert value is not None
    return value


def _room(store: RoomStore, ttl: int = 60) -> str:
    room_id = new_id()
    assert store.create_room(room_id, VERIFIER, ttl, _now(), "client", ROOMS) is True
    return room_id


def _message(text: str = "hello") -> Message:
    return Message(id=new_id(), text=text, timestamp=1_700_000_000_000)


def _messages(
    store: RoomStore, room_id: str, participant: str, after: str | None
) -> tuple[int, list[StoredMessage]]:
    """The caller's seat and the whole history after `after`, page by page."""
    seat, messages = 0, list[StoredMessage]()
    while True:
        page = store.messages(room_id, participant, after, 3)
        seat, messages = page.seat, messages + page.messages
        if not page.more:
            return seat, messages
        after = page.messages[-1].message.id


def test_a_new_room_is_empty_and_has_its_ttl(store: RoomStore) -> None:
    room_id = _room(store, ttl=60)
    seat = store.join(room_id, "p1", VERIFIER, 2)
    assert (seat.seat, seat.participants) == (1, 1)
    assert 58_000 <= seat.expires_at_ms - _now() <= 60_000


def test_an_existing_room_is_never_overwritten(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    assert store.create_room(room_id, VERIFIER, 60, _now(), "client", ROOMS) is False
    assert store.join(room_id, "p1", VERIFIER, 2).participants == 1


def test_joining_an_unknown_room_is_room_not_found(store: RoomStore) -> None:
    with pytest.raises(RoomNotFound):
        store.join(new_id(), "p1", VERIFIER, 2)


def test_third_joiner_gets_room_full_and_rejoining_keeps_the_seat(store: RoomStore) -> None:
    room_id = _room(store)
    assert store.join(room_id, "p1", VERIFIER, 2).seat == 1
    assert store.join(room_id, "p2", VERIFIER, 2).seat == 2
    with pytest.raises(RoomFull):
        store.join(room_id, "p3", VERIFIER, 2)
    again = store.join(room_id, "p1", VERIFIER, 2)
    assert (again.seat, again.participants) == (1, 2)


def test_concurrent_joiners_get_exactly_two_seats(store: RoomStore) -> None:
    room_id = _room(store)
    outcomes: list[object] = []
    start = threading.Barrier(20)

    def join(i: int) -> None:
        start.wait()
        try:
            outcomes.append(store.join(room_id, f"p{i}", VERIFIER, 2).seat)
        except RoomFull:
            outcomes.append("full")

    threads = [threading.Thread(target=join, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1, 2]
    assert outcomes.count("full") == 18


def test_only_participants_read_the_ttl(store: RoomStore) -> None:
    room_id = _room(store, ttl=30)
    store.join(room_id, "p1", VERIFIER, 2)
    assert 28_000 <= store.expires_at(room_id, "p1") - _now() <= 30_000
    with pytest.raises(Unauthorized):
        store.expires_at(room_id, "stranger")
    with pytest.raises(RoomNotFound):
        store.expires_at(new_id(), "p1")


def test_messages_come_back_in_order_with_their_authors_seat(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    sent = [_message("one"), _message("two"), _message("three")]
    store.append_message(room_id, "p1", sent[0], new_id(), MESSAGES, _now())
    store.append_message(room_id, "p2", sent[1], new_id(), MESSAGES, _now())
    store.append_message(room_id, "p1", sent[2], new_id(), MESSAGES, _now())
    seat, stored = _messages(store, room_id, "p2", None)
    assert seat == 2
    assert [(s.seat, s.message) for s in stored] == [(1, sent[0]), (2, sent[1]), (1, sent[2])]


def test_after_returns_only_later_messages_and_all_for_an_unknown_id(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    sent = [_message(str(i)) for i in range(4)]
    for message in sent:
        store.append_message(room_id, "p1", message, new_id(), MESSAGES, _now())
    _, later = _messages(store, room_id, "p1", sent[1].id)
    assert [s.message for s in later] == sent[2:]
    _, none_later = _messages(store, room_id, "p1", sent[3].id)
    assert none_later == []
    _, everything = _messages(store, room_id, "p1", new_id())
    assert [s.message for s in everything] == sent


def test_a_retried_client_id_stores_once_and_returns_the_first_message(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    first, _ = store.append_message(room_id, "p1", _message("hi"), "c-1", MESSAGES, _now())
    retry, _ = store.append_message(room_id, "p1", _message("hi"), "c-1", MESSAGES, _now())
    assert retry == first
    other, _ = store.append_message(room_id, "p2", _message("hi"), "c-1", MESSAGES, _now())
    assert other.message.id != first.message.id
    _, stored = _messages(store, room_id, "p1", None)
    assert len(stored) == 2


def test_strangers_can_neither_read_nor_write(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    for attempt in (
        lambda: store.append_message(room_id, "stranger", _message(), new_id(), MESSAGES, _now()),
        lambda: _messages(store, room_id, "stranger", None),
        lambda: store.destroy(room_id, "stranger"),
        lambda: store.connect(room_id, "stranger", "conn-x", T0),
    ):
        with pytest.raises(Unauthorized):
            attempt()
    assert _messages(store, room_id, "p1", None) == (1, [])
    assert _conns(store, "conn-x") is None


def test_connections_carry_their_seat_and_presence_counts_people(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    assert store.connect(room_id, "p1", "a1", T0).online == 1
    assert store.connect(room_id, "p1", "a2", T0).online == 1  # a second tab
    both = store.connect(room_id, "p2", "b1", T0)
    assert both.seats == {"a1": 1, "a2": 1, "b1": 2}
    assert both.online == 2
    _, connections = store.append_message(room_id, "p1", _message(), new_id(), MESSAGES, _now())
    assert set(connections.ids()) == {"a1", "a2", "b1"}
    assert known(_conns(store, "b1")).seats == both.seats
    left = known(store.disconnect("b1"))
    assert (left.room_id, left.online, set(left.ids())) == (room_id, 1, {"a1", "a2"})
    assert store.disconnect("b1") is None
    store.forget_connections(room_id, ["a2"], T0 + 1)
    assert _conns(store, "a2") is None
    assert known(_conns(store, "a1")).seats == {"a1": 1}


def test_a_connection_is_found_by_its_room_or_by_its_reverse_key_with_the_expiry(
    store: RoomStore,
) -> None:
    room_id = _room(store, ttl=60)
    store.join(room_id, "p1", VERIFIER, 2)
    store.connect(room_id, "p1", f"r1-{room_id}", _now())
    by_lookup = known(store.connections(f"r1-{room_id}"))
    by_name = known(store.connections(f"r1-{room_id}", room_id))
    assert by_lookup == by_name
    assert by_name[0].seats == {f"r1-{room_id}": 1}
    assert by_name[1] == store.join(room_id, "p1", VERIFIER, 2).expires_at_ms
    # A connection is found only in its own room, and only while it is connected.
    assert store.connections(f"r1-{room_id}", _room(store)) is None
    assert store.connections(f"r1-{room_id}", new_id()) is None
    assert store.connections("nobody", room_id) is None
    store.disconnect(f"r1-{room_id}")
    assert store.connections(f"r1-{room_id}", room_id) is None
    assert store.connections(f"r1-{room_id}") is None


def test_a_connection_that_connected_after_the_cutoff_is_not_forgotten(store: RoomStore) -> None:
    """The gateway answers 410 while a connection's $connect is still running."""
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.connect(room_id, "p1", "old", T0)
    store.connect(room_id, "p1", "young", T0 + 5_000)
    store.forget_connections(room_id, ["old", "young"], T0 + 1_000)
    assert known(_conns(store, "young")).seats == {"young": 1}
    assert _conns(store, "old") is None


def test_destroy_returns_the_connections_and_leaves_nothing(
    store: RoomStore, upstash_setup: UpstashSetup | None
) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    store.connect(room_id, "p1", "d1", T0)
    store.connect(room_id, "p2", "d2", T0)
    store.append_message(room_id, "p1", _message(), "c-1", MESSAGES, _now())
    assert set(store.destroy(room_id, "p2").ids()) == {"d1", "d2"}
    with pytest.raises(RoomNotFound):
        _messages(store, room_id, "p1", None)
    with pytest.raises(RoomNotFound):
        store.join(room_id, "p1", VERIFIER, 2)
    assert _conns(store, "d1") is None
    assert store.disconnect("d2") is None
    if upstash_setup is not None:
        assert upstash_setup.keys(f"*{room_id}*") == []
        assert upstash_setup.keys("conn:d*") == []


def test_every_key_of_a_room_expires_with_it(
    store: RoomStore, upstash_setup: UpstashSetup | None
) -> None:
    room_id = _room(store, ttl=1)
    store.join(room_id, "p1", VERIFIER, 2)
    store.connect(room_id, "p1", f"e-{room_id}", T0)
    store.append_message(room_id, "p1", _message(), "c-1", MESSAGES, _now())
    if upstash_setup is not None:
        keys = upstash_setup.keys(f"*{room_id}*")
        assert len(keys) == 2  # meta (messages and clientIds inside), conn:
        for key in keys:
            assert 0 < upstash_setup.backend.execute(["PTTL", key.decode()]) <= 1000
    time.sleep(1.2)
    with pytest.raises(RoomNotFound):
        store.join(room_id, "p1", VERIFIER, 2)
    assert _conns(store, f"e-{room_id}") is None
    if upstash_setup is not None:
        assert upstash_setup.keys(f"*{room_id}*") == []


def test_stored_messages_are_the_authors_seat_id_time_and_text(
    upstash_embedded: UpstashSetup,
) -> None:
    store = upstash_embedded.store()
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    message = _message("<b>kept|as text</b> é 🙂")
    store.append_message(room_id, "p1", message, new_id(), MESSAGES, _now())
    raw = upstash_embedded.backend.execute(["HGET", f"meta:{{{room_id}}}", "m:1"])
    assert raw.decode() == f"1|{message.id}|{message.timestamp}|{message.text}"
    assert _messages(store, room_id, "p1", None)[1][0].message == message


def test_the_scripts_alone_build_and_read_the_stored_entry(
    upstash_embedded: UpstashSetup,
) -> None:
    """Issue 23: lua/lib.lua owns the entry '<seat>|<id>|<timestamp>|<text>': send.lua
    takes the message's parts and every script answers an entry as its parts, so the
    Python side neither builds nor splits it."""
    store = upstash_embedded.store()
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    scripts = Scripts(connect_upstash(upstash_embedded.url, upstash_embedded.token, 3.0))
    message = _message("a|b|c")
    args = ["p1", "c-1", message.id, str(message.timestamp), message.text]
    limits = [str(MESSAGES.max_requests), "0", str(HISTORY_CAP), "60", "digest"]
    _, stored, _ = scripts.run("send", [f"meta:{{{room_id}}}"], [*args, *limits])
    assert stored == [1, message.id, str(message.timestamp), "a|b|c"]
    _, _, page, _, _, _ = scripts.run(
        "messages", [f"meta:{{{room_id}}}"], ["p1", "", "10", str(HISTORY_CAP)]
    )
    assert page == [stored]


def test_a_wrong_verifier_takes_no_seat(store: RoomStore) -> None:
    room_id = _room(store)
    with pytest.raises(WrongKey):
        store.join(room_id, "p1", key32("W"), 2)
    with pytest.raises(Unauthorized):
        store.expires_at(room_id, "p1")
    assert store.join(room_id, "p2", VERIFIER, 2).seat == 1
    with pytest.raises(WrongKey):
        store.join(room_id, "p2", key32("W"), 2)


def test_each_seat_keeps_its_latest_hello_for_joiners_and_readers(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.connect(room_id, "p1", "h1", T0)
    first = Hello(1, key32("C"), key32("M"))
    stored, connections = store.publish_hello(room_id, "p1", first, HELLOS, _now())
    assert stored == SeatHello(1, first) and connections.ids() == ["h1"]
    revealed = Hello(1, key32("C"), key32("M"), key32("P"))
    store.publish_hello(room_id, "p1", revealed, HELLOS, _now())
    joined = store.join(room_id, "p2", VERIFIER, 2)
    assert joined.hellos == (SeatHello(1, revealed),)
    theirs = Hello(2, key32("D"), key32("N"), key32("Q"))
    assert store.publish_hello(room_id, "p2", theirs, HELLOS, _now())[0] == SeatHello(2, theirs)
    assert store.messages(room_id, "p1", None, 10).hellos == (
        SeatHello(1, revealed),
        SeatHello(2, theirs),
    )
    with pytest.raises(Unauthorized):
        store.publish_hello(room_id, "stranger", first, HELLOS, _now())


def test_hellos_past_the_seats_limit_are_refused_and_keep_nothing(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    two = Limit(max_requests=2, window_seconds=60)
    kept = [Hello(g, key32(f"C{g}"), key32(f"M{g}")) for g in (1, 2)]
    for hello in kept:
        store.publish_hello(room_id, "p1", hello, two, _now())
    with pytest.raises(RateLimited) as refused:
        store.publish_hello(room_id, "p1", Hello(3, key32("C3"), key32("M3")), two, _now())
    assert 1 <= refused.value.retry_after_seconds <= 60
    assert store.messages(room_id, "p1", None, 10).hellos == (SeatHello(1, kept[1]),)
    theirs = Hello(1, key32("D"), key32("N"))
    assert store.publish_hello(room_id, "p2", theirs, two, _now())[0] == SeatHello(2, theirs), (
        "per seat"
    )


def test_history_pages_are_bounded_and_say_when_more_follow(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    sent = [_message(str(i)) for i in range(5)]
    for message in sent:
        store.append_message(room_id, "p1", message, new_id(), MESSAGES, _now())
    first = store.messages(room_id, "p1", None, 2)
    assert [s.message for s in first.messages] == sent[:2] and first.more
    last = store.messages(room_id, "p1", sent[3].id, 2)
    assert [s.message for s in last.messages] == sent[4:] and not last.more
    exact = store.messages(room_id, "p1", sent[2].id, 2)
    assert [s.message for s in exact.messages] == sent[3:] and not exact.more


def test_room_creation_is_limited_per_client_and_refused_creations_store_nothing(
    store: RoomStore, upstash_setup: UpstashSetup | None
) -> None:
    limit = Limit(max_requests=2, window_seconds=60)
    client = new_id()
    assert store.create_room(new_id(), VERIFIER, 60, _now(), client, limit)
    assert store.create_room(new_id(), VERIFIER, 60, _now(), client, limit)
    refused = new_id()
    with pytest.raises(RateLimited) as caught:
        store.create_room(refused, VERIFIER, 60, _now(), client, limit)
    assert 1 <= caught.value.retry_after_seconds <= 60
    with pytest.raises(RoomNotFound):
        store.join(refused, "p1", VERIFIER, 2)
    assert store.create_room(
        new_id(), VERIFIER, 60, _now(), new_id(), limit
    )  # someone else still can


def test_messages_are_limited_per_participant_and_refused_ones_are_not_stored(
    store: RoomStore,
) -> None:
    limit = Limit(max_requests=3, window_seconds=60)
    room_id = _room(store)
    ann, bob = new_id(), new_id()  # participants are unique per room (hashes)
    store.join(room_id, ann, VERIFIER, 2)
    store.join(room_id, bob, VERIFIER, 2)
    now = _now() // 60_000 * 60_000 + 1_000  # one window for every send
    for i in range(3):
        store.append_message(room_id, ann, _message(f"{i}"), new_id(), limit, now)
    with pytest.raises(RateLimited):
        store.append_message(room_id, ann, _message("one too many"), new_id(), limit, now)
    store.append_message(room_id, bob, _message("my own budget"), new_id(), limit, now)
    _, stored = _messages(store, room_id, ann, None)
    assert [s.message.text for s in stored] == ["0", "1", "2", "my own budget"]


def test_a_windows_edge_is_where_the_callers_clock_puts_it(store: RoomStore) -> None:
    """Issue 23: one clock, the service's, passed into every store call that needs
    time; no store reads its own. The last millisecond of a window is in it, the next
    starts a new one: for sends and hellos alike."""
    limit = Limit(max_requests=2, window_seconds=60)
    room_id = _room(store)
    ann = new_id()
    store.join(room_id, ann, VERIFIER, 2)
    edge = (_now() // 60_000 + 1) * 60_000  # where the current window ends
    for i in range(2):
        store.append_message(room_id, ann, _message(f"{i}"), new_id(), limit, edge - 1)
        store.publish_hello(room_id, ann, Hello(i + 1, key32("C"), key32("M")), limit, edge - 1)
    with pytest.raises(RateLimited) as refused:
        store.append_message(room_id, ann, _message("late"), new_id(), limit, edge - 1)
    assert refused.value.retry_after_seconds == 1
    with pytest.raises(RateLimited):
        store.publish_hello(room_id, ann, Hello(3, key32("C"), key32("M")), limit, edge - 1)
    store.append_message(room_id, ann, _message("next window"), new_id(), limit, edge)
    store.publish_hello(room_id, ann, Hello(3, key32("C"), key32("M")), limit, edge)


def test_send_counters_live_in_the_room_and_go_with_it(
    upstash_embedded: UpstashSetup,
) -> None:
    store = upstash_embedded.store()
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.append_message(room_id, "p1", _message(), new_id(), MESSAGES, _now())
    assert upstash_embedded.keys("ratelimit:send:*") == []
    store.destroy(room_id, "p1")
    assert upstash_embedded.keys(f"*{room_id}*") == []


def test_a_participant_holds_a_bounded_number_of_connections(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    store.join(room_id, "p2", VERIFIER, 2)
    for i in range(MAX_CONNECTIONS_PER_PARTICIPANT):
        store.connect(room_id, "p1", f"m{i}-{room_id}", T0)
    with pytest.raises(TooManyConnections):
        store.connect(room_id, "p1", f"one-more-{room_id}", T0)
    assert _conns(store, f"one-more-{room_id}") is None
    assert store.connect(room_id, "p2", f"other-{room_id}", T0).online == 2
    store.disconnect(f"m0-{room_id}")
    store.connect(room_id, "p1", f"again-{room_id}", T0)


def test_the_history_keeps_the_newest_messages_up_to_the_cap(store: RoomStore) -> None:
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    sent = [_message(f"m{i}") for i in range(HISTORY_CAP + 3)]
    for message in sent:
        store.append_message(room_id, "p1", message, message.id, MESSAGES, _now())
    _, stored = _messages(store, room_id, "p1", None)
    assert [s.message for s in stored] == sent[3:]
    # A retry of a message that is still kept gets it back, stored once.
    retried, _ = store.append_message(room_id, "p1", sent[-1], sent[-1].id, MESSAGES, _now())
    assert retried.message == sent[-1]
    assert len(_messages(store, room_id, "p1", None)[1]) == HISTORY_CAP


def test_a_retry_whose_message_was_dropped_never_answers_another_text(
    store: RoomStore,
) -> None:
    """Past the cap the first message is gone: a retry with its text gets its ID,
    time and that same text; a retry with another text is refused (it was: the new
    text under the old ID, stored nowhere), and neither stores anything."""
    room_id = _room(store)
    store.join(room_id, "p1", VERIFIER, 2)
    first = _message("the first text")
    store.append_message(room_id, "p1", first, "c-first", MESSAGES, _now())
    for i in range(HISTORY_CAP):
        store.append_message(room_id, "p1", _message(f"m{i}"), new_id(), MESSAGES, _now())
    with pytest.raises(ClientIdReused):
        store.append_message(room_id, "p1", _message("another text"), "c-first", MESSAGES, _now())
    retried, _ = store.append_message(
        room_id, "p1", _message(first.text), "c-first", MESSAGES, _now()
    )
    assert retried == StoredMessage(1, first)
    _, stored = _messages(store, room_id, "p1", None)
    assert len(stored) == HISTORY_CAP
    assert first.id not in {each.message.id for each in stored}


@pytest.mark.parametrize("store_kind", ["embedded", "redis-server"])
def test_a_limited_call_after_a_script_cache_flush_counts_once(upstash_setup: UpstashSetup) -> None:
    store = upstash_setup.store()
    room_id = _room(store)
    ann = new_id()
    store.join(room_id, ann, VERIFIER, 2)
    upstash_setup.backend.execute(["SCRIPT", "FLUSH"])
    limit = Limit(max_requests=1, window_seconds=60)
    store.append_message(room_id, ann, _message("first, after the flush"), new_id(), limit, _now())
    with pytest.raises(RateLimited):
        store.append_message(room_id, ann, _message("second"), new_id(), limit, _now())


def test_the_room_creation_window_starts_at_the_callers_first_creation(store: RoomStore) -> None:
    """create_room.lua counts a client's creations from its first one, on the service's
    clock (not Redis's, not fixed windows): a creation on the next fixed window's first
    millisecond is still refused; one a window after the first goes through. The Python
    copy of the rules tests/fakes.py held counted fixed windows and let the first through;
    the script counted on Redis's clock (its counter's TTL), so no caller could test the edge."""
    limit = Limit(max_requests=1, window_seconds=60)
    client = new_id()
    first = (_now() // 60_000 + 1) * 60_000 - 1  # a millisecond before a fixed window would end
    assert store.create_room(new_id(), VERIFIER, 60, first, client, limit)
    with pytest.raises(RateLimited) as refused:
        store.create_room(new_id(), VERIFIER, 60, first + 1, client, limit)
    assert refused.value.retry_after_seconds == 60
    with pytest.raises(RateLimited) as last:
        store.create_room(new_id(), VERIFIER, 60, first + 59_999, client, limit)
    assert last.value.retry_after_seconds == 1
    assert store.create_room(new_id(), VERIFIER, 60, first + 60_000, client, limit)
