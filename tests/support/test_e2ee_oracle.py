"""The Python implementation of protocol v2 (tests/support/e2ee.py) on its own,
checked against docs/protocol.md and RFC 5869; test_protocol_interop.py then
checks it against the browser's module."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.support import e2ee
from tests.support.e2ee import Plain, Session, Verdict

RID = "V1StGXR8_Z5jdHi6B-myT"
OTHER_RID = "x2PcXb7QyQe9dSgRfL_aZ"


def rfc5869(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA-256 written out from RFC 5869, section 2 (empty salt = 32 zeros)."""
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def enc_by_hand(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(2, "big") + part for part in parts)


def pair_of_sessions(rid: str = RID, generation: int = 1) -> tuple[Session, Session]:
    one, two = e2ee.new_key_pair(), e2ee.new_key_pair()
    return (
        e2ee.derive_session(one.private, one.pub, two.pub, rid, 1, generation),
        e2ee.derive_session(two.private, one.pub, two.pub, rid, 2, generation),
    )


def seal_raw(session: Session, padded: bytes, *, label: str = "privochat/3 message") -> str:
    """A wire text around any padded plaintext (or any AAD label)."""
    iv = secrets.token_bytes(12)
    aad = enc_by_hand(
        label.encode(),
        session.room_id.encode(),
        session.epoch.encode(),
        str(session.seat).encode(),
    )
    return (
        f"3.{session.epoch}.{e2ee.b64url(iv + AESGCM(session.send_key).encrypt(iv, padded, aad))}"
    )


def open_wire(session: Session, wire: str, seat: int, rid: str | None = None) -> Plain | None:
    parsed = e2ee.parse_wire(wire)
    if parsed is None:
        return None
    epoch, sealed = parsed
    return e2ee.open_sealed(session.recv_key, rid or session.room_id, epoch, seat, sealed)


def b64_len(n: int) -> int:
    return (4 * n + 2) // 3


# Notation and link-derived values


def test_enc_is_length_prefixed_and_unambiguous() -> None:
    assert e2ee.enc(b"ab", b"", b"c") == b"\x00\x02ab\x00\x00\x00\x01c"
    assert e2ee.enc(b"ab", b"c") != e2ee.enc(b"a", b"bc")
    assert e2ee.enc(bytes(300)) == b"\x01\x2c" + bytes(300)
    with pytest.raises(e2ee.ProtocolError):
        e2ee.enc(bytes(65536))


def test_hkdf_with_empty_salt_is_rfc5869_zero_salt() -> None:
    ikm, info = secrets.token_bytes(32), b"privochat/2 join"
    assert e2ee.hkdf(ikm, b"", info) == rfc5869(ikm, bytes(32), info)
    assert e2ee.hkdf(ikm, b"", info) == e2ee.hkdf(ikm, bytes(32), info)
    # RFC 5869, appendix A.3 (zero-length salt and info), first 32 bytes of OKM.
    okm = bytes.fromhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d")
    assert e2ee.hkdf(bytes([0x0B] * 22), b"", b"") == okm
    salt = RID.encode()
    assert e2ee.hkdf(ikm, salt, info) == rfc5869(ikm, salt, info) != rfc5869(ikm, b"", info)


def test_link_key_is_43_characters_of_32_bytes() -> None:
    key = e2ee.new_link_key()
    fragment = e2ee.b64url(key)
    assert len(fragment) == 43
    assert e2ee.parse_link_key(fragment) == key


@pytest.mark.parametrize(
    "fragment",
    [
        "",
        "A" * 42,
        "A" * 44,
        "A" * 42 + "B",  # a non-zero bit past the 256th: not canonical
        "A" * 42 + "=",
        "A" * 41 + "+A",
        "A" * 41 + "/A",
        "A" * 41 + " A",
        "A" * 42 + "é",
    ],
)
def test_parse_link_key_refuses_anything_but_32_canonical_bytes(fragment: str) -> None:
    assert e2ee.parse_link_key(fragment) is None


def test_join_proof_and_verifier() -> None:
    key = e2ee.new_link_key()
    proof, verifier = e2ee.join_credentials(key)
    j = rfc5869(key, b"", b"privochat/2 join")
    assert proof == e2ee.b64url(j)
    assert verifier == e2ee.b64url(hashlib.sha256(j).digest())
    assert e2ee.join_credentials(e2ee.new_link_key()) != (proof, verifier)


def test_hello_key_is_bound_to_the_room() -> None:
    key = e2ee.new_link_key()
    assert e2ee.hello_key(key, RID) == rfc5869(key, RID.encode(), b"privochat/2 hello")
    assert e2ee.hello_key(key, RID) != e2ee.hello_key(key, OTHER_RID)
    assert e2ee.hello_key(key, RID) != e2ee.join_secret(key)


# Hellos


def test_commit_and_mac_are_the_documented_bytes() -> None:
    key, pub = e2ee.new_link_key(), e2ee.new_key_pair().pub
    commit = hashlib.sha256(enc_by_hand(b"privochat/2 commit", RID.encode(), b"2", b"7", pub))
    assert e2ee.commitment(RID, 2, 7, pub) == commit.digest()
    mac = hmac.new(
        key, enc_by_hand(b"privochat/2 hello", RID.encode(), b"2", b"7", commit.digest()), "sha256"
    )
    assert e2ee.hello_mac(key, RID, 2, 7, commit.digest()) == mac.digest()


def test_commit_changes_with_every_input() -> None:
    pub, other = e2ee.new_key_pair().pub, e2ee.new_key_pair().pub
    base = e2ee.commitment(RID, 1, 1, pub)
    changed = [
        e2ee.commitment(OTHER_RID, 1, 1, pub),
        e2ee.commitment(RID, 2, 1, pub),
        e2ee.commitment(RID, 1, 2, pub),
        e2ee.commitment(RID, 1, 1, other),
    ]
    assert base not in changed
    assert len(set(changed)) == 4


@pytest.mark.parametrize("reveal", [False, True])
def test_a_hello_verifies(reveal: bool) -> None:
    key, pair = e2ee.hello_key(e2ee.new_link_key(), RID), e2ee.new_key_pair()
    hello = e2ee.make_hello(key, RID, 2, 3, pair.pub, reveal=reveal)
    assert set(hello) == {"seat", "generation", "commit", "mac"} | ({"pub"} if reveal else set())
    assert hello["seat"] == 2
    assert hello["generation"] == 3
    assert ("pub" in hello) == reveal
    assert e2ee.verify_hello(key, RID, hello)


def _b64_of_other_bytes(value: str) -> str:
    raw = bytearray(e2ee.from_b64url(value) or b"")
    raw[5] ^= 0x01
    return e2ee.b64url(bytes(raw))


HELLO_TAMPERS: dict[str, Any] = {
    "seat": lambda h: {**h, "seat": 3 - h["seat"]},
    "generation": lambda h: {**h, "generation": h["generation"] + 1},
    "commit": lambda h: {**h, "commit": _b64_of_other_bytes(h["commit"])},
    "mac": lambda h: {**h, "mac": _b64_of_other_bytes(h["mac"])},
    "pub": lambda h: {**h, "pub": e2ee.b64url(e2ee.new_key_pair().pub)},
    "seat as text": lambda h: {**h, "seat": str(h["seat"])},
    "seat 3": lambda h: {**h, "seat": 3},
    "generation as bool": lambda h: {**h, "generation": True},
    "generation 0": lambda h: {**h, "generation": 0},
    "no mac": lambda h: {k: v for k, v in h.items() if k != "mac"},
    "no commit": lambda h: {k: v for k, v in h.items() if k != "commit"},
    "mac not base64url": lambda h: {**h, "mac": h["mac"][:-1] + "*"},
    "mac cut short": lambda h: {**h, "mac": h["mac"][:-2]},
    "pub cut short": lambda h: {**h, "pub": h["pub"][:-2]},
    "pub null": lambda h: {**h, "pub": None},
}


@pytest.mark.parametrize("tamper", sorted(HELLO_TAMPERS))
def test_a_changed_hello_does_not_verify(tamper: str) -> None:
    key = e2ee.hello_key(e2ee.new_link_key(), RID)
    hello = e2ee.make_hello(key, RID, 1, 2, e2ee.new_key_pair().pub, reveal=True)
    assert e2ee.verify_hello(key, RID, hello)
    assert not e2ee.verify_hello(key, RID, HELLO_TAMPERS[tamper](hello))


def test_a_hello_does_not_verify_in_another_room_or_under_another_link() -> None:
    link = e2ee.new_link_key()
    hello = e2ee.make_hello(
        e2ee.hello_key(link, RID), RID, 1, 1, e2ee.new_key_pair().pub, reveal=True
    )
    assert not e2ee.verify_hello(e2ee.hello_key(link, OTHER_RID), OTHER_RID, hello)
    assert not e2ee.verify_hello(e2ee.hello_key(link, OTHER_RID), RID, hello)
    assert not e2ee.verify_hello(e2ee.hello_key(e2ee.new_link_key(), RID), RID, hello)


def test_a_commit_revealed_with_another_key_does_not_verify() -> None:
    """A server that substitutes the pub under an honest commit and MAC."""
    key = e2ee.hello_key(e2ee.new_link_key(), RID)
    committed = e2ee.make_hello(key, RID, 2, 1, e2ee.new_key_pair().pub, reveal=False)
    substituted = {**committed, "pub": e2ee.b64url(e2ee.new_key_pair().pub)}
    assert e2ee.verify_hello(key, RID, committed)
    assert not e2ee.verify_hello(key, RID, substituted)


# Session keys


def test_both_seats_derive_the_same_session() -> None:
    one, two = pair_of_sessions(generation=4)
    assert (one.epoch, one.safety, one.generation) == (two.epoch, two.safety, 4)
    assert one.send_key == two.recv_key
    assert one.recv_key == two.send_key
    assert one.send_key != one.recv_key
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", one.epoch)
    assert re.fullmatch(r"\d{5} \d{5} \d{5}", one.safety)


def test_session_is_the_documented_derivation() -> None:
    one, two = e2ee.new_key_pair(), e2ee.new_key_pair()
    session = e2ee.derive_session(two.private, one.pub, two.pub, RID, 2, 5)
    shared = one.private.exchange(X25519PublicKey.from_public_bytes(two.pub))
    t = enc_by_hand(b"privochat/2", RID.encode(), b"5", one.pub, two.pub)
    assert session.epoch == e2ee.b64url(hashlib.sha256(t).digest()[:8])
    assert session.send_key == rfc5869(shared, t, b"privochat/2 2->1")
    assert session.recv_key == rfc5869(shared, t, b"privochat/2 1->2")
    s = rfc5869(shared, t, b"privochat/2 safety")
    groups = [int.from_bytes(s[i : i + 5], "big") % 100_000 for i in (0, 5, 10)]
    assert session.safety == " ".join(f"{group:05d}" for group in groups)


def test_safety_code_keeps_leading_zeros() -> None:
    shared = bytes(range(32))
    codes = {
        e2ee.session_keys(shared, RID, g, bytes(32), bytes(32), 1).safety for g in range(1, 400)
    }
    assert all(re.fullmatch(r"\d{5} \d{5} \d{5}", code) for code in codes)
    assert any(code.startswith("0") for code in codes)


def test_sessions_differ_by_room_generation_and_keys() -> None:
    one, two = e2ee.new_key_pair(), e2ee.new_key_pair()
    base = e2ee.derive_session(one.private, one.pub, two.pub, RID, 1, 1)
    others = [
        e2ee.derive_session(one.private, one.pub, two.pub, OTHER_RID, 1, 1),
        e2ee.derive_session(one.private, one.pub, two.pub, RID, 1, 2),
        pair_of_sessions()[0],
    ]
    for other in others:
        assert other.epoch != base.epoch
        assert other.send_key != base.send_key
        assert other.recv_key != base.recv_key


LOW_ORDER_POINTS = [
    "00" * 32,
    "01" + "00" * 31,
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ec" + "ff" * 30 + "7f",
    "ed" + "ff" * 30 + "7f",
    "ee" + "ff" * 30 + "7f",
]


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_an_all_zero_shared_secret_is_refused(point: str) -> None:
    mine = e2ee.new_key_pair()
    with pytest.raises(e2ee.ProtocolError, match="all-zero"):
        e2ee.derive_session(mine.private, mine.pub, bytes.fromhex(point), RID, 1, 1)


def test_every_seal_draws_a_fresh_random_iv() -> None:
    one, two = e2ee.new_key_pair(), e2ee.new_key_pair()
    session = e2ee.derive_session(one.private, one.pub, two.pub, RID, 1, 1)
    plain = e2ee.Plain("A", "same text", 1)
    wires = [e2ee.seal(session.send_key, RID, session.epoch, 1, plain) for _ in range(200)]
    ivs = {bytes(e2ee.from_b64url(wire.split(".")[2]) or b"")[:12] for wire in wires}
    assert len(ivs) == 200, "no IV repeats under one key"


# Padding


def json_of_length(n: int) -> bytes:
    """A plaintext whose JSON is exactly n bytes."""
    data = e2ee.plaintext(Plain("A", "", 1))
    return e2ee.plaintext(Plain("A", "x" * (n - len(data)), 1))


def test_plaintext_is_json_as_the_browser_writes_it() -> None:
    data = e2ee.plaintext(Plain("Zoë", 'é\n"\\\x01😀\u2028', 12, 1733400000123, 4, 3))
    assert data == (
        '{"n":"Zoë","t":"é\\n\\"\\\\\\u0001😀\u2028","s":12,"c":1733400000123,"a":4,"r":3}'.encode()
    )
    assert json.loads(data)["t"] == 'é\n"\\\x01😀\u2028'
    # Read receipts off: no "r" at all.
    assert e2ee.plaintext(Plain("A", "x", 1, 5, 0)) == b'{"n":"A","t":"x","s":1,"c":5,"a":0}'
    assert e2ee.receipt_plaintext(e2ee.Receipt("A", 7, 2, 5, 6)) == (
        b'{"n":"A","d":7,"h":2,"c":5,"r":6}'
    )


@pytest.mark.parametrize("bucket", e2ee.BUCKETS)
def test_padding_fills_the_smallest_bucket(bucket: int) -> None:
    exact, over = json_of_length(bucket), json_of_length(bucket + 1)
    assert len(exact) == bucket
    assert e2ee.pad(exact) == exact
    assert e2ee.unpad(e2ee.pad(exact)) == exact
    if bucket == e2ee.BUCKETS[-1]:
        with pytest.raises(e2ee.ProtocolError):
            e2ee.pad(over)
    else:
        padded = e2ee.pad(over)
        assert len(padded) == bucket * 2
        assert padded[bucket + 1 :] == bytes(bucket - 1)
        assert e2ee.unpad(padded) == over
    assert len(e2ee.pad(json_of_length(bucket // 2 + 1))) == bucket


@pytest.mark.parametrize(
    "padded",
    [
        b"",
        bytes(256),
        b'{"n":"A","t":"x","s":1}' + bytes(232),  # 255 bytes
        b'{"n":"A","t":"x","s":1}' + bytes(234),  # 257 bytes
        b'{"n":"A","t":"x","s":1}' + bytes(489),  # 512 bytes for 23 of JSON
    ],
)
def test_unpad_refuses_lengths_other_than_the_smallest_bucket(padded: bytes) -> None:
    assert e2ee.unpad(padded) is None


@pytest.mark.parametrize("bucket", e2ee.BUCKETS)
def test_wire_length_per_bucket(bucket: int) -> None:
    one, _ = pair_of_sessions()
    smallest = e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("A", "x", 1))
    assert len(smallest) == 2 + 11 + 1 + b64_len(12 + 256 + 16)
    text = json.loads(json_of_length(bucket))["t"]
    wire = e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("A", text, 1))
    assert len(wire) == 14 + b64_len(12 + bucket + 16)


def test_no_character_takes_more_than_six_json_bytes() -> None:
    """JSON escapes control characters as \\u00XX (6 bytes); any other code
    point is at most 4 UTF-8 bytes, and a UTF-16 unit at most 3."""
    widest = max(
        len(json.dumps(chr(c), ensure_ascii=False)[1:-1].encode())
        for c in range(0x110000)
        if not 0xD800 <= c <= 0xDFFF
    )
    assert widest == 6


def test_worst_case_message_is_10974_characters_and_opens() -> None:
    """1000-character text and 100-character name, each character 6 bytes of
    JSON: 6,600 bytes and more fit no bucket under 8192, and nothing fits more."""
    one, two = pair_of_sessions()
    most = 2**53 - 1
    worst = Plain(
        "\x01" * e2ee.NAME_MAX_CHARS, "\x1f" * e2ee.TEXT_MAX_CHARS, most, most, most, most
    )
    bound = (
        6 * (e2ee.NAME_MAX_CHARS + e2ee.TEXT_MAX_CHARS)
        + len(b'{"n":"","t":"","s":,"c":,"a":,"r":}')
        + 4 * 16
    )
    assert len(e2ee.plaintext(worst)) <= bound <= e2ee.BUCKETS[-1]
    wire = e2ee.seal(one.send_key, RID, one.epoch, 1, worst)
    assert len(wire) == e2ee.MAX_WIRE_CHARS == 10_974
    assert open_wire(two, wire, 1) == worst


# Messages


@pytest.mark.parametrize(
    "plain",
    [
        Plain("Ann", "hi", 1),
        Plain("Ann", "read receipts on", 4, 1733400000123, 9, 7),
        Plain("Zoë 😀", "naïve € 日本語 🎉" * 60, 2),
        Plain("B", "x" * 1000, 3),
        Plain("😀" * 100, "😀" * 1000, 2**53 - 1),  # limits count code points
        Plain("\u0000name", '{"n":"forged"}\n\t', 17),
    ],
)
def test_seal_and_open_round_trip(plain: Plain) -> None:
    one, two = pair_of_sessions()
    wire = e2ee.seal(one.send_key, RID, one.epoch, 1, plain)
    assert wire.startswith(f"3.{one.epoch}.")
    assert open_wire(two, wire, seat=1) == plain
    back = e2ee.seal(two.send_key, RID, two.epoch, 2, plain)
    assert open_wire(one, back, seat=2) == plain


def test_the_same_message_seals_differently_each_time() -> None:
    one, _ = pair_of_sessions()
    wires = {e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("A", "same", 1)) for _ in range(5)}
    assert len(wires) == 5


def test_every_aad_field_is_bound() -> None:
    one, two = pair_of_sessions()
    plain = Plain("Ann", "hello", 1)
    good = e2ee.seal(one.send_key, RID, one.epoch, 1, plain)
    assert open_wire(two, good, 1) == plain
    sealed = e2ee.parse_wire(good)
    assert sealed is not None
    _, body = sealed
    # The receiver's side of each field changed: room, epoch, seat.
    assert e2ee.open_sealed(two.recv_key, OTHER_RID, one.epoch, 1, body) is None
    assert e2ee.open_sealed(two.recv_key, RID, pair_of_sessions()[0].epoch, 1, body) is None
    assert e2ee.open_sealed(two.recv_key, RID, one.epoch, 2, body) is None
    # The sender's side of each field changed, the receiver honest.
    for forged in (
        e2ee.seal(one.send_key, OTHER_RID, one.epoch, 1, plain),
        e2ee.seal(one.send_key, RID, "AAAAAAAAAAA", 1, plain),
        e2ee.seal(one.send_key, RID, one.epoch, 2, plain),
        seal_raw(one, e2ee.pad(e2ee.plaintext(plain)), label="privochat/2"),
        seal_raw(one, e2ee.pad(e2ee.plaintext(plain)), label="privochat/3 receipt"),
    ):
        assert open_wire(two, forged.replace(forged.split(".")[1], one.epoch), 1) is None
    # The label is what differs above; the same bytes with "privochat/3 message" open.
    assert open_wire(two, seal_raw(one, e2ee.pad(e2ee.plaintext(plain))), 1) == plain


def test_the_other_directions_key_does_not_open() -> None:
    one, two = pair_of_sessions()
    wire = e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("Ann", "hello", 1))
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    assert e2ee.open_sealed(two.send_key, RID, one.epoch, 1, parsed[1]) is None


@pytest.mark.parametrize("where", [0, 11, 12, 100, -16, -1])
def test_any_changed_byte_is_refused(where: int) -> None:
    one, two = pair_of_sessions()
    wire = e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("Ann", "hello", 1))
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    body = bytearray(parsed[1])
    body[where] ^= 0x80
    assert e2ee.open_sealed(two.recv_key, RID, one.epoch, 1, bytes(body)) is None
    assert e2ee.open_sealed(two.recv_key, RID, one.epoch, 1, parsed[1][:-1]) is None
    assert e2ee.open_sealed(two.recv_key, RID, one.epoch, 1, parsed[1][:27]) is None


@pytest.mark.parametrize(
    "padded",
    [
        b'{"n":"A","t":"x","s":1,"c":0}',
        b'{"n":"A","t":"x","s":1,"a":0}',
        b'{"n":"A","t":"x","s":1,"c":0,"a":0,"x":0}',
        b'{"n":1,"t":"x","s":1,"c":0,"a":0}',
        b'{"n":"A","t":null,"s":1,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":true,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":1.5,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":"1","c":0,"a":0}',
        b'{"n":"A","t":"x","s":0,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":-1,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":9007199254740992,"c":0,"a":0}',
        b'{"n":"A","t":"x","s":1,"c":-1,"a":0}',
        b'{"n":"A","t":"x","s":1,"c":0,"a":-1}',
        b'{"n":"A","t":"x","s":1,"c":0,"a":0.5}',
        b'{"n":"A","t":"x","s":1,"c":0,"a":2,"r":3}',  # read beyond what was received
        b'{"n":"A","t":"x","s":1,"c":0,"a":2,"r":null}',
        b'{"n":"","t":"x","s":1,"c":0,"a":0}',
        b'{"n":"A","t":"","s":1,"c":0,"a":0}',
        b'{"n":"' + b"N" * 101 + b'","t":"x","s":1,"c":0,"a":0}',
        b'{"n":"A","t":"' + "😀".encode() * 1001 + b'","s":1,"c":0,"a":0}',
        b'{"n":"A","d":1,"h":1,"c":0}',  # a receipt's fields, sealed as a message
        b'["A","x",1,0,0]',
        b"not json",
        b'{"n":"\xff","t":"x","s":1,"c":0,"a":0}',
    ],
)
def test_a_plaintext_that_is_not_the_message_json_is_refused(padded: bytes) -> None:
    one, two = pair_of_sessions()
    assert open_wire(two, seal_raw(one, e2ee.pad(padded)), 1) is None


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "hello",
        "2.AAAAAAAAAAA.",
        "2.AAAAAAAAAA.AAAA",
        "2.AAAAAAAAAAAA.AAAA",
        "1.AAAAAAAAAAA.AAAA",
        "2.AAAAAAAAAAA.AAAA=",
        "2.AAAAAAAAAAA.AAA+",
        "2.AAAAAAAAAAA.AAAAA",
        "2.AAAAAAAAAAA.AB",  # a non-zero bit past the last byte: not canonical
        "2.AAAAAAAAAAA.AAAA\n",
        " 2.AAAAAAAAAAA.AAAA",
    ],
)
def test_parse_wire_refuses_what_is_not_a_wire_text(wire: str) -> None:
    assert e2ee.parse_wire(wire) is None


def test_parse_wire_splits_epoch_and_sealed_bytes() -> None:
    assert e2ee.parse_wire("3.AAAAAAAAAAA.AAAA") == ("AAAAAAAAAAA", bytes(3))
    # Another version is told apart, not parsed as this one.
    assert e2ee.parse_wire("2.AAAAAAAAAAA.AAAA") is None
    assert e2ee.wire_version("4.AAAAAAAAAAA.AAAA") == 4


# Receipts


def test_a_receipt_round_trips_and_never_opens_as_a_message() -> None:
    one, two = pair_of_sessions()
    receipt = e2ee.Receipt("Ann", delivered=3, sent=5, clock=1733400000123, read=2)
    wire = e2ee.seal_receipt(one.send_key, RID, one.epoch, 1, receipt)
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    assert e2ee.open_receipt(two.recv_key, RID, one.epoch, 1, parsed[1]) == receipt
    assert e2ee.open_sealed(two.recv_key, RID, one.epoch, 1, parsed[1]) is None
    message = e2ee.parse_wire(e2ee.seal(one.send_key, RID, one.epoch, 1, Plain("Ann", "x", 1)))
    assert message is not None
    assert e2ee.open_receipt(two.recv_key, RID, one.epoch, 1, message[1]) is None
    # Another room, another seat, the other direction: refused.
    assert e2ee.open_receipt(two.recv_key, OTHER_RID, one.epoch, 1, parsed[1]) is None
    assert e2ee.open_receipt(two.recv_key, RID, one.epoch, 2, parsed[1]) is None
    assert e2ee.open_receipt(two.send_key, RID, one.epoch, 1, parsed[1]) is None


@pytest.mark.parametrize(
    "padded",
    [
        b'{"n":"A","d":1,"h":1}',
        b'{"n":"A","d":1,"h":1,"c":0,"x":1}',
        b'{"n":"A","d":2,"h":1,"c":0,"r":3}',
        b'{"n":"A","d":-1,"h":1,"c":0}',
        b'{"n":"","d":1,"h":1,"c":0}',
        b'{"n":"A","t":"x","s":1,"c":0,"a":0}',
    ],
)
def test_a_receipt_that_is_not_the_receipt_json_is_refused(padded: bytes) -> None:
    one, two = pair_of_sessions()
    wire = seal_raw(one, e2ee.pad(padded), label="privochat/3 receipt")
    parsed = e2ee.parse_wire(wire)
    assert parsed is not None
    assert e2ee.open_receipt(two.recv_key, RID, one.epoch, 1, parsed[1]) is None


# What a receiver makes of a stored message


def test_receiver_verdicts() -> None:
    ann, bob = pair_of_sessions()
    ann_holds, bob_holds = {ann.epoch: ann}, {bob.epoch: bob}
    from_ann = e2ee.seal(ann.send_key, RID, ann.epoch, 1, Plain("Ann", "hi Bob", 1))
    from_bob = e2ee.seal(bob.send_key, RID, bob.epoch, 2, Plain("Bob", "hi Ann", 1))
    assert e2ee.open_message(bob_holds, 1, from_ann) == e2ee.Opened(
        Verdict.THEIRS, Plain("Ann", "hi Bob", 1)
    )
    assert e2ee.open_message(ann_holds, 1, from_ann).verdict is Verdict.OWN
    assert e2ee.open_message(ann_holds, 2, from_bob).verdict is Verdict.THEIRS
    # Ann's own message shown to her as Bob's.
    reflected = e2ee.open_message(ann_holds, 2, from_ann)
    assert reflected == e2ee.Opened(Verdict.REFLECTION, Plain("Ann", "hi Bob", 1))
    # Bob's message stored under Ann's seat: it opens neither as hers nor as his.
    assert e2ee.open_message(ann_holds, 1, from_bob).verdict is Verdict.UNVERIFIABLE
    # Keys the receiver no longer holds, garbage, another room's message.
    later, _ = pair_of_sessions(generation=2)
    newer = e2ee.seal(later.send_key, RID, later.epoch, 1, Plain("Ann", "new", 1))
    assert e2ee.open_message(bob_holds, 1, newer).verdict is Verdict.EARLIER_KEYS
    assert e2ee.open_message(bob_holds, 1, "garbage").verdict is Verdict.UNVERIFIABLE
    moved = e2ee.seal(ann.send_key, OTHER_RID, ann.epoch, 1, Plain("Ann", "elsewhere", 1))
    assert e2ee.open_message(bob_holds, 1, moved).verdict is Verdict.UNVERIFIABLE
    assert e2ee.open_message(bob_holds, 3, from_ann).verdict is Verdict.UNVERIFIABLE
    # A newer version of the protocol is told apart from a forgery.
    newer_version = "4." + from_ann.split(".", 1)[1]
    assert e2ee.open_message(bob_holds, 1, newer_version).verdict is Verdict.NEWER_VERSION
