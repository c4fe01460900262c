"""PrivoChat's end-to-end protocol v3 (docs/protocol.md), written a second time
with the `cryptography` package: an oracle for the browser's module and a
scriptable other participant (`Participant`) that speaks the HTTP API."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from devkit.api_client import ApiClient

VERSION = "privochat/2"  # the handshake's labels, unchanged since v2
MESSAGES = "privochat/3"  # the labels of messages and receipts
WIRE_VERSION = 3
BUCKETS = (256, 512, 1024, 2048, 4096, 8192)
NAME_MAX_CHARS = 100
TEXT_MAX_CHARS = 1000
IV_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
MAX_WIRE_CHARS = 10_974
MAX_SEQ = 2**53 - 1

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_WIRE = re.compile(r"([1-9][0-9]{0,2})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]+)")


class ProtocolError(ValueError):
    """A value the protocol refuses (a bad key, hello or shared secret)."""


# Notation


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes | None:
    """The bytes of canonical, unpadded base64url text; None for anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url(data) == text else None


def now_ms() -> int:
    return int(time.time() * 1000)


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def enc(*parts: bytes) -> bytes:
    """Each part as a 2-byte big-endian length, then its bytes."""
    out = bytearray()
    for part in parts:
        if len(part) > 0xFFFF:
            raise ProtocolError("a part longer than 65535 bytes")
        out += len(part).to_bytes(2, "big") + part
    return bytes(out)


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


# The link key and seats


def new_link_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def parse_link_key(fragment: str) -> bytes | None:
    key = from_b64url(fragment)
    return key if key is not None and len(key) == KEY_BYTES else None


def join_secret(link_key: bytes) -> bytes:
    """J, whose base64url is the join proof."""
    return hkdf(link_key, b"", utf8(f"{VERSION} join"))


def join_credentials(link_key: bytes) -> tuple[str, str]:
    """(proof, verifier) as the API takes them."""
    secret = join_secret(link_key)
    return b64url(secret), b64url(sha256(secret))


def hello_key(link_key: bytes, room_id: str) -> bytes:
    return hkdf(link_key, utf8(room_id), utf8(f"{VERSION} hello"))


# Hellos


@dataclass(frozen=True)
class KeyPair:
    private: X25519PrivateKey
    pub: bytes


def new_key_pair() -> KeyPair:
    private = X25519PrivateKey.generate()
    return KeyPair(private, private.public_key().public_bytes_raw())


def commitment(room_id: str, seat: int, generation: int, pub: bytes) -> bytes:
    return sha256(
        enc(utf8(f"{VERSION} commit"), utf8(room_id), utf8(str(seat)), utf8(str(generation)), pub)
    )


def hello_mac(key: bytes, room_id: str, seat: int, generation: int, commit: bytes) -> bytes:
    message = enc(
        utf8(f"{VERSION} hello"), utf8(room_id), utf8(str(seat)), utf8(str(generation)), commit
    )
    return hmac_sha256(key, message)


def make_hello(
    key: bytes, room_id: str, seat: int, generation: int, pub: bytes, *, reveal: bool
) -> dict[str, Any]:
    """A hello as the server returns it (the API body is the same without `seat`)."""
    commit = commitment(room_id, seat, generation, pub)
    hello: dict[str, Any] = {
        "seat": seat,
        "generation": generation,
        "commit": b64url(commit),
        "mac": b64url(hello_mac(key, room_id, seat, generation, commit)),
    }
    if reveal:
        hello["pub"] = b64url(pub)
    return hello


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bytes_field(hello: Mapping[str, object], name: str) -> bytes | None:
    value = hello.get(name)
    data = from_b64url(value) if isinstance(value, str) else None
    return data if data is not None and len(data) == 32 else None


def verify_hello(key: bytes, room_id: str, hello: Mapping[str, object]) -> bool:
    """Rule 1: the MAC verifies for the hello's seat and generation, and a
    revealed `pub` matches the commit."""
    seat, generation = hello.get("seat"), hello.get("generation")
    commit, mac = _bytes_field(hello, "commit"), _bytes_field(hello, "mac")
    if not (_is_int(seat) and seat in (1, 2) and _is_int(generation)):
        return False
    assert isinstance(seat, int) and isinstance(generation, int)
    if generation < 1 or commit is None or mac is None:
        return False
    if not hmac.compare_digest(mac, hello_mac(key, room_id, seat, generation, commit)):
        return False
    if "pub" not in hello:
        return True
    pub = _bytes_field(hello, "pub")
    return pub is not None and hmac.compare_digest(
        commit, commitment(room_id, seat, generation, pub)
    )


# Session keys of a generation


@dataclass(frozen=True)
class Session:
    room_id: str
    generation: int
    seat: int
    epoch: str
    send_key: bytes
    recv_key: bytes
    safety: str

    @property
    def other_seat(self) -> int:
        return 3 - self.seat


def transcript(room_id: str, generation: int, pub1: bytes, pub2: bytes) -> bytes:
    return enc(utf8(VERSION), utf8(room_id), utf8(str(generation)), pub1, pub2)


def shared_secret(private: X25519PrivateKey, their_pub: bytes) -> bytes:
    """X25519; `cryptography` checks for an all-zero result and raises."""
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(their_pub))
    except ValueError as error:
        raise ProtocolError("X25519 gave an all-zero shared secret") from error


def safety_code(s: bytes) -> str:
    """Three groups of five digits, each 5 bytes of `s` (big-endian) modulo 100,000."""
    return " ".join(
        f"{int.from_bytes(s[5 * i : 5 * i + 5], 'big') % 100_000:05d}" for i in range(3)
    )


def session_keys(
    shared: bytes, room_id: str, generation: int, pub1: bytes, pub2: bytes, seat: int
) -> Session:
    """The session of `seat` from a shared secret (tests forge with this)."""
    t = transcript(room_id, generation, pub1, pub2)
    k12 = hkdf(shared, t, utf8(f"{VERSION} 1->2"))
    k21 = hkdf(shared, t, utf8(f"{VERSION} 2->1"))
    s = hkdf(shared, t, utf8(f"{VERSION} safety"))
    return Session(
        room_id=room_id,
        generation=generation,
        seat=seat,
        epoch=b64url(sha256(t)[:8]),
        send_key=k12 if seat == 1 else k21,
        recv_key=k21 if seat == 1 else k12,
        safety=safety_code(s),
    )


def derive_session(
    private: X25519PrivateKey,
    pub1: bytes,
    pub2: bytes,
    room_id: str,
    seat: int,
    generation: int,
) -> Session:
    their_pub = pub2 if seat == 1 else pub1
    shared = shared_secret(private, their_pub)
    return session_keys(shared, room_id, generation, pub1, pub2, seat)


# Messages


@dataclass(frozen=True)
class Plain:
    """A message: `clock` is the sender's (ms since 1970); `ack` the highest seq
    of the other seat in this epoch the sender had received with none missing
    below it; `read` (None when read receipts are off) the highest it had shown."""

    name: str
    text: str
    seq: int
    clock: int = 0
    ack: int = 0
    read: int | None = None


@dataclass(frozen=True)
class Receipt:
    """What a receipt says: `delivered`/`read` as a message's ack/read, `sent`
    the highest seq its sender sealed in the epoch."""

    name: str
    delivered: int
    sent: int
    clock: int
    read: int | None = None


def _counter(value: object) -> bool:
    return _is_int(value) and 0 <= value <= MAX_SEQ  # type: ignore[operator]


def _name_ok(name: object) -> bool:
    return isinstance(name, str) and 1 <= len(name) <= NAME_MAX_CHARS


def _read_ok(read: object, upto: object) -> bool:
    return read is None or (_counter(read) and read <= upto)  # type: ignore[operator]


def within_limits(plain: Plain) -> bool:
    """Name 1-100 and text 1-1000 characters (code points), seq from 1 to the
    largest integer a JavaScript number holds exactly, clock and ack from 0,
    read (if any) at most ack."""
    if not (_name_ok(plain.name) and isinstance(plain.text, str) and _is_int(plain.seq)):
        return False
    return (
        1 <= len(plain.text) <= TEXT_MAX_CHARS
        and 1 <= plain.seq <= MAX_SEQ
        and _counter(plain.clock)
        and _counter(plain.ack)
        and _read_ok(plain.read, plain.ack)
    )


def receipt_within_limits(receipt: Receipt) -> bool:
    return (
        _name_ok(receipt.name)
        and _counter(receipt.delivered)
        and _counter(receipt.sent)
        and _counter(receipt.clock)
        and _read_ok(receipt.read, receipt.delivered)
    )


def _json(data: Mapping[str, object]) -> bytes:
    """As JSON.stringify writes it (no spaces, non-ASCII raw, keys in order)."""
    return utf8(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def plaintext(plain: Plain) -> bytes:
    """`{"n","t","s","c","a"}`, then `"r"` when read receipts are on."""
    data: dict[str, object] = {
        "n": plain.name,
        "t": plain.text,
        "s": plain.seq,
        "c": plain.clock,
        "a": plain.ack,
    }
    if plain.read is not None:
        data["r"] = plain.read
    return _json(data)


def receipt_plaintext(receipt: Receipt) -> bytes:
    """`{"n","d","h","c"}`, then `"r"` when read receipts are on."""
    data: dict[str, object] = {
        "n": receipt.name,
        "d": receipt.delivered,
        "h": receipt.sent,
        "c": receipt.clock,
    }
    if receipt.read is not None:
        data["r"] = receipt.read
    return _json(data)


def pad(data: bytes) -> bytes:
    for bucket in BUCKETS:
        if len(data) <= bucket:
            return data + bytes(bucket - len(data))
    raise ProtocolError(f"{len(data)} bytes do not fit the largest bucket")


def unpad(padded: bytes) -> bytes | None:
    """The JSON bytes of a padded plaintext; None for a length that is not a
    bucket, or padding longer than the smallest bucket that holds the JSON."""
    data = padded.rstrip(b"\0")
    if len(padded) not in BUCKETS or not data or pad(data) != padded:
        return None
    return data


def aad(room_id: str, epoch: str, seat: int, kind: str = "message") -> bytes:
    """`kind` is "message" or "receipt": one never opens as the other."""
    return enc(utf8(f"{MESSAGES} {kind}"), utf8(room_id), utf8(epoch), utf8(str(seat)))


def _seal(
    key: bytes, kind: str, room_id: str, epoch: str, seat: int, data: bytes, iv: bytes | None
) -> str:
    iv = secrets.token_bytes(IV_BYTES) if iv is None else iv
    sealed = AESGCM(key).encrypt(iv, pad(data), aad(room_id, epoch, seat, kind))
    return f"{WIRE_VERSION}.{epoch}.{b64url(iv + sealed)}"


def seal(
    key: bytes, room_id: str, epoch: str, seat: int, plain: Plain, iv: bytes | None = None
) -> str:
    return _seal(key, "message", room_id, epoch, seat, plaintext(plain), iv)


def seal_receipt(
    key: bytes, room_id: str, epoch: str, seat: int, receipt: Receipt, iv: bytes | None = None
) -> str:
    return _seal(key, "receipt", room_id, epoch, seat, receipt_plaintext(receipt), iv)


def wire_version(wire: str) -> int | None:
    """The version a wire text says it is (any, so a newer one is told apart)."""
    match = _WIRE.fullmatch(wire)
    return int(match[1]) if match else None


def parse_wire(wire: str) -> tuple[str, bytes] | None:
    """(epoch, iv ‖ ciphertext) of a wire text of this version; None otherwise."""
    match = _WIRE.fullmatch(wire)
    sealed = from_b64url(match[3]) if match else None
    epoch = from_b64url(match[2]) if match else None
    if match is None or sealed is None or epoch is None or len(epoch) != 8:
        return None
    if int(match[1]) != WIRE_VERSION:
        return None
    return match[2], sealed


def _open(
    key: bytes, kind: str, room_id: str, epoch: str, seat: int, sealed: bytes
) -> dict[str, Any] | None:
    if len(sealed) <= IV_BYTES + TAG_BYTES:
        return None
    try:
        padded = AESGCM(key).decrypt(
            sealed[:IV_BYTES], sealed[IV_BYTES:], aad(room_id, epoch, seat, kind)
        )
    except InvalidTag:
        return None
    data = unpad(padded)
    try:
        value = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:  # also invalid UTF-8
        return None
    return value if isinstance(value, dict) else None


def _keys_are(value: Mapping[str, object], required: str) -> bool:
    """Exactly the required keys, and "r" only as a number (never null)."""
    if "r" in value and value["r"] is None:
        return False
    return set(required) <= set(value) <= set(required) | {"r"}


def open_sealed(key: bytes, room_id: str, epoch: str, seat: int, sealed: bytes) -> Plain | None:
    value = _open(key, "message", room_id, epoch, seat, sealed)
    if value is None or not _keys_are(value, "ntsca"):
        return None
    plain = Plain(value["n"], value["t"], value["s"], value["c"], value["a"], value.get("r"))
    return plain if within_limits(plain) else None


def open_receipt(key: bytes, room_id: str, epoch: str, seat: int, sealed: bytes) -> Receipt | None:
    value = _open(key, "receipt", room_id, epoch, seat, sealed)
    if value is None or not _keys_are(value, "ndhc"):
        return None
    receipt = Receipt(value["n"], value["d"], value["h"], value["c"], value.get("r"))
    return receipt if receipt_within_limits(receipt) else None


class Verdict(Enum):
    """What a receiver makes of a stored message (docs/protocol.md, Messages)."""

    THEIRS = "theirs"
    OWN = "own"
    REFLECTION = "reflection"
    EARLIER_KEYS = "earlier-keys"
    NEWER_VERSION = "newer-version"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class Opened:
    verdict: Verdict
    plain: Plain | None = None


def open_message(sessions: Mapping[str, Session], seat: int, wire: str) -> Opened:
    """A message stored under `seat`, opened with the sessions a receiver holds."""
    version = wire_version(wire)
    if version is not None and version > WIRE_VERSION:
        return Opened(Verdict.NEWER_VERSION)
    parsed = parse_wire(wire)
    if parsed is None:
        return Opened(Verdict.UNVERIFIABLE)
    epoch, sealed = parsed
    session = sessions.get(epoch)
    if session is None:
        return Opened(Verdict.EARLIER_KEYS)
    rid = session.room_id
    if seat == session.seat:
        plain = open_sealed(session.send_key, rid, epoch, seat, sealed)
        return Opened(Verdict.OWN, plain) if plain is not None else Opened(Verdict.UNVERIFIABLE)
    if seat != session.other_seat:
        return Opened(Verdict.UNVERIFIABLE)
    plain = open_sealed(session.recv_key, rid, epoch, seat, sealed)
    if plain is not None:
        return Opened(Verdict.THEIRS, plain)
    reflected = open_sealed(session.send_key, rid, epoch, session.seat, sealed)
    if reflected is None:
        return Opened(Verdict.UNVERIFIABLE)
    return Opened(Verdict.REFLECTION, reflected)


# A participant over the HTTP API v2


@dataclass(eq=False)
class Participant:
    """A scripted browser: its own cookie jar and key pairs, the site's Origin.
    Sessions are kept per epoch; `session` is the newest."""

    base_url: str
    origin: str | None = None
    api: ApiClient = field(init=False)
    link_key: bytes = b""
    room_id: str = ""
    seat: int = 0
    pairs: dict[int, KeyPair] = field(default_factory=dict)
    hellos: dict[int, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.api = ApiClient(self.base_url, self.origin)

    def close(self) -> None:
        self.api.close()

    @property
    def token(self) -> str | None:
        return self.api.token

    @property
    def hello_key(self) -> bytes:
        return hello_key(self.link_key, self.room_id)

    @property
    def session(self) -> Session:
        if not self.sessions:
            raise ProtocolError("no session yet: the handshake is not complete")
        return max(self.sessions.values(), key=lambda s: s.generation)

    @property
    def other_seat(self) -> int:
        return 3 - self.seat

    # Rooms

    def create(self, link_key: bytes | None = None, *, join: bool = True) -> str:
        """Creates a room with the link key's verifier (a new key by default);
        then joins it, as the creator's page does, unless told not to."""
        self.link_key = new_link_key() if link_key is None else link_key
        _, verifier = join_credentials(self.link_key)
        self.room_id = self.api.create(verifier)
        if join:
            self.join(self.room_id, self.link_key).raise_for_status()
        return self.room_id

    def join(self, room_id: str, link_key: bytes, *, proof: str | None = None) -> httpx.Response:
        """Joins with the link key's proof (or a forged `proof`)."""
        self.room_id, self.link_key = room_id, link_key
        response = self.api.join(room_id, join_credentials(link_key)[0] if proof is None else proof)
        if response.is_success:
            self.seat = int(response.json()["seat"])
            self._learn(response.json()["hellos"])
        return response

    def _learn(self, hellos: list[dict[str, Any]]) -> None:
        for hello in hellos:
            self.hellos[int(hello["seat"])] = hello

    # Hellos: commit, then reveal

    @property
    def generation(self) -> int:
        """Rule 3: the highest generation either seat has published (at least 1),
        or the next one if this seat published it and has lost its pair."""
        g = max([1, *(int(h["generation"]) for h in self.hellos.values())])
        own = self.hellos.get(self.seat)
        lost = own is not None and int(own["generation"]) == g and g not in self.pairs
        return g + 1 if lost else g

    def publish_hello(self, reveal: bool, generation: int | None = None) -> httpx.Response:
        """Publishes the commit (and the pub if `reveal`) of this participant's
        pair for `generation` (the current one by default; a pair is made if
        there is none), without checking rule 2: `reveal()` checks it."""
        g = self.generation if generation is None else generation
        pair = self.pairs.setdefault(g, new_key_pair())
        hello = make_hello(self.hello_key, self.room_id, self.seat, g, pair.pub, reveal=reveal)
        del hello["seat"]
        return self.publish_raw(hello)

    def publish_raw(self, body: Mapping[str, Any]) -> httpx.Response:
        """Any hello body, as is (a substituted key, a bad MAC)."""
        response = self.api.hello(self.room_id, body)
        if response.is_success:
            self._learn([response.json()["hello"]])
        return response

    def other_hello(self, *, revealed: bool) -> dict[str, Any]:
        """The other seat's hello for the current generation, verified (rule 1)."""
        hello = self.hellos.get(self.other_seat)
        if hello is None or int(hello["generation"]) != self.generation:
            raise ProtocolError("no hello of the other seat for this generation")
        if not verify_hello(self.hello_key, self.room_id, hello):
            raise ProtocolError("the other person's key could not be verified")
        if revealed and "pub" not in hello:
            raise ProtocolError("the other seat has not revealed its key")
        return hello

    def commit(self) -> httpx.Response:
        """Rule 2, first half: publish the commit of the current generation."""
        self.fetch()
        return self.publish_hello(reveal=False)

    def reveal(self) -> httpx.Response:
        """Rule 2, second half: reveal only once the other seat's commit is held."""
        self.fetch()
        self.other_hello(revealed=False)
        return self.publish_hello(reveal=True)

    def complete(self) -> Session:
        """Derives the session of the current generation from the other's
        verified, revealed hello."""
        self.fetch()
        hello = self.other_hello(revealed=True)
        g = self.generation
        pair = self.pairs[g]
        their_pub = from_b64url(hello["pub"]) or b""
        pub1, pub2 = (pair.pub, their_pub) if self.seat == 1 else (their_pub, pair.pub)
        session = derive_session(pair.private, pub1, pub2, self.room_id, self.seat, g)
        self.sessions[session.epoch] = session
        self.next_seq.setdefault(session.epoch, 1)
        return session

    # Messages

    def fetch(self, after: str | None = None) -> list[dict[str, Any]]:
        """Every message after `after` (all by default), page by page; learns
        the hellos each page carries."""
        messages: list[dict[str, Any]] = []
        while True:
            response = self.api.messages(self.room_id, after)
            response.raise_for_status()
            page = response.json()
            self._learn(page["hellos"])
            messages += page["messages"]
            if not page["more"] or not page["messages"]:
                return messages
            after = page["messages"][-1]["id"]

    def seal(
        self,
        text: str,
        name: str,
        seq: int,
        *,
        clock: int | None = None,
        ack: int = 0,
        read: int | None = None,
        key: bytes | None = None,
        room_id: str | None = None,
        epoch: str | None = None,
        seat: int | None = None,
    ) -> str:
        """A wire text of the current session, sealed now (or at `clock`); each
        part of the AAD and the key can be forged (another room, another seat,
        the other direction's key)."""
        s = self.session
        return seal(
            s.send_key if key is None else key,
            s.room_id if room_id is None else room_id,
            s.epoch if epoch is None else epoch,
            s.seat if seat is None else seat,
            Plain(name, text, seq, now_ms() if clock is None else clock, ack, read),
        )

    def receipt(
        self,
        name: str,
        delivered: int,
        sent: int = 0,
        read: int | None = None,
        *,
        room_id: str | None = None,
        seat: int | None = None,
    ) -> str:
        """A receipt of the current session (forgeable as `seal`)."""
        s = self.session
        return seal_receipt(
            s.send_key,
            s.room_id if room_id is None else room_id,
            s.epoch,
            s.seat if seat is None else seat,
            Receipt(name, delivered, sent, now_ms(), read),
        )

    def send(
        self,
        text: str,
        name: str,
        seq: int | None = None,
        *,
        ack: int = 0,
        read: int | None = None,
    ) -> httpx.Response:
        """Seals and posts; `seq` defaults to the next one of the epoch (an
        explicit `seq` leaves the counter alone: replays, gaps, reorders)."""
        epoch = self.session.epoch
        if seq is None:
            seq = self.next_seq[epoch]
            self.next_seq[epoch] += 1
        return self.send_wire(self.seal(text, name, seq, ack=ack, read=read))

    def send_wire(self, wire: str, client_id: str | None = None) -> httpx.Response:
        return self.api.send(self.room_id, wire, client_id)

    def decrypt(self, message: Mapping[str, Any]) -> Opened:
        return open_message(self.sessions, int(message["seat"]), str(message["text"]))


def handshake(first: Participant, second: Participant) -> tuple[Session, Session]:
    """Both commit, then both reveal, then both derive: the order rule 2 allows."""
    for participant in (first, second):
        participant.commit().raise_for_status()
    for participant in (first, second):
        participant.reveal().raise_for_status()
    return first.complete(), second.complete()
