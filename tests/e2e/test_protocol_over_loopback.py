"""Protocol v2 over the real local stack, with two scripted participants
(tests/support/e2ee.py): the handshake, messages both ways, what the store
keeps, and forward secrecy against someone who holds the link."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from devkit.api_client import greet
from devkit.servers import LocalStack
from tests.support import e2ee
from tests.support.e2ee import Participant, Plain, Verdict, handshake

WIRE = re.compile(r"(?<![A-Za-z0-9_-])3\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]+")


@pytest.fixture
def pair(stack: LocalStack) -> Iterator[tuple[Participant, Participant]]:
    """Ann created a room and Bob joined it with the link; no hellos yet."""
    ann, bob = Participant(stack.origin), Participant(stack.origin)
    ann.create()
    assert bob.join(ann.room_id, ann.link_key).status_code == 200
    yield ann, bob
    ann.close()
    bob.close()


@contextmanager
def socket_of(person: Participant) -> Iterator[ClientConnection]:
    with person.api.websocket(person.room_id) as ws:
        greet(ws)  # open for pushes once the pong is back
        yield ws


def pushes_until(
    ws: ClientConnection, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Every push the socket delivers, until `done` holds for them."""
    seen: list[dict[str, Any]] = []
    while not done(seen):
        seen.append(json.loads(ws.recv(timeout=5)))
    return seen


def store_dump(stack: LocalStack) -> dict[str, object]:
    """Every key of the store and its whole value."""
    read = {
        "string": ("GET",),
        "hash": ("HGETALL",),
        "list": ("LRANGE", "0", "-1"),
        "set": ("SMEMBERS",),
        "zset": ("ZRANGE", "0", "-1", "WITHSCORES"),
    }
    dump: dict[str, object] = {}
    keys = stack.redis("KEYS", "*")
    assert isinstance(keys, list)
    for key in keys:
        kind = str(stack.redis("TYPE", key))
        command, *args = read[kind]
        dump[key] = stack.redis(command, key, *args)
    return dump


def test_two_participants_talk_and_the_store_holds_no_names_or_text(
    stack: LocalStack, pair: tuple[Participant, Participant]
) -> None:
    ann, bob = pair
    assert (ann.seat, bob.seat) == (1, 2)
    ann_session, bob_session = handshake(ann, bob)
    assert ann_session.epoch == bob_session.epoch
    assert ann_session.safety == bob_session.safety
    assert ann_session.send_key == bob_session.recv_key

    said = [
        (ann, Plain("Annabelle Quixote", "the tangerine heron lands at noon", 1)),
        (bob, Plain("Bartholomew Zeal", "façade of the ümlaut café 😀 " * 30, 1)),
        (ann, Plain("Annabelle Quixote", "second from ann, unmistakable", 2)),
        (bob, Plain("Bartholomew Zeal", "x" * 1000, 2)),
    ]
    for person, plain in said:
        assert person.send(plain.text, plain.name).status_code == 200

    for person in (ann, bob):
        seen = [(m["seat"], person.decrypt(m)) for m in person.fetch()]
        expected = [
            (speaker.seat, Verdict.OWN if speaker is person else Verdict.THEIRS, plain)
            for speaker, plain in said
        ]
        # Name, text and seq as said; each with its sender's clock, sealed, within this test.
        opened = [
            (seat, o.verdict, o.plain and (o.plain.name, o.plain.text, o.plain.seq))
            for seat, o in seen
        ]
        assert opened == [(seat, v, (p.name, p.text, p.seq)) for seat, v, p in expected]
        assert all(o.plain and o.plain.clock > 1_700_000_000_000 for _, o in seen)

    stored = json.dumps(store_dump(stack), ensure_ascii=False)
    for secret in ("Annabelle", "Bartholomew", "tangerine", "ümlaut", "unmistakable", "x" * 50):
        assert secret not in stored
    assert e2ee.b64url(ann.link_key) not in stored
    assert e2ee.join_credentials(ann.link_key)[0] not in stored
    assert len(WIRE.findall(stored)) >= len(said)


def test_a_wrong_link_key_takes_no_seat(pair: tuple[Participant, Participant]) -> None:
    ann, _ = pair
    eve = Participant(ann.base_url)
    try:
        response = eve.join(ann.room_id, e2ee.new_link_key())
        assert response.status_code == 403
        assert response.json()["error"] == "wrong-key"
        assert eve.token is None or ann.room_id not in eve.token
    finally:
        eve.close()


def test_history_is_read_page_by_page(pair: tuple[Participant, Participant]) -> None:
    ann, bob = pair
    handshake(ann, bob)
    for n in range(1, 206):
        assert ann.send(f"message {n}", "Ann").status_code == 200
    opened = [bob.decrypt(message) for message in bob.fetch()]
    assert [o.plain.seq if o.plain else None for o in opened] == list(range(1, 206))
    assert {o.verdict for o in opened} == {Verdict.THEIRS}


def link_derived_keys(link: bytes, room_id: str, transcripts: list[bytes]) -> list[bytes]:
    """Every key someone with the link can make: the link itself (version 1's
    message key), J, the verifier, the hello key, and HKDF of the link under
    each documented label with each salt the link holder knows (none, the room
    ID, the public transcript of each generation)."""
    labels = ["join", "hello", "early", "commit", "1->2", "2->1", "safety"]
    salts = [b"", room_id.encode(), *transcripts]
    j = e2ee.join_secret(link)
    keys = [link, j, e2ee.sha256(j), e2ee.hello_key(link, room_id)]
    keys += [
        e2ee.hkdf(link, salt, f"privochat/2 {label}".encode()) for salt in salts for label in labels
    ]
    return keys


def test_the_link_and_everything_stored_or_relayed_decrypt_nothing(
    stack: LocalStack, pair: tuple[Participant, Participant]
) -> None:
    ann, bob = pair
    said = [
        (ann, "the orchid password is cobalt"),
        (bob, "meet me by the 🦉 at dawn"),
        (ann, "ünïcødé and " + "y" * 900),
        (bob, "last words"),
    ]
    with ExitStack() as sockets:
        ann_ws = sockets.enter_context(socket_of(ann))
        bob_ws = sockets.enter_context(socket_of(bob))
        handshake(ann, bob)
        sent_ids = [
            person.send(text, "Ann" if person is ann else "Bob").json()["message"]["id"]
            for person, text in said
        ]

        def all_sent(pushes: list[dict[str, Any]]) -> bool:
            pushed = {p["message"]["id"] for p in pushes if p.get("type") == "message"}
            return pushed >= set(sent_ids)

        relayed = pushes_until(ann_ws, all_sent) + pushes_until(bob_ws, all_sent)
    answered = ann.fetch() + bob.fetch()
    recorded = json.dumps([store_dump(stack), relayed, answered])
    room_recorded = json.dumps(
        [{k: v for k, v in store_dump(stack).items() if ann.room_id in k}, relayed, answered]
    )

    # What the link holder learns from the record: the revealed hellos, each
    # checked with the link (so this is the right link), and the wire texts.
    link, room_id = ann.link_key, ann.room_id
    hellos = {
        p["hello"]["seat"]: p["hello"]
        for p in relayed
        if p.get("type") == "hello" and "pub" in p["hello"]
    }
    assert set(hellos) == {1, 2}
    assert all(
        e2ee.verify_hello(e2ee.hello_key(link, room_id), room_id, h) for h in hellos.values()
    )
    pub1, pub2 = (e2ee.from_b64url(hellos[seat]["pub"]) or b"" for seat in (1, 2))
    transcript = e2ee.transcript(room_id, 1, pub1, pub2)
    wires = set(WIRE.findall(room_recorded))
    assert len(wires) == len(said)  # each message, stored, answered and pushed

    for wire in set(WIRE.findall(recorded)):
        parsed = e2ee.parse_wire(wire)
        assert parsed is not None
        epoch, sealed = parsed
        for key in link_derived_keys(link, room_id, [transcript]):
            for seat in (1, 2):
                assert e2ee.open_sealed(key, room_id, epoch, seat, sealed) is None

    # Positive control: the same record and one ephemeral private key (Bob's).
    bob_session = e2ee.derive_session(bob.pairs[1].private, pub1, pub2, room_id, 2, 1)
    texts = set()
    for wire in wires:
        opened = [
            e2ee.open_message({bob_session.epoch: bob_session}, seat, wire) for seat in (1, 2)
        ]
        plains = [o.plain for o in opened if o.verdict in (Verdict.OWN, Verdict.THEIRS)]
        assert len(plains) == 1, wire[:40]
        texts.add(plains[0].text if plains[0] else "")
    assert texts == {text for _, text in said}
