"""The chaos run: rooms of two talk through the local stack while it fails under
them, and every acknowledged message is followed to the store and to the other
participant.

    .venv/bin/python -m bench.chaos [--rooms 25] [--messages 48]

The faults go in through the stack's `/_local/faults` (infra/local_stack/faults.py),
never into the code under test, at fixed times from the first send: the store
stalls for 1.5 s (twice, as a SIGSTOPped Redis), a busy Lambda worker is killed,
and the Management API answers 429 for 4 s, then 410 for 2 s (so the server
forgets the connections it pushed to meanwhile).

Each participant behaves as the page does (static_site/js; `--page-as-before`:
as it did before issue 22, a ping every 4 minutes and no refill): it sends one
message at a time and retries a send that got a 5xx or no answer with the same clientId;
it pings on open and every 20 s (give or take 10%) and reopens its socket when
the server hangs up or no pong comes within 6 s, then catches up from the last
message it saw; and when a gap shows in the other's messages it refills it from
the store (refill.js: after 2 s, 4 tries with doubling pauses, 3 pages a try).

Reported: acknowledged, stored and delivered counts (delivered by push or from
the store), duplicates, each sender's order, 5xx answers, and the recovery time:
from the end of the faults until every participant holds a connection the
server knows again (a pong). Exits 1 unless every acknowledged message is stored
exactly once, in order, and delivered, and every participant recovered within 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin
from yarl import URL

from bench.loadgen import PADDING, REQUEST_TIMEOUT, Answer, http_pool, stack_on_redis_server
from devkit.credentials import PROOF, VERIFIER
from devkit.wire import label_of, wire_text

# What the page does (static_site/js/realtime.js, refill.js, catch-up): kept in step by hand.
PING_JITTER = 0.1
PONG_WITHIN_SECONDS = 6.0
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 15.0
REFILL_FIRST_SECONDS, REFILL_TRIES, REFILL_PAGES = 2.0, 4, 3
SEND_PAUSES = (0.5, 1, 2, 4, 4, 4, 4, 4)  # a failed send is tried again after these
RECOVERY_BOUND_SECONDS = 30.0
# The store's client gives up after this long (a stall is longer: the sends in it get 503s).
STORE_TIMEOUT = {"REDIS_TIMEOUT_SECONDS": "1"}


@dataclass(frozen=True)
class PageBehaviour:
    ping_every_seconds: float
    refills: bool


PAGE = PageBehaviour(ping_every_seconds=20.0, refills=True)
# The page before issue 22, to measure what changed: a ping every 4 minutes, no refill.
PAGE_BEFORE = PageBehaviour(ping_every_seconds=240.0, refills=False)


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the first send
    body: dict[str, Any]


FAULTS = (
    Fault(1.0, {"stallStore": 1.5}),
    Fault(3.5, {"killWorker": True}),
    Fault(4.5, {"stallStore": 1.5}),
    Fault(6.5, {"pushes": [[429, 4], [410, 2]]}),
)
FAULTS_END = 6.5 + 4 + 2
_TEXT = re.compile(r"^room (\d+) (\w+) #(\d+) ")


@dataclass
class Gap:
    first: int  # the missing message numbers, first to last
    last: int
    after: str | None  # the id of the message before it (None: from the start)
    reached: str | None = None  # where the last page read ended


@dataclass
class Page:
    """One participant, as its page behaves (see the module's docstring)."""

    name: str
    room: int
    origin: str
    run: ChaosRun
    room_id: str = ""
    http: aiohttp.ClientSession | None = None
    shown: dict[str, str] = field(default_factory=dict)  # id -> "push" | "catch-up" | "refill"
    numbers: dict[str, int] = field(default_factory=dict)  # the other's message id -> its number
    highest: int = -1  # the other's highest message number shown
    last_id: str | None = None  # what a catch-up asks after (pushes and catch-ups move it)
    pongs: list[float] = field(default_factory=list)
    closed: Counter[str] = field(default_factory=Counter)  # "server" hung up, or "no pong"
    acknowledged: list[tuple[int, str]] = field(default_factory=list)  # (number, id)
    stopped: bool = False
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer | None:
        assert self.http is not None
        try:
            async with self.http.request(method, path, **kwargs) as response:
                answer = Answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError):
            self.run.statuses["none"] += 1
            return None
        self.run.statuses[str(answer.status)] += 1
        return answer

    # ---------- sending ----------

    async def talk(self, count: int, pace: float) -> None:
        for number in range(count):
            body = {"text": wire_text(f"room {self.room} {self.name} #{number} {PADDING}")}
            body["clientId"] = f"r{self.room}-{self.name}-{number}"
            for pause in (*SEND_PAUSES, None):
                answer = await self.request(
                    "POST", "/api/messages", params={"roomId": self.room_id}, json=body
                )
                if answer is not None and answer.ok:
                    self.acknowledged.append((number, answer.json()["message"]["id"]))
                    break
                if pause is None or (answer is not None and answer.status < 500):
                    self.run.unacknowledged += 1
                    break
                await asyncio.sleep(pause)
            await asyncio.sleep(pace)

    # ---------- receiving ----------

    def show(self, message: dict[str, Any], how: str) -> None:
        if message["id"] in self.shown:
            return
        self.shown[message["id"]] = how
        match = _TEXT.match(label_of(message["text"]))
        if match and match[2] != self.name:
            number = int(match[3])
            self.numbers[message["id"]] = number
            if number > self.highest + 1:
                before = [m_id for m_id, n in self.numbers.items() if n == self.highest]
                gap = Gap(self.highest + 1, number - 1, before[0] if before else None)
                if self.run.page.refills:
                    self.spawn(self.refill(gap))
            self.highest = max(self.highest, number)
        self.run.changed.set()

    def missing(self, gap: Gap) -> bool:
        """Whether a number of the gap is still not shown."""
        seen = set(self.numbers.values())
        return any(n not in seen for n in range(gap.first, gap.last + 1))

    async def refill(self, gap: Gap) -> None:
        """As refill.js: from the message before the gap, after pauses that double."""
        for tries in range(REFILL_TRIES):
            await asyncio.sleep(REFILL_FIRST_SECONDS * 2**tries)
            if not self.missing(gap):
                return
            for _ in range(REFILL_PAGES):
                page = await self.history(gap.reached or gap.after)
                if page is None:
                    break
                for message in page["messages"]:
                    self.show(message, "refill")
                if not page["more"] or not page["messages"]:
                    break
                gap.reached = page["messages"][-1]["id"]

    async def history(self, after: str | None) -> dict[str, Any] | None:
        params = {"roomId": self.room_id, **({"after": after} if after else {})}
        answer = await self.request("GET", "/api/messages", params=params)
        return answer.json() if answer is not None and answer.ok else None

    async def catch_up(self) -> None:
        """Every page after the last message seen, as the page does on each (re)open."""
        more = True
        while more:
            page = await self.history(self.last_id)
            if page is None:
                return
            for message in page["messages"]:
                self.show(message, "catch-up")
            if page["messages"]:
                self.last_id = page["messages"][-1]["id"]
            more = page["more"] and bool(page["messages"])

    # ---------- the socket ----------

    async def keep_connected(self) -> None:
        """Opens the socket, and again after each drop, with the page's backoff."""
        failures = 0
        while not self.stopped:
            heard = await self.connected()
            failures = 0 if heard else failures + 1
            if self.stopped:
                return
            backoff = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2**failures)
            await asyncio.sleep(backoff * (0.75 + random.random() / 2))

    async def connected(self) -> bool:
        """One socket's life; whether it ever got a pong."""
        assert self.http is not None
        cookie = self.http.cookie_jar.filter_cookies(URL(self.origin))["x-auth-token"].value
        try:
            ws = await connect(
                self.origin.replace("http", "ws", 1) + f"/ws?roomId={self.room_id}",
                additional_headers={"Cookie": f"x-auth-token={cookie}"},
                origin=Origin(self.origin),
                open_timeout=REQUEST_TIMEOUT,
                compression=None,
            )
        except Exception:  # refused or unreachable: tried again after the backoff
            return False
        pong = asyncio.Event()
        got_pong = False
        silent = asyncio.Event()  # set when no pong came: the close is the page's own
        heartbeat = asyncio.create_task(self.heartbeat(ws, pong, silent))
        self.spawn(self.catch_up())
        try:
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "pong":
                    self.pongs.append(time.monotonic())
                    got_pong = True
                    pong.set()
                    self.run.changed.set()
                elif event.get("type") == "message":
                    self.last_id = event["message"]["id"]
                    self.show(event["message"], "push")
        except ConnectionClosed:
            pass
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError, ConnectionClosed):
                await heartbeat
            await ws.close()
        if not self.stopped:
            self.closed["no pong" if silent.is_set() else "server"] += 1
        return got_pong

    async def heartbeat(
        self, ws: ClientConnection, pong: asyncio.Event, silent: asyncio.Event
    ) -> None:
        """Pings at once and every 20 s (jittered); no pong within 6 s closes the socket."""
        while True:
            pong.clear()
            await ws.send('{"action":"ping"}')
            try:
                await asyncio.wait_for(pong.wait(), PONG_WITHIN_SECONDS)
            except TimeoutError:
                silent.set()
                await ws.close(4001, "no pong")
                return
            jitter = 1 - PING_JITTER + 2 * PING_JITTER * random.random()
            await asyncio.sleep(self.run.page.ping_every_seconds * jitter)

    async def stop(self) -> None:
        self.stopped = True
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class ChaosRun:
    origin: str
    upstash_token: str
    page: PageBehaviour
    statuses: Counter[str] = field(default_factory=Counter)
    unacknowledged: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def inject(self, session: aiohttp.ClientSession, fault: Fault) -> None:
        headers = {"Authorization": f"Bearer {self.upstash_token}"}
        async with session.post(
            f"{self.origin}/_local/faults", json=fault.body, headers=headers
        ) as response:
            response.raise_for_status()

    async def faults(self, session: aiohttp.ClientSession, started: float) -> None:
        for fault in FAULTS:
            await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
            await self.inject(session, fault)


@dataclass
class ChaosResult:
    rooms: int
    messages_per_participant: int
    acknowledged: int = 0
    unacknowledged: int = 0
    stored: int = 0
    stored_duplicates: int = 0
    misordered: int = 0  # senders whose messages the store holds out of order
    delivered: int = 0  # acknowledged messages the other participant shows
    delivered_by: Counter[str] = field(default_factory=Counter)  # push, catch-up, refill
    statuses: dict[str, int] = field(default_factory=dict)
    closed: Counter[str] = field(default_factory=Counter)  # sockets: by the server, no pong
    recovery_seconds: float = float("inf")
    problems: list[str] = field(default_factory=list)

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self) -> None:
        if self.stored_duplicates:
            self.problems.append(f"{self.stored_duplicates} messages stored more than once")
        if self.misordered:
            self.problems.append(f"{self.misordered} senders' messages stored out of order")
        if self.delivered != self.acknowledged:
            self.problems.append(
                f"{self.acknowledged - self.delivered} acknowledged messages never delivered"
            )
        if self.unacknowledged:
            self.problems.append(f"{self.unacknowledged} sends never acknowledged")
        if not self.recovery_seconds <= RECOVERY_BOUND_SECONDS:
            self.problems.append(f"recovery took {self.recovery_seconds:.1f} s")

    def report(self) -> str:
        verdict = "OK" if self.ok else "FAILED: " + "; ".join(self.problems)
        return "\n".join(
            [
                "PrivoChat chaos run (local stack, real redis-server, faults injected)",
                f"  rooms {self.rooms} x 2 participants x {self.messages_per_participant} messages",
                f"  faults: {', '.join(json.dumps(f.body) for f in FAULTS)}",
                f"  acknowledged {self.acknowledged}, stored {self.stored}"
                f" ({self.stored_duplicates} duplicates, {self.misordered} senders out of order),"
                f" delivered to the other participant {self.delivered}"
                f" ({', '.join(f'{n} by {how}' for how, n in sorted(self.delivered_by.items()))})",
                f"  HTTP answers {dict(sorted(self.statuses.items()))}: {self.five_xx} 5xx, each"
                f" retried; sends never acknowledged {self.unacknowledged}",
                f"  sockets closed {dict(self.closed)}; recovery after the faults"
                f" {self.recovery_seconds:.1f} s (bound {RECOVERY_BOUND_SECONDS:.0f} s)",
                f"  {verdict}",
            ]
        )


async def _open_room(pages: tuple[Page, Page], gate: asyncio.Semaphore) -> bool:
    async with gate:
        created = await pages[0].request("POST", "/api/room/create", json={"verifier": VERIFIER})
        if created is None or not created.ok:
            return False
        for page in pages:
            page.room_id = str(created.json()["roomId"])
            joined = await page.request(
                "POST", "/api/room/join", params={"roomId": page.room_id}, json={"proof": PROOF}
            )
            if joined is None or not joined.ok:
                return False
    return True


async def _until(run: ChaosRun, done: Callable[[], bool], seconds: float) -> bool:
    """Waits for `done()` to hold, woken by each change the pages see; False after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        run.changed.clear()
        try:
            await asyncio.wait_for(run.changed.wait(), deadline - time.monotonic())
        except TimeoutError:
            return done()
    return True


async def run_chaos(
    origin: str,
    upstash_token: str,
    rooms: int,
    messages: int,
    pace: float,
    behaviour: PageBehaviour = PAGE,
) -> ChaosResult:
    result = ChaosResult(rooms, messages)
    run = ChaosRun(origin, upstash_token, behaviour)
    pool = http_pool(2 * rooms + 10)
    pairs = [(Page("ann", i, origin, run), Page("bob", i, origin, run)) for i in range(rooms)]
    every = [page for pair in pairs for page in pair]
    for page in every:
        page.http = aiohttp.ClientSession(
            base_url=origin,
            headers={"Origin": origin},
            connector=pool,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )
    control = aiohttp.ClientSession()
    try:
        gate = asyncio.Semaphore(10)
        opened = await asyncio.gather(*(_open_room(pair, gate) for pair in pairs))
        if not all(opened):
            result.problems.append(f"{opened.count(False)} rooms could not be opened")
            return result
        for page in every:
            page.spawn(page.keep_connected())
        await _until(run, lambda: all(page.pongs for page in every), REQUEST_TIMEOUT)
        started = time.monotonic()
        await asyncio.gather(run.faults(control, started), *(p.talk(messages, pace) for p in every))
        faults_ended = started + FAULTS_END

        def delivered(page: Page, other: Page) -> bool:
            return all(m_id in page.shown for _, m_id in other.acknowledged)

        def recovered() -> bool:
            return all(any(t >= faults_ended for t in page.pongs) for page in every)

        await _until(
            run,
            lambda: recovered() and all(delivered(a, b) and delivered(b, a) for a, b in pairs),
            max(0.0, faults_ended + RECOVERY_BOUND_SECONDS + 15 - time.monotonic()),
        )
        result.recovery_seconds = max(
            (
                min((t for t in page.pongs if t >= faults_ended), default=float("inf"))
                - faults_ended
                for page in every
            ),
            default=float("inf"),
        )
        for ann, bob in pairs:
            _count_room(result, ann, bob, await _stored(ann))
    finally:
        await asyncio.gather(*(page.stop() for page in every), return_exceptions=True)
        for page in every:
            if page.http is not None:
                await page.http.close()
        await control.close()
        await pool.close()
    result.statuses = dict(run.statuses)
    result.unacknowledged = run.unacknowledged
    result.closed = sum((page.closed for page in every), Counter())
    result.check()
    return result


async def _stored(page: Page) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        history = await page.history(after)
        if history is None:
            raise RuntimeError("the store could not be read after the run")
        stored += history["messages"]
        if not history["more"] or not history["messages"]:
            return stored
        after = history["messages"][-1]["id"]


def _count_room(result: ChaosResult, ann: Page, bob: Page, stored: list[dict[str, Any]]) -> None:
    result.stored += len(stored)
    texts = Counter(m["text"] for m in stored)
    result.stored_duplicates += sum(n - 1 for n in texts.values() if n > 1)
    for sender, receiver in ((ann, bob), (bob, ann)):
        result.acknowledged += len(sender.acknowledged)
        numbers = [
            int(match[3])
            for m in stored
            if (match := _TEXT.match(label_of(m["text"]))) and match[2] == sender.name
        ]
        if numbers != sorted(numbers):
            result.misordered += 1
        for _, m_id in sender.acknowledged:
            if m_id in receiver.shown:
                result.delivered += 1
                result.delivered_by[receiver.shown[m_id]] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rooms", type=int, default=25, help="rooms at once (25)")
    parser.add_argument("--messages", type=int, default=48, help="messages per participant (48)")
    parser.add_argument(
        "--pace", type=float, default=0.25, help="seconds between one's sends (0.25)"
    )
    parser.add_argument(
        "--page-as-before",
        action="store_true",
        help="simulate the page before issue 22 (a ping every 4 minutes, no refill)",
    )
    args = parser.parse_args(argv)
    behaviour = PAGE_BEFORE if args.page_as_before else PAGE
    with stack_on_redis_server(**STORE_TIMEOUT) as (stack, redis_url):
        print(f"local stack {stack.origin} on redis-server {redis_url}", flush=True)
        result = asyncio.run(
            run_chaos(
                stack.origin, stack.upstash_token, args.rooms, args.messages, args.pace, behaviour
            )
        )
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
