"""Baseline 2: a receiver that refetches the whole history on every new
message, as the original Next.js app did, against PrivoChat's push.

One room, history grown to each length in turn. For each sample Ann POSTs a
message; Bob's WebSocket gets the pushed frame (PrivoChat: done, the frame's
bytes are what it cost), then Bob GETs /api/messages for the whole room (the
baseline: the body's bytes, and the time from the POST to the end of that GET).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

from bench.loadgen import LoadResult, Participant, http_pool, message_text
from devkit.credentials import PROOF, VERIFIER

SEED_PARALLEL = 8


async def _seed(ann: Participant, room_id: str, count: int) -> None:
    """`count` more messages in the room (order does not matter here)."""
    gate = asyncio.Semaphore(SEED_PARALLEL)

    async def one(i: int) -> None:
        async with gate:
            await ann.call(
                "POST",
                "/api/messages",
                params={"roomId": room_id},
                json={"text": message_text(f"history #{i}"), "clientId": f"h{uuid.uuid4().hex}"},
            )

    await asyncio.gather(*(one(i) for i in range(count)))


async def _sample(
    ann: Participant, bob: Participant, room_id: str, i: int
) -> dict[str, float] | None:
    started = time.perf_counter()
    sent = await ann.call(
        "POST",
        "/api/messages",
        params={"roomId": room_id},
        json={"text": message_text(f"sample #{i}"), "clientId": f"s{uuid.uuid4().hex}"},
    )
    if sent is None:
        return None
    message_id = sent.json()["message"]["id"]
    pushed_at = await bob.inbox.arrival(message_id)
    # The whole history, page after page, as a client that refetches must.
    refetch_bytes, last_id, after = 0, None, None
    while True:
        params = {"roomId": room_id, **({"after": after} if after else {})}
        listed = await bob.call("GET", "/api/messages", params=params)
        if listed is None:
            return None
        refetch_bytes += len(listed.body)
        page = listed.json()
        if page["messages"]:
            last_id = after = page["messages"][-1]["id"]
        if not page["more"]:
            break
    refetched_at = time.perf_counter()
    if last_id != message_id:
        bob.result.problem("refetch", f"the refetched list does not end with {message_id}")
    return {
        "push_bytes": bob.inbox.frame_bytes[message_id],
        "push_ms": (pushed_at - started) * 1000,
        "refetch_bytes": refetch_bytes,
        "refetch_ms": (refetched_at - started) * 1000,
    }


async def run_refetch(
    origin: str, histories: tuple[int, ...] = (10, 100, 400), samples: int = 20
) -> dict[str, Any]:
    """{"levels": [{history, push_bytes, refetch_bytes, push_ms, refetch_ms}, ...], "problems": {...}}
    (medians over `samples` messages per history length)."""
    result = LoadResult(rooms=1, messages_per_participant=0)
    pool = http_pool(4)
    ann, bob = (Participant(name, origin, pool, result) for name in ("ann", "bob"))
    levels: list[dict[str, float]] = []
    try:
        created = await ann.call("POST", "/api/room/create", json={"verifier": VERIFIER})
        assert created is not None, result.problems
        room_id = created.json()["roomId"]
        for person in (ann, bob):
            await person.call(
                "POST", "/api/room/join", params={"roomId": room_id}, json={"proof": PROOF}
            )
        await bob.open_socket(room_id)
        history = 0
        for target in histories:
            await _seed(ann, room_id, target - history)
            taken = [s for s in [await _sample(ann, bob, room_id, i) for i in range(samples)] if s]
            history = target + samples
            level: dict[str, float] = {"history": target}
            for key in ("push_bytes", "refetch_bytes", "push_ms", "refetch_ms"):
                level[key] = (
                    round(statistics.median(s[key] for s in taken), 2) if taken else float("nan")
                )
            levels.append(level)
    finally:
        await asyncio.gather(ann.close(), bob.close(), return_exceptions=True)
        await pool.close()
    return {
        "levels": levels,
        "samples": samples,
        "problems": dict(result.problem_counts),
        "first_problems": result.problems,
    }
