"""A small version of the benchmark and the load run: counts and verdicts, never times."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bench.counts import OPERATIONS, requests_per_operation
from bench.history import history_bound
from bench.loadgen import UNLIMITED, LoadResult, Party, check_room, run_load
from devkit.servers import LocalStack, local_stack
from privochat.domain import HISTORY_CAP


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(**UNLIMITED) as running:
        yield running


def test_five_rooms_get_every_message_exactly_once_in_order_and_stored(stack: LocalStack) -> None:
    result = asyncio.run(run_load(stack.origin, rooms=5, messages=10))
    assert result.problems == []
    assert result.ok and result.store_checked
    assert result.sent == result.delivered == 5 * 2 * 10
    assert result.http_statuses.keys() == {"200"}


def test_upstash_requests_per_operation_as_the_benchmark_counts_them(
    stack: LocalStack,
) -> None:
    """One request each: a script, or a plain read (ttl, and a ping or typing frame
    that names its room). $disconnect looks its connection's room up first (its
    event has no body to name it: a script may only touch the keys it is given). A
    receipt right after a typing frame finds the peers in the warm function: none."""
    expected = {name: 2 if name == "$disconnect" else 1 for name in OPERATIONS}
    expected["receipt"] = 0
    assert requests_per_operation(stack) == expected


def _seat(message_id: str) -> int:
    return 1 if message_id[0] == "a" else 2


def _room(ann_order: list[str], bob_order: list[str], stored: list[str]) -> LoadResult:
    ann, bob = Party("ann"), Party("bob")
    for party, ids in ((ann, ["a1", "a2"]), (bob, ["b1"])):
        for m_id in ids:
            party.note_sent({"id": m_id, "seat": _seat(m_id), "text": m_id, "timestamp": 1}, 0.0)
    for party, order in ((ann, ann_order), (bob, bob_order)):
        for m_id in order:
            party.inbox.record(
                m_id,
                {
                    "id": m_id,
                    "seat": _seat(m_id),
                    "text": m_id,
                    "timestamp": 1,
                },
                10,
            )
    result = LoadResult(rooms=1, messages_per_participant=0)
    check_room(
        result,
        "room",
        (ann, bob),
        [{"id": m_id, "seat": _seat(m_id), "text": m_id, "timestamp": 1} for m_id in stored],
    )
    return result


def test_a_room_filled_past_its_cap_answers_its_history_in_bounded_pages(
    stack: LocalStack,
) -> None:
    history = history_bound(stack, messages=HISTORY_CAP + 50)
    assert history["kept"] == HISTORY_CAP and history["pages"] == 3
    assert history["largest_answer_bytes"] < history["limit_bytes"] / 2


def test_the_checks_catch_loss_duplicates_and_misorder() -> None:
    assert not _room(["a1", "b1", "a2"], ["b1", "a1", "a2"], ["a1", "b1", "a2"]).problem_counts
    assert _room(["a1", "a2"], ["a1", "b1", "a2"], ["a1", "b1", "a2"]).problem_counts == {"lost": 1}
    assert _room(
        ["a1", "b1", "a2", "a2"], ["a1", "b1", "a2"], ["a1", "b1", "a2"]
    ).problem_counts == {"duplicate": 1}
    assert _room(["a2", "a1", "b1"], ["a1", "b1", "a2"], ["a1", "b1", "a2"]).problem_counts == {
        "misordered": 1
    }
    assert _room(["a1", "b1", "a2"], ["a1", "b1", "a2"], ["a2", "a1", "b1"]).problem_counts == {
        "misordered": 1
    }
