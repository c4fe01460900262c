"""Load generator: rooms of two participants talking through PrivoChat over
loopback, every delivery checked.

Each participant has its own cookie jar, joins with the site's Origin, opens its
WebSocket with the cookie, then sends its messages one after the other (the
next once the previous POST has returned). Arrival times are taken at the other
participant's WebSocket and matched to send times by message id once the run is
over, so a push that arrives before its POST returns is matched all the same.

Checked: every message reaches both sockets exactly once, each sender's
messages in the order they were sent; every HTTP answer is 2xx; the store holds
exactly what was sent (GET /api/messages). Bounded: a fixed number of messages,
a timeout on every request, and a deadline for the deliveries still missing.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin
from yarl import URL

from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack, MissingProgram, local_stack, redis_server
from devkit.wire import wire_text

# About what the browser sends for a short line: AES-GCM ciphertext, base64.
PADDING = "x" * 96
REQUEST_TIMEOUT = 30.0
MAX_PROBLEMS_KEPT = 20
# Every simulated browser comes from 127.0.0.1 and sends faster than a person:
# the rate limits (tested on their own) would refuse the load, so they are lifted.
# A loaded run can outlast a room's 10 minutes: rooms live an hour here.
UNLIMITED = {
    "RATE_LIMIT_ROOMS_PER_MINUTE": "1000000",
    "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
    "ROOM_TTL_SECONDS": "3600",
}
# A send that gets a 5xx or no answer is tried again with the same clientId, as
# the browser does; the 5xx still counts against the run.
SEND_ATTEMPTS = 3


@contextmanager
def stack_on_redis_server(**env: str) -> Iterator[tuple[LocalStack, str]]:
    """A real redis-server and the local stack on it (settings: UNLIMITED and `env`); both stopped after."""
    with ExitStack() as running:
        try:
            redis_url = running.enter_context(redis_server())
        except MissingProgram as missing:
            raise SystemExit(f"bench: {missing}") from None
        yield running.enter_context(local_stack(REDIS_URL=redis_url, **UNLIMITED, **env)), redis_url


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Inbox:
    """What one WebSocket received: message ids in arrival order, first arrival
    times, the frames, and a flag for the pong of the greeting."""

    order: list[str] = field(default_factory=list)
    arrived_at: dict[str, float] = field(default_factory=dict)
    frames: dict[str, dict[str, Any]] = field(default_factory=dict)
    frame_bytes: dict[str, int] = field(default_factory=dict)
    pong: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, message_id: str, frame: dict[str, Any], size: int) -> None:
        self.order.append(message_id)
        self.arrived_at.setdefault(message_id, time.perf_counter())
        self.frames.setdefault(message_id, frame)
        self.frame_bytes.setdefault(message_id, size)
        self.changed.set()

    async def arrival(self, message_id: str, timeout: float = REQUEST_TIMEOUT) -> float:
        """When the message arrived (waits for it, at most `timeout` seconds)."""
        async with asyncio.timeout(timeout):
            while message_id not in self.arrived_at:
                self.changed.clear()
                await self.changed.wait()
        return self.arrived_at[message_id]

    async def read(
        self, ws: ClientConnection, message_of: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> None:
        """Until the socket closes: record each message frame (others are skipped)."""
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "pong":
                self.pong.set()
            message = message_of(event)
            if message is not None:
                self.record(message["id"], message, len(raw))


@dataclass
class Party:
    """One participant of a run: what it sent (in order, with send times) and
    what its socket received."""

    name: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    inbox: Inbox = field(default_factory=Inbox)
    resent: set[str] = field(default_factory=set)  # ids of messages whose send was retried
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None

    def note_sent(self, message: dict[str, Any], started: float) -> None:
        self.sent.append(message)
        self.sent_at[message["id"]] = started

    async def listen(self, ws: ClientConnection) -> None:
        """Reads `ws` into the inbox from now on, and greets as the browser does (ping, pong)."""
        self.ws = ws
        self.reader = asyncio.create_task(self.inbox.read(ws, pushed_message))
        await ws.send('{"action":"ping"}')
        await asyncio.wait_for(self.inbox.pong.wait(), REQUEST_TIMEOUT)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


@dataclass
class LoadResult:
    rooms: int
    messages_per_participant: int
    sent: int = 0
    delivered: int = 0  # arrivals at the other participant's socket
    seconds: float = 0.0  # from the first send to the last arrival
    latencies_ms: list[float] = field(default_factory=list)
    http_statuses: Counter[str] = field(default_factory=Counter)
    problem_counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # the first few, in words
    # Arrivals out of the store's order across the two senders: not a fault
    # (two senders' pushes race), reported to show how often it happens.
    cross_sender_inversions: int = 0
    store_checked: bool = False

    def problem(self, kind: str, detail: str) -> None:
        self.problem_counts[kind] += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(f"{kind}: {detail}")

    @property
    def ok(self) -> bool:
        return (
            not self.problem_counts and self.sent == self.rooms * 2 * self.messages_per_participant
        )

    @property
    def messages_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "rooms": self.rooms,
            "messages_per_participant": self.messages_per_participant,
            "sent": self.sent,
            "delivered": self.delivered,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages_per_second, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "max_ms": round(max(self.latencies_ms, default=math.nan), 2),
            "http_statuses": dict(self.http_statuses),
            "problems": dict(self.problem_counts),
            "first_problems": self.problems,
            "cross_sender_inversions": self.cross_sender_inversions,
            "ok": self.ok,
        }

    def report(self, title: str) -> str:
        s = self.summary()
        verdict = (
            "OK: every message exactly once and in order on both sockets"
            + ("; the store holds exactly what was sent" if self.store_checked else "")
            if self.ok
            else f"FAILED: {s['problems']}"
        )
        lines = [
            title,
            (
                f"  rooms {s['rooms']} x 2 participants x {s['messages_per_participant']} messages"
                f" = {s['sent']} sent, {s['delivered']} delivered to the other participant"
            ),
            f"  {s['messages_per_second']} messages/s over {s['seconds']} s",
            f"  delivery latency p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms",
            f"  HTTP answers {s['http_statuses']}",
            f"  cross-sender arrivals out of store order (informative): {s['cross_sender_inversions']}",
            f"  {verdict}",
        ]
        lines += [f"    {p}" for p in self.problems]
        return "\n".join(lines)


def _without_own(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the room holds it: `own` depends on who is told."""
    return {key: value for key, value in message.items() if key != "own"}


def check_room(
    result: LoadResult,
    label: str,
    parties: tuple[Party, Party],
    stored: list[dict[str, Any]] | None,
) -> None:
    """Exactly once and in each sender's order on both sockets, and (when given)
    the stored list: what was sent, nothing else, each sender's order kept."""
    by_id = {m["id"]: m for party in parties for m in party.sent}
    sent_order = {party.name: [m["id"] for m in party.sent] for party in parties}
    author = {m_id: name for name, ids in sent_order.items() for m_id in ids}

    resent = set().union(*(party.resent for party in parties))

    def check_sequence(where: str, ids: list[str]) -> None:
        repeats = [m_id for m_id, n in Counter(ids).items() if n > 1]
        # A retried send is pushed again by design (clients drop an id they show).
        if expected := [m_id for m_id in repeats if m_id in resent]:
            result.problem("duplicate-after-retry", f"{label} {where}: {len(expected)} ids again")
        if repeats := [m_id for m_id in repeats if m_id not in resent]:
            result.problem("duplicate", f"{label} {where}: {len(repeats)} ids more than once")
        unknown = [m_id for m_id in ids if m_id not in by_id]
        if unknown:
            result.problem("unknown", f"{label} {where}: {len(unknown)} ids never sent")
        missing = by_id.keys() - set(ids)
        if missing:
            result.problem(
                "lost", f"{label} {where}: {len(missing)} of {len(by_id)} messages missing"
            )
        for name, order in sent_order.items():
            seen = list(dict.fromkeys(m_id for m_id in ids if author.get(m_id) == name))
            present = set(seen)
            if seen != [m_id for m_id in order if m_id in present]:
                result.problem("misordered", f"{label} {where}: {name}'s messages out of order")

    for party in parties:
        check_sequence(f"socket of {party.name}", party.inbox.order)
        for m_id, frame in party.inbox.frames.items():
            if m_id in by_id and _without_own(by_id[m_id]) != _without_own(frame):
                result.problem(
                    "altered", f"{label} socket of {party.name}: {m_id} differs from what was sent"
                )
    if stored is not None:
        result.store_checked = True
        check_sequence("store", [m["id"] for m in stored])
        for m in stored:
            if m["id"] in by_id and any(
                m[k] != by_id[m["id"]][k] for k in ("seat", "text", "timestamp")
            ):
                result.problem("altered", f"{label} store: {m['id']} differs from what was sent")
        position = {m["id"]: i for i, m in enumerate(stored)}
        for party in parties:
            places = [position[m_id] for m_id in party.inbox.order if m_id in position]
            result.cross_sender_inversions += sum(1 for x, y in pairwise(places) if y < x)
    sender, receiver = parties
    for a, b in ((sender, receiver), (receiver, sender)):
        for m_id, started in a.sent_at.items():
            if m_id in b.inbox.arrived_at:
                result.delivered += 1
                result.latencies_ms.append((b.inbox.arrived_at[m_id] - started) * 1000)


async def wait_for_deliveries(rooms: list[tuple[Party, Party]], settle_seconds: float) -> float:
    """Waits until every sent message has reached both sockets of its room, or
    `settle_seconds` pass; returns the time of the last arrival seen."""
    deadline = time.perf_counter() + settle_seconds

    def complete() -> bool:
        for parties in rooms:
            expected = {m["id"] for party in parties for m in party.sent}
            if any(not expected <= party.inbox.arrived_at.keys() for party in parties):
                return False
        return True

    while not complete() and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    return max(
        (t for parties in rooms for party in parties for t in party.inbox.arrived_at.values()),
        default=time.perf_counter(),
    )


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read in full."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


def http_pool(size: int) -> aiohttp.TCPConnector:
    """Connections shared by the participants of a run (their cookie jars are not)."""
    return aiohttp.TCPConnector(limit=size, force_close=False)


class Participant(Party):
    """A PrivoChat participant: a cookie jar of its own, a WebSocket opened with it."""

    def __init__(
        self, name: str, origin: str, pool: aiohttp.TCPConnector, result: LoadResult
    ) -> None:
        super().__init__(name)
        self.origin = origin
        self.http = aiohttp.ClientSession(
            base_url=origin,
            headers={"Origin": origin},
            connector=pool,
            connector_owner=False,
            # unsafe: keep cookies set by an IP address (127.0.0.1), as browsers do.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )
        self.result = result

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer | None:
        """The answer (one that is not 2xx is noted as a problem); None when none came."""
        try:
            async with self.http.request(method, path, **kwargs) as response:
                answer = Answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            self.result.http_statuses["error"] += 1
            self.result.problem("http-error", f"{method} {path}: {type(error).__name__}")
            return None
        self.result.http_statuses[str(answer.status)] += 1
        if not answer.ok:
            self.result.problem(f"http-{answer.status}", f"{method} {path}: {answer.body[:200]!r}")
        return answer

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer | None:
        """The answer when it is 2xx, else None."""
        answer = await self.request(method, path, **kwargs)
        return answer if answer is not None and answer.ok else None

    async def send(self, room_id: str, body: dict[str, str]) -> dict[str, Any] | None:
        """POST /api/messages; after a 5xx or no answer, again with the same clientId."""
        for attempt in range(SEND_ATTEMPTS):
            answer = await self.request(
                "POST", "/api/messages", params={"roomId": room_id}, json=body
            )
            if answer is not None and answer.ok:
                message: dict[str, Any] = answer.json()["message"]
                if attempt:
                    self.resent.add(message["id"])
                return message
            if answer is not None and answer.status < 500:
                return None
        return None

    def cookie(self) -> str:
        return self.http.cookie_jar.filter_cookies(URL(self.origin))["x-auth-token"].value

    async def open_socket(self, room_id: str) -> bool:
        """Opens the WebSocket with the cookie and greets (ping, pong) as the browser does."""
        ws_url = self.origin.replace("http", "ws", 1) + f"/ws?roomId={room_id}"
        try:
            ws = await connect(
                ws_url,
                additional_headers={"Cookie": f"x-auth-token={self.cookie()}"},
                origin=Origin(self.origin),
                open_timeout=REQUEST_TIMEOUT,
                max_size=2**20,
                compression=None,  # API Gateway's WebSockets have no permessage-deflate
            )
            await self.listen(ws)
            return True
        except Exception as error:  # any failure to open is a finding
            self.result.problem("websocket", f"{self.name}: {type(error).__name__}: {error}")
            return False

    async def close(self) -> None:
        await super().close()
        await self.http.close()


def pushed_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The message of a `{"type": "message", "message": ...}` frame, else None."""
    return event["message"] if event.get("type") == "message" else None


async def _open_room(
    index: int, a: Participant, b: Participant, gate: asyncio.Semaphore
) -> str | None:
    async with gate:
        created = await a.call("POST", "/api/room/create", json={"verifier": VERIFIER})
        if created is None:
            return None
        room_id = str(created.json()["roomId"])
        for person in (a, b):
            joined = await person.call(
                "POST", "/api/room/join", params={"roomId": room_id}, json={"proof": PROOF}
            )
            if joined is None:
                return None
        for person in (a, b):
            if not await person.open_socket(room_id):
                return None
        return room_id


def message_text(label: str) -> str:
    """`label` as a wire text (the API takes no other), as long as the label and
    PADDING: about what the browser sends for a short line."""
    return wire_text(label, len(label) + 1 + len(PADDING))


async def _talk(room_id: str, index: int, me: Participant, count: int) -> None:
    for i in range(count):
        body = {
            "text": message_text(f"room {index} {me.name} #{i}"),
            "clientId": f"r{index}-{me.name}-{i}",
        }
        started = time.perf_counter()
        message = await me.send(room_id, body)
        if message is not None:
            me.note_sent(message, started)


async def run_load(
    origin: str,
    rooms: int,
    messages: int,
    *,
    setup_parallel: int = 20,
    settle_seconds: float = 15.0,
) -> LoadResult:
    """`rooms` rooms at once, 2 participants each, `messages` messages per participant."""
    result = LoadResult(rooms, messages)
    pool = http_pool(2 * rooms + 10)
    pairs = [
        (Participant("ann", origin, pool, result), Participant("bob", origin, pool, result))
        for _ in range(rooms)
    ]
    try:
        gate = asyncio.Semaphore(setup_parallel)
        room_ids = await asyncio.gather(
            *(_open_room(i, a, b, gate) for i, (a, b) in enumerate(pairs))
        )
        live = [
            (i, room_id, pair)
            for i, (room_id, pair) in enumerate(zip(room_ids, pairs, strict=True))
            if room_id
        ]
        started = time.perf_counter()
        await asyncio.gather(
            *(_talk(room_id, i, person, messages) for i, room_id, pair in live for person in pair)
        )
        sends_done = time.perf_counter()
        last_arrival = await wait_for_deliveries([pair for _, _, pair in live], settle_seconds)
        result.seconds = max(last_arrival, sends_done) - started
        result.sent = sum(len(person.sent) for _, _, pair in live for person in pair)
        for i, room_id, (a, b) in live:
            listed = await a.call("GET", "/api/messages", params={"roomId": room_id})
            check_room(result, f"room {i}", (a, b), listed.json()["messages"] if listed else None)
    finally:
        await asyncio.gather(
            *(person.close() for pair in pairs for person in pair), return_exceptions=True
        )
        await pool.close()
    return result
