"""Baseline 1: a bare WebSocket relay, the floor for delivery latency here.

The server forwards each frame to every socket of its room (the path): the
other participant's first, then back to the sender, who sends its next frame
once its own has come back, as a PrivoChat participant waits for its POST
(which returns once the message is pushed to every connection of the room). No HTTP, no Lambda, no store.
The client side reuses the load generator's checks (exactly once, in order).

    .venv/bin/python -m bench.relay --serve PORT    (what `relay_server()` starts)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from bench.loadgen import (
    PADDING,
    REQUEST_TIMEOUT,
    LoadResult,
    Party,
    check_room,
    wait_for_deliveries,
)
from devkit.servers import ROOT, free_port, wait_for_port

_PONG = json.dumps({"type": "pong"})


async def _serve(port: int) -> None:
    rooms: dict[str, set[ServerConnection]] = defaultdict(set)

    async def relay(ws: ServerConnection) -> None:
        room = rooms[ws.request.path if ws.request else "/"]
        room.add(ws)
        try:
            async for frame in ws:
                if frame == '{"action":"ping"}':
                    await ws.send(_PONG)
                    continue
                for other in [peer for peer in room if peer is not ws] + [ws]:
                    await other.send(frame)
        finally:
            room.discard(ws)

    async with serve(relay, "127.0.0.1", port, max_size=2**20):
        await asyncio.Future()


@contextmanager
def relay_server() -> Iterator[str]:
    """The relay in a process of its own (as the local stack is); yields its ws:// URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.relay", "--serve", str(port)], cwd=ROOT
    )
    try:
        wait_for_port(port, process)
        yield f"ws://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class RelayParty(Party):
    """A participant of the relay: no HTTP; a frame out, and the same frame back."""

    async def open(self, url: str) -> None:
        await self.listen(
            await connect(url, open_timeout=REQUEST_TIMEOUT, max_size=2**20, compression=None)
        )

    async def talk(self, room: int, count: int, padding: str) -> None:
        assert self.ws is not None
        for i in range(count):
            message_id = f"r{room}-{self.name}-{i}"
            message = {
                "id": message_id,
                "sender": self.name,
                "text": f"room {room} {self.name} #{i} {padding}",
                "timestamp": time.time_ns() // 10**6,
            }
            started = time.perf_counter()
            await self.ws.send(json.dumps({"type": "message", "message": message}))
            self.note_sent(message, started)
            await self.inbox.arrival(message_id)


async def run_relay_load(
    url: str, rooms: int, messages: int, *, settle_seconds: float = 15.0
) -> LoadResult:
    """The load generator's shape (rooms x 2 x messages) against the bare relay."""
    result = LoadResult(rooms, messages)
    pairs = [(RelayParty("ann"), RelayParty("bob")) for _ in range(rooms)]
    try:
        gate = asyncio.Semaphore(20)

        async def open_room(i: int, pair: tuple[RelayParty, RelayParty]) -> None:
            async with gate:
                for party in pair:
                    await party.open(f"{url}/room-{i}")

        await asyncio.gather(*(open_room(i, pair) for i, pair in enumerate(pairs)))
        started = time.perf_counter()
        await asyncio.gather(
            *(party.talk(i, messages, PADDING) for i, pair in enumerate(pairs) for party in pair)
        )
        sends_done = time.perf_counter()
        last_arrival = await wait_for_deliveries(list(pairs), settle_seconds)
        result.seconds = max(last_arrival, sends_done) - started
        result.sent = sum(len(party.sent) for pair in pairs for party in pair)
        for i, pair in enumerate(pairs):
            check_room(result, f"relay room {i}", pair, None)
    except (OSError, TimeoutError) as error:
        result.problem("relay", f"{type(error).__name__}: {error}")
    finally:
        await asyncio.gather(
            *(party.close() for pair in pairs for party in pair), return_exceptions=True
        )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.relay")
    parser.add_argument("--serve", type=int, required=True, metavar="PORT")
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args().serve))
