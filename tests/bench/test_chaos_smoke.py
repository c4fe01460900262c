"""A small chaos run (bench/chaos.py): 3 rooms while the stack fails under them
(store stalls, a killed Lambda worker, the Management API answering 429 then 410).
Counts and bounds, never latencies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from bench.chaos import RECOVERY_BOUND_SECONDS, STORE_TIMEOUT, run_chaos
from bench.loadgen import UNLIMITED
from devkit.servers import LocalStack, local_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(**UNLIMITED, **STORE_TIMEOUT) as running:
        yield running


def test_every_acknowledged_message_is_stored_once_and_delivered_and_connections_recover(
    stack: LocalStack,
) -> None:
    result = asyncio.run(run_chaos(stack.origin, stack.upstash_token, 3, 24, pace=0.5))
    assert result.problems == []
    assert result.acknowledged == result.stored == result.delivered == 3 * 2 * 24
    assert result.stored_duplicates == result.misordered == result.unacknowledged == 0
    # The faults did bite: sends were answered 5xx (and retried), pushes were lost and the
    # pages got those messages from the store, and the server hung up on the connections it
    # had forgotten when they pinged.
    assert result.five_xx > 0 and result.closed["server"] > 0
    assert result.delivered_by["catch-up"] + result.delivered_by["refill"] > 0
    assert result.recovery_seconds <= RECOVERY_BOUND_SECONDS


@pytest.mark.parametrize(
    "body",
    [
        {"stallStore": -1},
        {"stallStore": 61},
        {"pushes": [[200, 1]]},
        {"stallStore": 1, "pushes": "x"},
        {"killWorker": "yes"},
        {"shout": 1},
        [],
        "x",
    ],
)
def test_the_fault_endpoint_refuses_bad_input_and_changes_nothing(
    stack: LocalStack, body: object
) -> None:
    auth = {"Authorization": f"Bearer {stack.upstash_token}"}
    refused = httpx.post(f"{stack.origin}/_local/faults", json=body, headers=auth)
    assert refused.status_code == 400 and refused.json()["error"] == "bad-request"
    state = httpx.get(f"{stack.origin}/_local/faults", headers=auth).json()
    assert state == {"storeStalledFor": 0, "pushes": None}
    assert httpx.post(f"{stack.origin}/_local/faults", json={"stallStore": 1}).status_code == 401
