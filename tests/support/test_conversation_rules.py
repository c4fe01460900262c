"""A hostile server against two oracle pages (tests/support/conversation_rules.py):
the last message dropped, a message withheld then released late, a reorder across
seats, a forged receipt, a receipt replayed from another room. The test is the
server: it decides what each page is handed, and in what order."""

from __future__ import annotations

import secrets

from tests.support import e2ee
from tests.support.conversation_rules import Page, Refused

ROOM = "roomroomroomroomroom1"
OTHER_ROOM = "roomroomroomroomroom2"


def two_pages(room: str = ROOM) -> tuple[Page, Page]:
    one, two = e2ee.new_key_pair(), e2ee.new_key_pair()
    ann = e2ee.derive_session(one.private, one.pub, two.pub, room, 1, 1)
    bob = e2ee.derive_session(two.private, one.pub, two.pub, room, 2, 1)
    return Page(ann, "Ann"), Page(bob, "Bob")


def test_honest_traffic_marks_nothing_and_acks_deliver() -> None:
    ann, bob = two_pages()
    q = ann.write("meet at 5?")
    assert bob.take_message(1, q).unseen == 0
    a = bob.write("yes")
    shown = ann.take_message(2, a)
    assert (shown.unseen, ann.not_delivered(), ann.read) == (0, [], 1)


def test_the_last_message_dropped_is_not_delivered_and_the_receipt_shows_the_gap() -> None:
    ann, bob = two_pages()
    bob.take_message(1, ann.write("one"))
    ann.write("two: dropped by the server")
    assert ann.take_receipt(bob.receipt())
    assert ann.not_delivered() == [2], "the author's page sees it never arrived"
    # Bob's side: Ann's receipt says she sealed up to 2; Bob holds 1.
    assert bob.take_receipt(ann.receipt())
    assert bob.missing() == [2]


def test_a_message_withheld_then_released_late_marks_the_answer_written_without_it() -> None:
    ann, bob = two_pages()
    withheld = ann.write("shall we meet at 5?")
    answer = bob.write("what about the documents?")  # Bob never got the question
    assert ann.take_message(2, answer).unseen == 1
    bob.take_message(1, withheld)  # released late
    assert ann.take_receipt(bob.receipt())
    assert ann.not_delivered() == []


def test_a_reorder_across_seats_marks_the_yes_shown_after_the_second_question() -> None:
    ann, bob = two_pages()
    bob.take_message(1, ann.write("meet at 5?"))
    yes = bob.write("yes")  # answers the first question
    ann.write("bring the documents?")  # the server shows Bob's yes after this one
    assert ann.take_message(2, yes).unseen == 1


def test_forged_reflected_foreign_and_replayed_receipts_are_refused_and_change_nothing() -> None:
    ann, bob = two_pages()
    bob.take_message(1, ann.write("hello"))
    elsewhere_ann, elsewhere_bob = two_pages(OTHER_ROOM)
    s = bob.session
    facts = e2ee.Receipt("Bob", 1, 0, 0, 1)
    forged = e2ee.seal_receipt(secrets.token_bytes(32), ROOM, s.epoch, 2, facts)
    # Bob's real key, sealed for another room (the AAD binds the room).
    foreign = e2ee.seal_receipt(s.send_key, OTHER_ROOM, s.epoch, 2, facts)
    # A receipt of another room's pair, its epoch rewritten to this one.
    moved = elsewhere_bob.receipt().replace(elsewhere_bob.session.epoch, s.epoch, 1)
    reflected = ann.receipt()
    newer = "4." + bob.receipt().split(".", 1)[1]
    message = bob.write("a message, not a receipt")
    for wire in (forged, foreign, moved, reflected, newer, message):
        assert not ann.take_receipt(wire)
    assert ann.refused == [
        Refused.UNVERIFIABLE,
        Refused.UNVERIFIABLE,
        Refused.UNVERIFIABLE,
        Refused.REFLECTION,
        Refused.NEWER_VERSION,
        Refused.UNVERIFIABLE,
    ]
    assert (ann.delivered, ann.read, ann.not_delivered()) == (0, 0, [1])
    real = bob.receipt()
    assert ann.take_receipt(real)
    assert not ann.take_receipt(real)
    assert ann.refused[-1] is Refused.REPLAY
    assert ann.not_delivered() == []
    assert elsewhere_ann.session.epoch != s.epoch


def test_a_message_sealed_as_a_receipt_and_a_receipt_as_a_message_are_refused() -> None:
    ann, bob = two_pages()
    receipt = bob.receipt()
    shown = ann.take_message(2, receipt)
    assert shown.verdict is e2ee.Verdict.UNVERIFIABLE
