"""The local stack runs the Lambda handlers in worker processes, as Lambda runs
separate execution environments: one invocation at a time in each, another
environment for an invocation that finds them all busy, a timed-out or crashed
environment replaced, and no process left behind when the stack stops.

`python -m infra.local_stack` over loopback, on a real redis-server where a
handler has to be held up (a frozen Redis makes it wait for its timeout). Linux:
processes and sockets are read from /proc."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit.api_client import ApiClient, next_event
from devkit.credentials import VERIFIER
from devkit.servers import LocalStack, RedisProcess, local_stack, redis_process
from devkit.wire import wire_text

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads processes and sockets from /proc"
)

# The handlers' Redis timeout while Redis is frozen: how long each request is held.
HELD_SECONDS = 1.0


# /proc -------------------------------------------------------------------------------


def _parents() -> dict[int, int]:
    """Every process's parent."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(pid: int) -> set[int]:
    parents = _parents()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, of in parents.items() if of == parent}
        found |= children
        todo += children
    return found


def workers(stack: LocalStack) -> set[int]:
    """The stack's worker processes: the children of its fork server."""
    parents = _parents()
    servers = {child for child, of in parents.items() if of == stack.process.pid}
    return {child for child, of in parents.items() if of in servers}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def clients_of(port: int) -> set[int]:
    """The processes that hold a TCP connection to 127.0.0.1:`port` (client side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            established = fields[3] == "01"
            if remote_port == port and established:
                inodes.add(fields[9])
    owners = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            owners.add(int(entry.name))
    return owners


# Helpers -----------------------------------------------------------------------------


@contextmanager
def stack_on_redis(**env: str) -> Iterator[tuple[RedisProcess, LocalStack]]:
    settings = {"REDIS_TIMEOUT_SECONDS": str(HELD_SECONDS), **env}
    with redis_process() as server, local_stack(REDIS_URL=server.url, **settings) as stack:
        yield server, stack


def create(stack: LocalStack) -> int:
    with ApiClient(stack.origin) as person:
        return person.http.post("/api/room/create", json={"verifier": VERIFIER}).status_code


def at_once(count: int, call: Callable[[], int]) -> tuple[list[int], float]:
    """`call` in `count` threads started together: their answers and the time for all."""
    answers: list[int] = []
    start = threading.Barrier(count + 1)

    def run() -> None:
        start.wait()
        answers.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join(60)
    return answers, time.monotonic() - began


def one_after_another(count: int, call: Callable[[], int]) -> tuple[list[int], float]:
    began = time.monotonic()
    answers = [call() for _ in range(count)]
    return answers, time.monotonic() - began


def talk(stack: LocalStack) -> None:
    """Two people: create, join, a WebSocket each, a message pushed both ways."""
    ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
    room_id = ann.create()
    assert ann.join(room_id).status_code == 200
    assert bob.join(room_id).status_code == 200
    with ann.websocket(room_id) as ann_ws, bob.websocket(room_id) as bob_ws:
        for author, reader, text in (
            (ann, bob_ws, wire_text("hello")),
            (bob, ann_ws, wire_text("hi")),
        ):
            assert author.send(room_id, text).status_code == 200
            while next_event(reader, "message")["message"]["text"] != text:
                pass  # the reader's own earlier message, pushed back to it


# Tests -------------------------------------------------------------------------------


def test_the_handlers_run_in_worker_processes_not_in_the_stack() -> None:
    """The handlers' own clients (Upstash REST, the Management API) connect back to
    the stack: from its workers, or, with LOCAL_LAMBDA_WORKERS=0, from the stack."""
    with local_stack(LOCAL_LAMBDA_WORKERS="2") as stack:
        talk(stack)
        handlers = clients_of(stack.port) - {os.getpid()}
        assert handlers, "no handler connected to the stack"
        assert stack.process.pid not in handlers
        assert handlers <= workers(stack)
    with local_stack(LOCAL_LAMBDA_WORKERS="0") as in_process:
        talk(in_process)
        assert clients_of(in_process.port) - {os.getpid()} == {in_process.process.pid}
        assert not descendants(in_process.process.pid)


def test_invocations_held_up_together_take_the_time_of_one_with_a_worker_each() -> None:
    """Three requests held up by a frozen Redis: one after the other, then at once.
    With three workers at once takes about a third; with one worker, as long."""
    count = 3
    with stack_on_redis(LOCAL_LAMBDA_WORKERS=str(count)) as (server, stack):
        assert create(stack) == 200
        server.freeze()
        try:
            serial, serial_seconds = one_after_another(count, lambda: create(stack))
            parallel, parallel_seconds = at_once(count, lambda: create(stack))
        finally:
            server.thaw()
        assert serial == parallel == [503] * count
        assert serial_seconds >= count * HELD_SECONDS * 0.9
        assert parallel_seconds < serial_seconds / count * 1.6, (serial_seconds, parallel_seconds)
        assert len(workers(stack)) == count

    with stack_on_redis(LOCAL_LAMBDA_WORKERS="1") as (server, stack):
        assert create(stack) == 200
        server.freeze()
        try:
            serial, serial_seconds = one_after_another(count, lambda: create(stack))
            queued, queued_seconds = at_once(count, lambda: create(stack))
        finally:
            server.thaw()
        assert serial == queued == [503] * count
        # One environment runs one invocation at a time: the others wait for it.
        assert queued_seconds > serial_seconds * 0.8, (serial_seconds, queued_seconds)
        assert len(workers(stack)) == 1


def test_a_timed_out_invocation_is_a_504_and_its_environment_is_replaced() -> None:
    with stack_on_redis(
        LOCAL_LAMBDA_WORKERS="1", LOCAL_LAMBDA_TIMEOUT_SECONDS="1", REDIS_TIMEOUT_SECONDS="5"
    ) as (server, stack):
        assert create(stack) == 200
        (before,) = workers(stack)
        server.freeze()
        try:
            started = time.monotonic()
            assert create(stack) == 504
            assert time.monotonic() - started < 4  # the function's timeout, not Redis's
        finally:
            server.thaw()
        assert wait_until(lambda: not alive(before)), "the timed-out environment still runs"
        assert create(stack) == 200
        (after,) = workers(stack)
        assert after != before


def test_a_worker_that_dies_during_an_invocation_is_a_500_and_the_next_one_is_served() -> None:
    with stack_on_redis(LOCAL_LAMBDA_WORKERS="2") as (server, stack):
        assert create(stack) == 200
        server.freeze()
        answer: list[int] = []
        try:
            request = threading.Thread(target=lambda: answer.append(create(stack)))
            request.start()
            time.sleep(HELD_SECONDS / 3)  # held in its worker, waiting for Redis
            for pid in workers(stack):
                os.kill(pid, signal.SIGKILL)
            request.join(10)
        finally:
            server.thaw()
        assert answer == [500]
        assert create(stack) == 200


def test_the_last_disconnects_run_before_the_workers_end_and_nothing_is_left() -> None:
    """SIGTERM with sockets open: each gets its `$disconnect` (in a worker), then
    every worker and the fork server end with the stack."""
    with local_stack() as stack:
        ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
        room_id = ann.create()
        ann.join(room_id), bob.join(room_id)
        with ann.websocket(room_id), bob.websocket(room_id):
            for _ in range(3):
                assert create(stack) == 200
            processes = descendants(stack.process.pid)
            assert len(processes) >= 2  # the fork server and a worker at least
            stack.process.terminate()
            stack.process.wait(15)
        log = stack.log.read_text()
    # Each ran in a worker (the handler's own line; it may answer 503: the stack no
    # longer accepts connections, its Upstash endpoint's included).
    disconnects = [line for line in log.splitlines() if '"route": "$disconnect"' in line]
    assert len(disconnects) == 2, log
    assert "Traceback" not in log, log
    assert wait_until(lambda: not any(alive(pid) for pid in processes)), [
        pid for pid in processes if alive(pid)
    ]


def test_a_killed_stack_leaves_no_worker_behind() -> None:
    """As `kill -9` or a crash ends it: each worker sees the end of its socket."""
    with local_stack(LOCAL_LAMBDA_WORKERS="3") as stack:
        answers, _ = at_once(3, lambda: create(stack))
        assert answers == [200] * 3
        processes = descendants(stack.process.pid)
        assert processes
        stack.process.kill()
        stack.process.wait(10)
    assert wait_until(lambda: not any(alive(pid) for pid in processes)), [
        pid for pid in processes if alive(pid)
    ]
