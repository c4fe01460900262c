"""The receiver's rules of docs/protocol.md for what each side had, written a
second time (the browser's are static_site/js/conversation.js and receipts.js):
per epoch and seat, the sequence numbers held and the gaps; per message of the
other, how many of ours it was written without; what the other said it had of
ours (acks and receipts); what the other says it sealed. Pure: wire texts in,
verdicts out; the test plays the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tests.support import e2ee


class Refused(Enum):
    UNVERIFIABLE = "unverifiable"
    REFLECTION = "reflection"
    REPLAY = "replay"
    NEWER_VERSION = "newer-version"


@dataclass
class Shown:
    """A message as the page shows it: whose, what, and how many of ours its author lacked."""

    seat: int
    plain: e2ee.Plain | None
    verdict: e2ee.Verdict
    unseen: int = 0


@dataclass
class Page:
    """One participant's view of one epoch's conversation."""

    session: e2ee.Session
    name: str = "Ann"
    held: dict[int, set[int]] = field(default_factory=lambda: {1: set(), 2: set()})
    log: list[Shown] = field(default_factory=list)
    delivered: int = 0  # of ours, as the other said
    read: int = 0
    they_sent: int = 0  # the highest seq the other says it sealed
    receipts_taken: set[str] = field(default_factory=set)
    refused: list[Refused] = field(default_factory=list)
    next_seq: int = 1

    @property
    def mine(self) -> int:
        return self.session.seat

    @property
    def theirs(self) -> int:
        return self.session.other_seat

    def contiguous(self) -> int:
        """The other's messages held with none missing below: what we say we had."""
        n = 0
        while n + 1 in self.held[self.theirs]:
            n += 1
        return n

    def missing(self) -> list[int]:
        """Seqs of the other's the page knows of and lacks: below one it holds, or up to
        what the other's receipt says it sealed (a gap marker each)."""
        top = max([self.they_sent, *self.held[self.theirs]])
        return [n for n in range(1, top + 1) if n not in self.held[self.theirs]]

    def write(self, text: str) -> str:
        """A message of ours, sealed with what we had of theirs."""
        had = self.contiguous()
        plain = e2ee.Plain(self.name, text, self.next_seq, e2ee.now_ms(), had, had)
        self.next_seq += 1
        self.held[self.mine].add(plain.seq)
        s = self.session
        return e2ee.seal(s.send_key, s.room_id, s.epoch, s.seat, plain)

    def receipt(self) -> str:
        had = self.contiguous()
        s = self.session
        facts = e2ee.Receipt(self.name, had, self.next_seq - 1, e2ee.now_ms(), had)
        return e2ee.seal_receipt(s.send_key, s.room_id, s.epoch, s.seat, facts)

    def take_message(self, seat: int, wire: str) -> Shown:
        opened = e2ee.open_message({self.session.epoch: self.session}, seat, wire)
        shown = Shown(seat, opened.plain, opened.verdict)
        plain = opened.plain
        if opened.verdict is e2ee.Verdict.THEIRS and plain is not None:
            if plain.seq in self.held[seat]:
                shown = Shown(seat, None, e2ee.Verdict.UNVERIFIABLE)  # a replay: not shown again
            else:
                self.held[seat].add(plain.seq)
                shown.unseen = sum(1 for n in self.held[self.mine] if n > plain.ack)
                self._acked(plain.ack, plain.read or 0)
        self.log.append(shown)
        return shown

    def take_receipt(self, wire: str) -> bool:
        version = e2ee.wire_version(wire)
        if version is not None and version > e2ee.WIRE_VERSION:
            return self._refuse(Refused.NEWER_VERSION)
        parsed = e2ee.parse_wire(wire)
        s = self.session
        if parsed is None or parsed[0] != s.epoch:
            return self._refuse(Refused.UNVERIFIABLE)
        if wire in self.receipts_taken:
            return self._refuse(Refused.REPLAY)
        receipt = e2ee.open_receipt(s.recv_key, s.room_id, s.epoch, self.theirs, parsed[1])
        if receipt is None:
            ours = e2ee.open_receipt(s.send_key, s.room_id, s.epoch, self.mine, parsed[1])
            return self._refuse(Refused.REFLECTION if ours else Refused.UNVERIFIABLE)
        self.receipts_taken.add(wire)
        self._acked(receipt.delivered, receipt.read or 0)
        self.they_sent = max(self.they_sent, receipt.sent)
        return True

    def not_delivered(self) -> list[int]:
        """Ours the other has not said it had (shown "Not delivered yet" once they are here a while)."""
        return sorted(n for n in self.held[self.mine] if n > self.delivered)

    def _acked(self, delivered: int, read: int) -> None:
        self.delivered = max(self.delivered, delivered)
        self.read = max(self.read, read)

    def _refuse(self, kind: Refused) -> bool:
        self.refused.append(kind)
        return False
