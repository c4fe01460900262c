"""The hello rules of docs/protocol.md ("Hellos: commit, then reveal", rules 1-4;
"Key changes, and a compared code"; "Keys at rest"), written a second time in
Python on the oracle's primitives (tests/support/e2ee.py): a twin of the
browser's state machine (static_site/js/handshake.js), for tests that play a
hostile server holding the link.

Pure and synchronous: hellos go in (`update`), the hellos to publish come out;
the sessions carry the marks keyChange, accepted and verified; problems are
recorded ("unverifiable", "conflict", "refused", "unfinished", "abandoned"). What a browser
loses is an explicit input: `reload()` (the page's private keys are gone, what
rests stays) and `leave()` (Leave or cleared storage: what rested is gone too).
One tab per browser: a private key this page does not hold is lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.support import e2ee

# Rule 4: generations the other seat committed to and left unrevealed, after this page
# revealed, that a page follows before it stops (kind "abandoned").
MAX_ABANDONED = 3


@dataclass(frozen=True)
class Problem:
    kind: str  # "unverifiable" | "conflict" | "refused" | "unfinished" | "abandoned"
    seat: int | None
    generation: int | None


@dataclass
class SessionRecord:
    """A session as it rests in the browser, with the marks of "Key changes"."""

    session: e2ee.Session
    key_change: bool
    accepted: bool = False
    verified: bool = False

    @property
    def epoch(self) -> str:
        return self.session.epoch

    @property
    def generation(self) -> int:
        return self.session.generation

    @property
    def safety(self) -> str:
        return self.session.safety


@dataclass
class Stored:
    """What rests in this browser for the room ("Keys at rest"): the pub of each
    generation published, and the sessions; never a private key."""

    pairs: dict[int, bytes] = field(default_factory=dict)
    sessions: dict[str, SessionRecord] = field(default_factory=dict)


@dataclass
class _Theirs:
    commit: str
    pub: str | None


def epoch_of(room_id: str, generation: int, pub1: bytes, pub2: bytes) -> str:
    return e2ee.b64url(e2ee.sha256(e2ee.transcript(room_id, generation, pub1, pub2))[:8])


def can_seal(session: SessionRecord | None) -> bool:
    """Nothing is sealed without a session, nor with new keys until the person accepts them."""
    return session is not None and (not session.key_change or session.accepted)


class Handshake:
    """One seat's browser: what rests (`stored`) and what its open page holds."""

    def __init__(self, room_id: str, seat: int, hello_key: bytes) -> None:
        self.room_id = room_id
        self.seat = seat
        self.other = 3 - seat
        self.hello_key = hello_key
        self.stored = Stored()
        self.problems: list[Problem] = []
        self.published: list[dict[str, Any]] = []
        self._new_page()

    def _new_page(self) -> None:
        self.private_keys: dict[int, X25519PrivateKey] = {}  # this page's memory only
        self.theirs: dict[int, _Theirs] = {}  # the other seat's hellos, as first verified
        self.mine: Mapping[str, Any] | None = None  # our seat's latest hello as the server holds it
        self.epochs: dict[int, str] = {}
        self.refused: set[int] = set()
        self.lost_session = False  # keys of a generation the other had answered are gone
        self.abandoned: set[int] = set()
        self.current: SessionRecord | None = None

    # What a browser loses

    def reload(self) -> None:
        """A reload or a closed tab: private keys live only in the page that made them."""
        self._new_page()

    def leave(self) -> None:
        """Leave, cleared storage, a private window: nothing of the room rests either."""
        self.stored = Stored()
        self._new_page()

    # The person

    def mark(self, *, accepted: bool | None = None, verified: bool | None = None) -> None:
        if self.current is None:
            return
        if accepted is not None:
            self.current.accepted = accepted
        if verified is not None:
            self.current.verified = verified

    def can_seal(self) -> bool:
        return can_seal(self.current)

    @property
    def safety(self) -> str | None:
        return self.current.safety if self.current else None

    # The rules

    def _problem(self, kind: str, seat: int | None, generation: int | None) -> None:
        self.problems.append(Problem(kind, seat, generation))

    def take(self, hello: Mapping[str, Any]) -> None:
        """Rule 1: only a hello whose MAC (and, revealed, commit) verifies is used."""
        if not e2ee.verify_hello(self.hello_key, self.room_id, hello):
            seat, generation = hello.get("seat"), hello.get("generation")
            self._problem(
                "unverifiable",
                seat if isinstance(seat, int) else None,
                generation if isinstance(generation, int) else None,
            )
            return
        seat, generation, commit, pub = (
            hello["seat"],
            hello["generation"],
            hello["commit"],
            hello.get("pub"),
        )
        if seat == self.seat:
            mine = self.mine
            if (
                mine is None
                or generation > mine["generation"]
                or (generation == mine["generation"] and pub and commit == mine["commit"])
            ):
                self.mine = dict(hello)
            return
        held = self.theirs.get(generation)
        if held is None:
            self.theirs[generation] = _Theirs(commit, pub)
        elif held.commit != commit:
            self._problem("conflict", seat, generation)
        elif held.pub is None:
            held.pub = pub

    def _commit_of(self, generation: int, pub: bytes) -> str:
        return e2ee.b64url(e2ee.commitment(self.room_id, self.seat, generation, pub))

    def update(self, hellos: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Takes hellos from the server and returns the hellos this page publishes
        (the server is assumed to store each as it is, with our seat)."""
        out: list[dict[str, Any]] = []
        for hello in hellos:
            self.take(hello)
        self._derive_all()
        their_g = max([0, *self.theirs])
        mine = self.mine
        my_g: int = mine["generation"] if mine else 0
        my_pub = self.stored.pairs.get(my_g) if my_g else None
        ours = (
            mine is not None
            and my_pub is not None
            and self._commit_of(my_g, my_pub) == mine["commit"]
        )
        if my_pub is not None and not ours:
            self._problem("conflict", self.seat, my_g)
        # Rule 3: our private key of our published generation is gone before a session came of it.
        lost = ours and my_g not in self.private_keys and my_g not in self.epochs
        target = max(my_g + 1, their_g) if my_g and (not ours or lost) else max(my_g, their_g, 1)
        # Keys of a generation the other had revealed for: a session existed, and this browser lost it.
        held = self.theirs.get(my_g)
        if my_g and not ours and held is not None and held.pub:
            self.lost_session = True
        # Rule 4: the other committed, we revealed, and they moved on without revealing.
        if (
            target > my_g
            and my_g
            and ours
            and not lost
            and mine is not None
            and mine.get("pub")
            and held is not None
            and not held.pub
        ):
            self.abandoned.add(my_g)
            self.private_keys.pop(my_g, None)
            if len(self.abandoned) < MAX_ABANDONED:
                self._problem("unfinished", self.other, my_g)
        if len(self.abandoned) >= MAX_ABANDONED:
            self._problem("abandoned", self.other, target)
            return out
        pub = self.stored.pairs.get(target)
        if pub is None:
            pair = e2ee.new_key_pair()
            self.stored.pairs[target] = pub = pair.pub
            self.private_keys[target] = pair.private
        # Rule 2: commit first; reveal only once the other's commit for this generation is here.
        reveal = target in self.theirs
        if not (my_g == target and ours and mine is not None and (mine.get("pub") or not reveal)):
            hello = e2ee.make_hello(
                self.hello_key, self.room_id, self.seat, target, pub, reveal=reveal
            )
            out.append(hello)
            self.published.append(hello)
            self.take(hello)
        self._derive_all()
        epoch = self.epochs.get(target)
        self.current = self.stored.sessions.get(epoch) if epoch else None
        return out

    def _derive_all(self) -> None:
        for generation, held in list(self.theirs.items()):
            if held.pub:
                their_pub = e2ee.from_b64url(held.pub)
                assert their_pub is not None  # verify_hello checked it
                self._derive(generation, their_pub)

    def _has_session_before(self, generation: int) -> bool:
        return any(r.generation < generation for r in self.stored.sessions.values())

    def _derive(self, generation: int, their_pub: bytes) -> None:
        if generation in self.epochs or generation in self.refused:
            return
        pub = self.stored.pairs.get(generation)
        if pub is None:
            return
        pub1, pub2 = (pub, their_pub) if self.seat == 1 else (their_pub, pub)
        epoch = epoch_of(self.room_id, generation, pub1, pub2)
        if epoch not in self.stored.sessions:
            private = self.private_keys.get(generation)
            if private is None:
                return
            try:
                session = e2ee.derive_session(
                    private, pub1, pub2, self.room_id, self.seat, generation
                )
            except e2ee.ProtocolError:
                self.refused.add(generation)
                self._problem("refused", self.other, generation)
                return
            # New keys after earlier ones (held, or lost) are a key change the person must see.
            before = self.current.generation if self.current else generation
            key_change = (
                self.lost_session or before < generation or self._has_session_before(generation)
            )
            self.stored.sessions.setdefault(epoch, SessionRecord(session, key_change))
            self.private_keys.pop(generation, None)  # derived: the private key goes
        self.epochs[generation] = epoch
