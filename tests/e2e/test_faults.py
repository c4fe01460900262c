"""When Redis is down, frozen or failing: a quick 503, nothing half-written, and
recovery without a restart. The local stack on a real redis-server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
import pytest
import redis

from devkit.api_client import ApiClient
from devkit.credentials import VERIFIER
from devkit.servers import LocalStack, RedisProcess, local_stack, redis_process
from devkit.wire import wire_text

T = TypeVar("T")
TIMEOUT_SECONDS = 1.0
# Generous: the point is "bounded, not hanging", not speed.
BOUND_SECONDS = TIMEOUT_SECONDS + 4


@pytest.fixture
def redis_and_stack() -> Iterator[tuple[RedisProcess, LocalStack]]:
    with (
        redis_process() as server,
        local_stack(REDIS_URL=server.url, REDIS_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS)) as stack,
    ):
        yield server, stack


def _joined(stack: LocalStack) -> tuple[ApiClient, str]:
    """Ann, and a room she has joined."""
    ann = ApiClient(stack.origin)
    room_id = ann.create()
    ann.join(room_id)
    return ann, room_id


def _unavailable(response: httpx.Response) -> bool:
    return response.status_code == 503 and bool(response.json()["error"] == "unavailable")


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_redis_down_is_a_quick_503_and_the_service_recovers_by_itself(
    redis_and_stack: tuple[RedisProcess, LocalStack],
) -> None:
    server, stack = redis_and_stack
    ann = ApiClient(stack.origin)
    assert ann.http.post("/api/room/create", json={"verifier": VERIFIER}).status_code == 200
    server.stop()
    response, elapsed = _timed(
        lambda: ann.http.post("/api/room/create", json={"verifier": VERIFIER})
    )
    assert _unavailable(response) and elapsed < BOUND_SECONDS
    server.start()  # empty again: no persistence
    room_id = ann.create()
    assert ann.join(room_id).status_code == 200
    assert ann.send(room_id, wire_text("back")).status_code == 200


def test_a_frozen_redis_is_a_503_within_the_timeout_and_a_retry_stores_once(
    redis_and_stack: tuple[RedisProcess, LocalStack],
) -> None:
    server, stack = redis_and_stack
    ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
    room_id = ann.create()
    ann.join(room_id), bob.join(room_id)
    server.freeze()
    try:
        response, elapsed = _timed(
            lambda: ann.send(room_id, wire_text("during the freeze"), clientId="f-1")
        )
        assert _unavailable(response) and elapsed < BOUND_SECONDS
    finally:
        server.thaw()
    # The outcome of a timed-out write is unknown to the client (here Redis ran it
    # after thawing): the retry with the same clientId stores nothing new.
    retry = ann.send(room_id, wire_text("during the freeze"), clientId="f-1")
    assert retry.status_code == 200
    texts = [
        m["text"]
        for m in bob.http.get("/api/messages", params={"roomId": room_id}).json()["messages"]
    ]
    assert texts == [wire_text("during the freeze")]


def test_a_join_answered_503_during_a_stall_keeps_its_seat_on_retry(
    redis_and_stack: tuple[RedisProcess, LocalStack],
) -> None:
    """The join reaches Redis, Redis stalls, the client gets 503; Redis then
    applies it. The 503 carried the token, so the retry finds that seat, even
    though the other person has taken the last one meanwhile (it used to be a
    409 forever: the seat belonged to a token nobody had)."""
    server, stack = redis_and_stack
    ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
    ann.join(ann.create())  # the join script is known to Redis: EVALSHA runs once thawed
    room_id = ann.create()
    server.freeze()
    try:
        response, elapsed = _timed(lambda: bob.join(room_id))
        assert _unavailable(response) and elapsed < BOUND_SECONDS
        assert bob.token, "the 503 hands over the token the join used"
    finally:
        server.thaw()
    assert ann.join(room_id).json()["seat"] == 2  # Bob's stalled join took seat 1
    retry = bob.join(room_id)
    assert retry.status_code == 200, retry.text
    assert (retry.json()["seat"], retry.json()["participants"]) == (1, 2)
    assert bob.send(room_id, wire_text("made it")).status_code == 200


def test_redis_errors_are_503_and_change_nothing_then_recovery(
    redis_and_stack: tuple[RedisProcess, LocalStack],
) -> None:
    server, stack = redis_and_stack
    ann, room_id = _joined(stack)
    ann.send(room_id, wire_text("before"))
    admin = redis.Redis.from_url(server.url)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1")  # every write now fails with OOM
    try:
        assert _unavailable(ann.send(room_id, wire_text("refused")))
        assert _unavailable(ann.http.post("/api/room/create", json={"verifier": VERIFIER}))
    finally:
        admin.config_set("maxmemory", "0")
    messages = ann.http.get("/api/messages", params={"roomId": room_id}).json()["messages"]
    assert [m["text"] for m in messages] == [wire_text("before")]
    assert ann.send(room_id, wire_text("after")).status_code == 200


def test_a_websocket_is_refused_with_503_while_redis_is_down(
    redis_and_stack: tuple[RedisProcess, LocalStack],
) -> None:
    from websockets.exceptions import InvalidStatus

    server, stack = redis_and_stack
    ann, room_id = _joined(stack)
    server.stop()
    with pytest.raises(InvalidStatus) as refused, ann.websocket(room_id):
        pass
    assert refused.value.response.status_code == 503
