"""The browser's protocol module (static_site/js/protocol.js, run by Node through
tests/js/interop.mjs) against the independent Python one (tests/support/e2ee.py):
the same link gives the same credentials, each side verifies the other's hellos,
both derive the same session, and each opens what the other sealed (and refuses
what was tampered with). Private keys never leave the side that made them."""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from devkit.servers import ROOT, find_program
from privochat.domain import RECEIPT_MAX_CHARS
from tests.support import e2ee
from tests.support.e2ee import Plain, Session

SCRIPT = ROOT / "tests" / "js" / "interop.mjs"
DOCUMENTED_EXPORTS = {
    "toBase64Url",
    "fromBase64Url",
    "enc",
    "BUCKETS",
    "sealReceipt",
    "openReceipt",
    "WIRE_VERSION",
    "newLinkKey",
    "parseLinkKey",
    "joinCredentials",
    "helloKey",
    "newKeyPair",
    "makeHello",
    "verifyHello",
    "deriveSession",
    "pad",
    "unpad",
    "seal",
    "parseWire",
    "openSealed",
}


class Node:
    """interop.mjs in a Node process: one JSON line in, one JSON line out."""

    def __init__(self, process: subprocess.Popen[str], stderr: IO[str]) -> None:
        self.process = process
        self.stderr = stderr

    def __call__(self, op: str, **args: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(10)
            self.stderr.seek(0)
            pytest.fail(f"node exited ({self.process.returncode}):\n{self.stderr.read()}")
        answer = json.loads(line)
        if not answer["ok"]:
            pytest.fail(answer["error"])
        return answer["result"]


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    program = find_program("node")
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [program, str(SCRIPT)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        try:
            yield Node(process, stderr)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def new_room_id() -> str:
    return secrets.token_urlsafe(16)[:21]


@dataclass
class Linked:
    """A room where Node holds one seat and Python the other, handshake done."""

    room_id: str
    node_seat: int
    python: Session
    node_epoch: str
    node_safety: str


def handshake(node: Node, node_seat: int, generation: int) -> Linked:
    link, room_id = e2ee.new_link_key(), new_room_id()
    py_seat, key = 3 - node_seat, e2ee.hello_key(link, room_id)
    node("room", link=e2ee.b64url(link), roomId=room_id, seat=node_seat)
    node_pub = e2ee.from_b64url(node("pair", generation=generation)["pub"])
    assert node_pub is not None
    assert len(node_pub) == 32
    mine = e2ee.new_key_pair()

    # Commit: each verifies the other's; Node's is byte for byte what Python makes.
    node_commit = node("makeHello", generation=generation, reveal=False)
    assert node_commit == e2ee.make_hello(
        key, room_id, node_seat, generation, node_pub, reveal=False
    )
    assert e2ee.verify_hello(key, room_id, node_commit)
    py_commit = e2ee.make_hello(key, room_id, py_seat, generation, mine.pub, reveal=False)
    assert node("verifyHello", hello=py_commit) is True

    # Reveal.
    node_hello = node("makeHello", generation=generation, reveal=True)
    assert node_hello == e2ee.make_hello(key, room_id, node_seat, generation, node_pub, reveal=True)
    assert e2ee.verify_hello(key, room_id, node_hello)
    py_hello = e2ee.make_hello(key, room_id, py_seat, generation, mine.pub, reveal=True)
    assert node("verifyHello", hello=py_hello) is True

    pub1, pub2 = (node_pub, mine.pub) if node_seat == 1 else (mine.pub, node_pub)
    python = e2ee.derive_session(mine.private, pub1, pub2, room_id, py_seat, generation)
    derived = node("derive", generation=generation, theirPub=e2ee.b64url(mine.pub))
    return Linked(room_id, node_seat, python, derived["epoch"], derived["safety"])


@pytest.fixture(params=[(1, 1), (2, 1), (1, 12)], ids=["node-seat1", "node-seat2", "generation12"])
def linked(request: pytest.FixtureRequest, node: Node) -> Linked:
    node_seat, generation = request.param
    return handshake(node, node_seat, generation)


MESSAGES = [
    Plain("Ann", "hi", 1),
    Plain("Ann", "read receipts on", 2, 1733400000123, 7, 5),
    Plain("Zoë 😀", "naïve € 日本語 🎉 " * 20, 2, 1733400000123, 1),
    Plain("N" * 100, "x" * 1000, 3),
    Plain('q"\\', 'quotes " and \\ backslashes,\nnewlines\ttabs and \x01\x1f\x7f', 4),
    Plain("Émoji", "😀" * 500, 5),  # 500 code points, 1000 UTF-16 units
    # The largest plaintext: 8192 bytes padded.
    Plain("\x01" * 100, "\x1f" * 1000, 2**53 - 1, 2**53 - 1, 2**53 - 1, 2**53 - 1),
]


def padded_of(session: Session, wire: str, seat: int) -> bytes:
    """What the receiver decrypts before unpadding (to compare bytes)."""
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    epoch, sealed = parsed
    return AESGCM(session.recv_key).decrypt(
        sealed[:12], sealed[12:], e2ee.aad(session.room_id, epoch, seat)
    )


def as_json(plain: Plain) -> dict[str, Any]:
    fields = {
        "name": plain.name,
        "text": plain.text,
        "seq": plain.seq,
        "clock": plain.clock,
        "ack": plain.ack,
    }
    return fields if plain.read is None else {**fields, "read": plain.read}


# Link-derived values and building blocks


def test_the_module_has_the_documented_exports_and_buckets(node: Node) -> None:
    exported = node("exports")
    assert set(exported["names"]) >= DOCUMENTED_EXPORTS
    assert tuple(exported["buckets"]) == e2ee.BUCKETS


def test_both_derive_the_same_join_credentials(node: Node) -> None:
    link = e2ee.new_link_key()
    node_credentials = node("credentials", link=e2ee.b64url(link))
    assert (node_credentials["proof"], node_credentials["verifier"]) == e2ee.join_credentials(link)


def test_a_link_key_from_the_browser_is_one_python_reads(node: Node) -> None:
    fragment = node("newLinkKey")
    link = e2ee.parse_link_key(fragment)
    assert link is not None
    assert node("parseLinkKey", link=fragment) == fragment
    node_credentials = node("credentials", link=fragment)
    assert (node_credentials["proof"], node_credentials["verifier"]) == e2ee.join_credentials(link)
    assert node("newLinkKey") != fragment


@pytest.mark.parametrize("fragment", ["", "A" * 42, "A" * 44, "A" * 41 + "+A", "A" * 41 + "*A"])
def test_both_refuse_the_same_malformed_link_keys(node: Node, fragment: str) -> None:
    assert e2ee.parse_link_key(fragment) is None
    assert node("parseLinkKey", link=fragment) is None


def test_enc_agrees(node: Node) -> None:
    parts = [b"privochat/2", b"", secrets.token_bytes(32), bytes(300)]
    assert node("enc", parts=[e2ee.b64url(p) for p in parts]) == e2ee.b64url(e2ee.enc(*parts))


@pytest.mark.parametrize("length", [1, 23, 255, 256, 257, 1000, 4097, 8192])
def test_padding_agrees(node: Node, length: int) -> None:
    data = b"{" + b"x" * (length - 2) + b"}" if length > 1 else b"1"
    padded = e2ee.b64url(e2ee.pad(data))
    assert node("pad", data=e2ee.b64url(data)) == padded
    assert node("unpad", data=padded) == e2ee.b64url(data)


# The handshake


def test_both_derive_the_same_epoch_and_safety_code(linked: Linked) -> None:
    assert linked.node_epoch == linked.python.epoch
    assert linked.node_safety == linked.python.safety


def _flip(value: str) -> str:
    raw = bytearray(e2ee.from_b64url(value) or b"")
    raw[0] ^= 0x01
    return e2ee.b64url(bytes(raw))


HELLO_TAMPERS: dict[str, Any] = {
    "seat": lambda h: {**h, "seat": 3 - h["seat"]},
    "generation": lambda h: {**h, "generation": h["generation"] + 1},
    "commit": lambda h: {**h, "commit": _flip(h["commit"])},
    "mac": lambda h: {**h, "mac": _flip(h["mac"])},
    "pub": lambda h: {**h, "pub": e2ee.b64url(e2ee.new_key_pair().pub)},
}


@pytest.mark.parametrize("tamper", sorted(HELLO_TAMPERS))
def test_each_side_refuses_a_changed_hello_of_the_other(node: Node, tamper: str) -> None:
    link, room_id = e2ee.new_link_key(), new_room_id()
    key = e2ee.hello_key(link, room_id)
    node("room", link=e2ee.b64url(link), roomId=room_id, seat=1)
    node_pub = e2ee.from_b64url(node("pair", generation=3)["pub"])
    node_hello = node("makeHello", generation=3, reveal=True)
    py_hello = e2ee.make_hello(key, room_id, 2, 3, e2ee.new_key_pair().pub, reveal=True)
    assert node_pub is not None
    assert e2ee.verify_hello(key, room_id, node_hello)
    assert node("verifyHello", hello=py_hello) is True
    assert not e2ee.verify_hello(key, room_id, HELLO_TAMPERS[tamper](node_hello))
    assert node("verifyHello", hello=HELLO_TAMPERS[tamper](py_hello)) is False


def test_a_hello_from_another_room_or_link_is_refused_by_node(node: Node) -> None:
    link, room_id = e2ee.new_link_key(), new_room_id()
    node("room", link=e2ee.b64url(link), roomId=room_id, seat=1)
    pub = e2ee.new_key_pair().pub
    other_room = new_room_id()
    moved = e2ee.make_hello(e2ee.hello_key(link, other_room), other_room, 2, 1, pub, reveal=True)
    foreign = e2ee.make_hello(
        e2ee.hello_key(e2ee.new_link_key(), room_id), room_id, 2, 1, pub, reveal=True
    )
    assert node("verifyHello", hello=moved) is False
    assert node("verifyHello", hello=foreign) is False


# Messages, both ways


@pytest.mark.parametrize("plain", MESSAGES, ids=range(len(MESSAGES)))
def test_python_opens_what_node_sealed(node: Node, linked: Linked, plain: Plain) -> None:
    wire = node("seal", **as_json(plain))
    assert wire.startswith(f"3.{linked.python.epoch}.")
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    opened = e2ee.open_sealed(
        linked.python.recv_key, linked.room_id, parsed[0], linked.node_seat, parsed[1]
    )
    assert opened == plain
    # Byte for byte the padded JSON Python would have sealed.
    assert padded_of(linked.python, wire, linked.node_seat) == e2ee.pad(e2ee.plaintext(plain))


@pytest.mark.parametrize("plain", MESSAGES, ids=range(len(MESSAGES)))
def test_node_opens_what_python_sealed(node: Node, linked: Linked, plain: Plain) -> None:
    session = linked.python
    wire = e2ee.seal(session.send_key, session.room_id, session.epoch, session.seat, plain)
    opened = node("open", wire=wire, senderSeat=session.seat)
    assert opened == {"parsed": True, "epoch": session.epoch, "plain": as_json(plain)}


def test_the_largest_wire_text_is_10974_characters_both_ways(node: Node, linked: Linked) -> None:
    worst = MESSAGES[-1]
    session = linked.python
    from_node = node("seal", **as_json(worst))
    from_python = e2ee.seal(session.send_key, session.room_id, session.epoch, session.seat, worst)
    assert len(from_node) == len(from_python) == e2ee.MAX_WIRE_CHARS


def test_node_opens_its_own_message_only_with_its_own_key_and_seat(
    node: Node, linked: Linked
) -> None:
    wire = node("seal", name="Ann", text="mine", seq=1)
    own = node("open", wire=wire, senderSeat=linked.node_seat, key="send")
    assert own["plain"] == {"name": "Ann", "text": "mine", "seq": 1, "clock": 0, "ack": 0}
    assert node("open", wire=wire, senderSeat=linked.node_seat)["plain"] is None
    assert node("open", wire=wire, senderSeat=3 - linked.node_seat, key="send")["plain"] is None


def _body_flipped(wire: str, where: int) -> str:
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    body = bytearray(parsed[1])
    body[where] ^= 0x01
    return f"3.{parsed[0]}.{e2ee.b64url(bytes(body))}"


def _truncated(wire: str) -> str:
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    return f"3.{parsed[0]}.{e2ee.b64url(parsed[1][:-1])}"


WIRE_TAMPERS: dict[str, Any] = {
    "iv": lambda w: _body_flipped(w, 0),
    "ciphertext": lambda w: _body_flipped(w, 40),
    "tag": lambda w: _body_flipped(w, -1),
    "truncated": _truncated,
    "epoch": lambda w: "3.AAAAAAAAAAA." + w.split(".", 2)[2],
}


@pytest.mark.parametrize("tamper", sorted(WIRE_TAMPERS))
def test_node_refuses_a_tampered_copy_of_a_python_message(
    node: Node, linked: Linked, tamper: str
) -> None:
    session = linked.python
    wire = e2ee.seal(session.send_key, session.room_id, session.epoch, session.seat, MESSAGES[1])
    assert node("open", wire=wire, senderSeat=session.seat)["plain"] == as_json(MESSAGES[1])
    tampered = node("open", wire=WIRE_TAMPERS[tamper](wire), senderSeat=session.seat)
    assert tampered["plain"] is None


@pytest.mark.parametrize("tamper", sorted(WIRE_TAMPERS))
def test_python_refuses_a_tampered_copy_of_a_node_message(
    node: Node, linked: Linked, tamper: str
) -> None:
    session = linked.python
    wire = node("seal", **as_json(MESSAGES[1]))
    assert e2ee.open_message({session.epoch: session}, linked.node_seat, wire).plain == MESSAGES[1]
    tampered = e2ee.open_message(
        {session.epoch: session}, linked.node_seat, WIRE_TAMPERS[tamper](wire)
    )
    assert tampered.plain is None


def test_node_refuses_what_python_bound_to_another_room_seat_or_epoch(
    node: Node, linked: Linked
) -> None:
    s = linked.python
    plain = Plain("Bob", "bound", 1)
    forged = {
        "another room": e2ee.seal(s.send_key, new_room_id(), s.epoch, s.seat, plain),
        "the other seat": e2ee.seal(s.send_key, s.room_id, s.epoch, 3 - s.seat, plain),
        "another epoch": e2ee.seal(s.send_key, s.room_id, "AAAAAAAAAAA", s.seat, plain).replace(
            "3.AAAAAAAAAAA.", f"3.{s.epoch}."
        ),
    }
    for what, wire in forged.items():
        assert node("open", wire=wire, senderSeat=s.seat)["plain"] is None, what
    # The receiver's side: an honest message opened as from another seat or room.
    honest = e2ee.seal(s.send_key, s.room_id, s.epoch, s.seat, plain)
    assert node("open", wire=honest, senderSeat=3 - s.seat)["plain"] is None
    assert node("open", wire=honest, senderSeat=s.seat, roomId=new_room_id())["plain"] is None


def test_python_refuses_what_node_sealed_when_opened_for_another_room_or_seat(
    node: Node, linked: Linked
) -> None:
    s = linked.python
    parsed = e2ee.parse_wire(node("seal", name="Ann", text="bound", seq=1))
    assert parsed is not None
    epoch, sealed = parsed
    assert e2ee.open_sealed(s.recv_key, s.room_id, epoch, linked.node_seat, sealed) is not None
    assert e2ee.open_sealed(s.recv_key, new_room_id(), epoch, linked.node_seat, sealed) is None
    assert e2ee.open_sealed(s.recv_key, s.room_id, epoch, s.seat, sealed) is None
    assert e2ee.open_sealed(s.send_key, s.room_id, epoch, linked.node_seat, sealed) is None


@pytest.mark.parametrize(
    "wire", ["", "garbage", "0.AAAAAAAAAAA.AAAA", "3.AAAAAAAAAA.AAAA", "3.AAAAAAAAAAA.AA*A"]
)
def test_both_refuse_what_is_not_a_wire_text(node: Node, wire: str) -> None:
    assert e2ee.parse_wire(wire) is None
    assert node("open", wire=wire, senderSeat=1) == {"parsed": False, "plain": None}


OUT_OF_LIMITS = [
    Plain("A", "x", 1, -1),
    Plain("A", "x", 1, 0, -1),
    Plain("A", "x", 1, 0, 2, 3),  # read past ack
    Plain("", "x", 1),
    Plain("A", "", 1),
    Plain("N" * 101, "x", 1),
    Plain("A", "😀" * 1001, 1),
    Plain("A", "x", 0),
    Plain("A", "x", 2**53),
]


@pytest.mark.parametrize("plain", OUT_OF_LIMITS, ids=range(len(OUT_OF_LIMITS)))
def test_both_refuse_a_plaintext_out_of_the_limits(
    node: Node, linked: Linked, plain: Plain
) -> None:
    """Name 1-100 and text 1-1000 characters (code points), seq from 1."""
    s = linked.python
    wire = e2ee.seal(s.send_key, s.room_id, s.epoch, s.seat, plain)
    assert node("open", wire=wire, senderSeat=s.seat)["plain"] is None
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    assert e2ee.open_sealed(s.send_key, s.room_id, s.epoch, s.seat, parsed[1]) is None


# Receipts, both ways

RECEIPTS = [
    e2ee.Receipt("Ann", 0, 0, 0),
    e2ee.Receipt("Zoë 😀", 5, 7, 1733400000456, 2),
    e2ee.Receipt("\x01" * 100, 2**53 - 1, 2**53 - 1, 2**53 - 1, 2**53 - 1),
]


def receipt_json(receipt: e2ee.Receipt) -> dict[str, Any]:
    fields = {
        "name": receipt.name,
        "delivered": receipt.delivered,
        "sent": receipt.sent,
        "clock": receipt.clock,
    }
    return fields if receipt.read is None else {**fields, "read": receipt.read}


@pytest.mark.parametrize("receipt", RECEIPTS, ids=range(len(RECEIPTS)))
def test_receipts_open_both_ways_and_never_as_messages(
    node: Node, linked: Linked, receipt: e2ee.Receipt
) -> None:
    s = linked.python
    wire = node("sealReceipt", **receipt_json(receipt))
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    assert e2ee.open_receipt(s.recv_key, s.room_id, parsed[0], linked.node_seat, parsed[1]) == (
        receipt
    )
    assert e2ee.open_sealed(s.recv_key, s.room_id, parsed[0], linked.node_seat, parsed[1]) is None
    assert len(wire) <= RECEIPT_MAX_CHARS
    back = e2ee.seal_receipt(s.send_key, s.room_id, s.epoch, s.seat, receipt)
    assert node("openReceipt", wire=back, senderSeat=s.seat) == receipt_json(receipt)
    assert node("open", wire=back, senderSeat=s.seat)["plain"] is None


def test_the_largest_receipt_is_the_servers_bound(node: Node, linked: Linked) -> None:
    assert len(node("sealReceipt", **receipt_json(RECEIPTS[-1]))) == RECEIPT_MAX_CHARS
