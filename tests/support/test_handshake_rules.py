"""A hostile server holding the link, against two honest peers that follow the
hello rules (tests/support/handshake_rules.py, the Python twin of
static_site/js/handshake.js): a forced re-key after the codes were compared, a
rejoin after Leave, grinding across generations, a withheld reveal; and the
honest cases that must not alarm. The test is the server: it relays, withholds,
and (with the link's hello key) forges hellos of its own."""

from __future__ import annotations

from typing import Any

from tests.support import e2ee
from tests.support.handshake_rules import MAX_ABANDONED, Handshake, Problem

ROOM = "roomroomroomroomroom1"


class Relay:
    """The server's honest side: keeps the last hello per seat, logs each."""

    def __init__(self) -> None:
        self.hellos: dict[int, dict[str, Any]] = {}
        self.log: list[dict[str, Any]] = []

    def store(self, hellos: list[dict[str, Any]]) -> None:
        for hello in hellos:
            self.hellos[hello["seat"]] = hello
            self.log.append(hello)

    def list(self) -> list[dict[str, Any]]:
        return list(self.hellos.values())


class Mallory:
    """The server with the link: hellos of its own for either seat, MACed under H."""

    def __init__(self, hello_key: bytes) -> None:
        self.hello_key = hello_key
        self.pairs: dict[tuple[int, int], e2ee.KeyPair] = {}

    def hello(self, seat: int, generation: int, *, reveal: bool) -> dict[str, Any]:
        pair = self.pairs.setdefault((seat, generation), e2ee.new_key_pair())
        return e2ee.make_hello(self.hello_key, ROOM, seat, generation, pair.pub, reveal=reveal)

    def session_with(self, victim_hello: dict[str, Any]) -> e2ee.Session:
        """The session the server holds with a page that revealed `victim_hello`."""
        seat, generation = victim_hello["seat"], victim_hello["generation"]
        victim_pub = e2ee.from_b64url(victim_hello["pub"])
        assert victim_pub is not None
        mine = self.pairs[(3 - seat, generation)]
        pub1, pub2 = (victim_pub, mine.pub) if seat == 1 else (mine.pub, victim_pub)
        return e2ee.derive_session(mine.private, pub1, pub2, ROOM, 3 - seat, generation)


def room() -> tuple[Relay, Handshake, Handshake, bytes]:
    hello_key = e2ee.hello_key(e2ee.new_link_key(), ROOM)
    return Relay(), Handshake(ROOM, 1, hello_key), Handshake(ROOM, 2, hello_key), hello_key


def settle(server: Relay, *pages: Handshake) -> None:
    """Relays honestly until no page publishes anything more."""
    for _ in range(20):
        published = False
        for page in pages:
            out = page.update(server.list())
            server.store(out)
            published = published or bool(out)
        if not published:
            return
    raise AssertionError("the handshake never settled")


def agreed() -> tuple[Relay, Handshake, Handshake, bytes]:
    """Two pages that completed generation 1 and compared the code."""
    server, one, two, hello_key = room()
    settle(server, one)
    settle(server, one, two)
    assert one.current is not None and two.current is not None
    assert one.safety == two.safety
    one.mark(verified=True)
    two.mark(verified=True)
    return server, one, two, hello_key


def reveals(hellos: list[dict[str, Any]]) -> list[int]:
    return [hello["generation"] for hello in hellos if "pub" in hello]


# (a) A forced re-key after the codes were compared


def test_a_forced_rekey_after_comparison_is_loud_on_both_pages_and_seals_nothing() -> None:
    _, one, two, hello_key = agreed()
    compared = one.safety
    mallory = Mallory(hello_key)
    # The server stops relaying and gives each page a commit, then a reveal, of generation 2
    # with a key of its own: it sits between them with a session on each side.
    held = {}
    for page in (one, two):
        answer = page.update([mallory.hello(page.other, 2, reveal=False)])
        assert reveals(answer) == [2], "the page answers a commit it holds with its reveal"
        held[page.seat] = mallory.session_with(answer[0])
        page.update([mallory.hello(page.other, 2, reveal=True)])
    for page in (one, two):
        assert page.current is not None and page.current.generation == 2
        assert page.current.key_change, f"seat {page.seat}: new keys after compared ones"
        assert not page.current.verified, f"seat {page.seat}: the verified mark is dropped"
        assert not page.can_seal(), f"seat {page.seat}: nothing sealed before the person accepts"
        assert page.problems == []
        assert held[page.seat].epoch == page.current.epoch  # the server does hold these keys
    assert one.safety != two.safety, "the two new codes differ: comparing them shows the server"
    assert compared not in (one.safety, two.safety)
    one.mark(accepted=True)
    assert one.can_seal() and not two.can_seal()


def test_a_compared_session_stays_verified_while_nothing_changes() -> None:
    server, one, two, _ = agreed()
    settle(server, one, two)
    for page in (one, two):
        assert page.current is not None and page.current.generation == 1
        assert page.current.verified and not page.current.key_change and page.can_seal()


# (b) A rejoin after Leave


def test_b_rejoin_after_leave_is_a_key_change_for_both() -> None:
    server, one, two, _ = agreed()
    two.leave()
    settle(server, one, two)
    assert one.current is not None and two.current is not None
    assert one.current.generation == two.current.generation == 2
    assert one.safety == two.safety, "honest: the same new code on both pages"
    assert one.current.key_change, "the one who stayed held the earlier session"
    assert two.current.key_change, "the one who came back lost a session"
    assert not one.current.verified and not one.can_seal() and not two.can_seal()
    assert one.problems == two.problems == []


def test_b_a_rejoin_forged_by_the_server_is_a_key_change() -> None:
    _, one, _, hello_key = agreed()
    mallory = Mallory(hello_key)
    one.update([mallory.hello(2, 2, reveal=True)])  # "seat 2 came back", commit and pub at once
    assert one.current is not None and one.current.generation == 2
    assert one.current.key_change and not one.can_seal() and not one.current.verified


# (c) Grinding across generations


def test_c_grinding_is_bounded_to_three_tries_and_then_shown() -> None:
    server, one, _, hello_key = room()
    settle(server, one)
    mallory = Mallory(hello_key)
    tries = []
    # The server commits for seat 2, sees the page's reveal, computes the code it would get,
    # and (it never matches) moves on to the next generation without revealing.
    for generation in range(1, 11):
        answer = one.update([mallory.hello(2, generation, reveal=False)])
        tries += [mallory.session_with(hello).safety for hello in answer if "pub" in hello]
        if generation == 2:
            assert set(one.private_keys) == {2}, "the abandoned generation's private key is gone"
    assert len(tries) == 3 == MAX_ABANDONED, "one try per generation, three in all"
    assert reveals(one.published) == [1, 2, 3]
    assert Problem("abandoned", 2, 4) in one.problems, "the page stops and says why"
    # Each unfinished generation was shown as it happened, then the stop.
    assert [p.kind for p in one.problems if p.kind == "unfinished"] == ["unfinished"] * (
        MAX_ABANDONED - 1
    )
    assert {p.kind for p in one.problems} == {"unfinished", "abandoned"}
    assert one.abandoned == {1, 2, 3}
    assert one.private_keys == {}, "no abandoned private key kept, none made past the limit"
    assert max(one.stored.pairs) == 3
    assert one.current is None and not one.can_seal()
    # The server cannot come back to a generation whose code it liked: the key is gone.
    one.update([mallory.hello(2, 2, reveal=True)])
    assert one.current is None and one.stored.sessions == {}


def test_c_an_honest_rekey_is_not_abandoned() -> None:
    server, one, two, _ = agreed()
    for _ in range(MAX_ABANDONED + 1):
        two.leave()
        settle(server, one, two)
    assert one.abandoned == set()
    assert one.problems == []
    assert one.current is not None and one.current.generation == MAX_ABANDONED + 2


def test_c_a_generation_never_revealed_for_is_no_try() -> None:
    server, one, _, hello_key = room()
    settle(server, one)
    mallory = Mallory(hello_key)
    # Commits of generations 1 and 2 in one push: the page never revealed for 1.
    answer = one.update([mallory.hello(2, 1, reveal=False), mallory.hello(2, 2, reveal=False)])
    assert reveals(answer) == [2]
    assert one.abandoned == set(), "the server learned nothing of generation 1: no try"


# (d) A withheld reveal


def test_d_a_withheld_reveal_gives_no_session_and_counts_as_abandoned_once_left() -> None:
    server, one, two, hello_key = room()
    settle(server, two)  # seat 2 commits first
    answer = one.update(server.list())
    assert reveals(answer) == [1], "seat 1 holds the commit: it reveals"
    server.store(answer)
    withheld = two.update(server.list())
    assert reveals(withheld) == [1] and two.current is not None
    # The server keeps seat 2's reveal from seat 1.
    one.update([])
    assert one.current is None and not one.can_seal(), "no session, nothing sealed"
    assert one.abandoned == set() and one.problems == []
    assert set(one.private_keys) == {1}, "still waiting for the reveal"
    # The server moves on to generation 2 with a commit of its own.
    one.update([Mallory(hello_key).hello(2, 2, reveal=False)])
    assert one.abandoned == {1}, "the withheld generation counts as abandoned"
    assert 1 not in one.private_keys
    assert one.current is None and not one.can_seal()
    # The reveal it held back, handed over late, opens nothing: seat 1's key of 1 is gone.
    one.update(withheld)
    assert one.stored.sessions == {} and one.current is None


# (e) Honest cases that must not alarm


def test_e_first_keys_commit_first_and_no_key_change() -> None:
    server, one, two, _ = room()
    settle(server, one)
    assert one.current is None and reveals(server.log) == [], "alone, a page commits and waits"
    settle(server, one, two)
    assert one.current is not None and two.current is not None
    assert one.safety == two.safety and one.current.epoch == two.current.epoch
    assert not one.current.key_change and not two.current.key_change
    assert one.can_seal() and two.can_seal()
    assert one.problems == two.problems == []
    assert one.private_keys == two.private_keys == {}, "a derived generation's private key goes"
    seen: dict[int, set[int]] = {1: set(), 2: set()}
    for hello in server.log:
        if "pub" in hello:
            assert hello["generation"] in seen[3 - hello["seat"]], "a reveal before the commit"
        seen[hello["seat"]].add(hello["generation"])


def test_e_reload_before_the_other_arrives_is_a_new_generation_without_key_change() -> None:
    server, one, two, _ = room()
    settle(server, one)
    one.reload()
    settle(server, one)
    assert [(h["seat"], h["generation"], "pub" in h) for h in server.log] == [
        (1, 1, False),
        (1, 2, False),
    ]
    settle(server, one, two)
    assert one.current is not None and two.current is not None
    assert one.current.generation == two.current.generation == 2
    assert one.safety == two.safety
    assert not one.current.key_change and not two.current.key_change
    assert one.can_seal() and two.can_seal()
    assert one.problems == two.problems == [] and one.abandoned == two.abandoned == set()


def test_e_reload_after_revealing_is_not_counted_as_abandoned_by_the_reloading_page() -> None:
    server, one, two, _ = room()
    settle(server, two)
    server.store(one.update(server.list()))  # seat 1 reveals; seat 2 has not yet
    one.reload()
    server.store(one.update(server.list()))
    assert one.abandoned == set() and one.problems == []
    assert one.mine is not None and one.mine["generation"] == 2


def test_e_reload_after_the_session_reads_it_back() -> None:
    server, one, _, _ = agreed()
    epoch = one.current.epoch if one.current else None
    one.reload()
    assert one.update(server.list()) == [], "nothing published"
    assert one.current is not None and one.current.epoch == epoch
    assert one.current.verified and not one.current.key_change and one.can_seal()


def test_e_hellos_without_the_link_are_refused_and_answered_with_nothing() -> None:
    server, one, _, _ = room()
    settle(server, one)
    stranger = Mallory(e2ee.hello_key(e2ee.new_link_key(), ROOM))
    assert one.update([stranger.hello(2, 1, reveal=True)]) == []
    assert one.problems == [Problem("unverifiable", 2, 1)]
    assert one.current is None and reveals(one.published) == []


def test_a_server_equivocating_on_a_commit_is_a_conflict_and_is_not_used() -> None:
    _, one, _, hello_key = agreed()
    assert one.current is not None
    epoch = one.current.epoch
    assert one.update([Mallory(hello_key).hello(2, 1, reveal=True)]) == []
    assert one.problems == [Problem("conflict", 2, 1)]
    assert one.current is not None and one.current.epoch == epoch and one.current.verified


def test_a_low_order_key_from_the_server_is_refused() -> None:
    server, one, _, hello_key = room()
    settle(server, one)
    zero = e2ee.make_hello(hello_key, ROOM, 2, 1, bytes(32), reveal=True)
    one.update([zero])
    assert one.problems == [Problem("refused", 2, 1)]
    assert one.current is None and not one.can_seal()
    one.update([zero])
    assert one.problems == [Problem("refused", 2, 1)], "reported once, never retried"
