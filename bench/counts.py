"""What each operation costs at Upstash: REST requests, counted at the local
stack's Upstash endpoint, and billed commands (Upstash bills every command,
those a script runs included), counted with MONITOR on a real redis-server.
The scripts are warmed first, so each script call is one EVALSHA."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import redis

from devkit.api_client import ApiClient, greet, next_event
from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack
from devkit.wire import wire_text
from privochat.domain import HISTORY_CAP

OPERATIONS = (
    "create",
    "join",
    "ttl",
    "$connect",
    "send, first message",
    "send",
    "send, retry",
    "send, room full",
    "list",
    "typing",
    "ping",
    "receipt",
    "$disconnect",
    "destroy",
)
# The most each operation may bill (issue 24); bench.run and the tests hold them to it.
# typing: a warm function that read the peers in the last 15 s bills none.
MAX_BILLED = {
    "create": 5,
    "join": 3,
    "ttl": 1,
    "$connect": 4,
    "send, first message": 4,
    "send": 4,
    "send, retry": 4,
    "send, room full": 4,
    "list": 3,
    "typing": 1,
    "ping": 1,
    "receipt": 1,  # relayed, never stored: 0 when the warm function remembers the peers
    "$disconnect": 4,
    "destroy": 4,
}


# What the seed app spent per message (bench/README.md): the line to stay far below.
SEED_BILLED_PER_SEND = 9
# Commands every key argument of which is a key; for the others, the first argument.
_ALL_KEYS = {"DEL", "EXISTS", "UNLINK", "MGET", "TOUCH"}
# A client library's own handshake, not an operation's work.
_NOT_BILLED = {"CLIENT", "HELLO", "SELECT", "AUTH", "MONITOR"}
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Command:
    from_script: bool
    args: list[str]

    @property
    def name(self) -> str:
        return self.args[0].upper()

    @property
    def keys(self) -> list[str]:
        return self.args[1:] if self.name in _ALL_KEYS else self.args[1:2]


@dataclass
class CommandLog:
    """Every command a redis-server runs, read from MONITOR by a thread."""

    url: str
    commands: list[Command] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._connection = redis.Redis.from_url(self.url).connection_pool.get_connection()
        self._connection.send_command("MONITOR")  # type: ignore[no-untyped-call]
        self._connection.read_response()  # OK
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                line = self._connection.read_response()
            except (redis.ConnectionError, OSError, ValueError):
                return
            text = line.decode(errors="replace") if isinstance(line, bytes) else str(line)
            client = text.split("[", 1)[1].split("]", 1)[0]
            args = [re.sub(r"\\(.)", r"\1", token) for token in _TOKEN.findall(text)]
            if args and args[0].upper() not in _NOT_BILLED:
                with self._lock:
                    self.commands.append(Command(client.endswith(" lua"), args))

    def count(self) -> int:
        with self._lock:
            return len(self.commands)

    def since(self, start: int) -> list[Command]:
        with self._lock:
            return self.commands[start:]

    def close(self) -> None:
        self._connection.disconnect()  # type: ignore[no-untyped-call]
        self._thread.join(5)


@contextmanager
def command_log(url: str) -> Iterator[CommandLog]:
    log = CommandLog(url)
    try:
        yield log
    finally:
        log.close()


def undeclared_keys(commands: list[Command]) -> list[str]:
    """Keys a script touched without naming them in its KEYS: Upstash refuses
    those (allow-key-locking), so none may exist."""
    problems: list[str] = []
    declared: set[str] | None = None
    for command in commands:
        if not command.from_script:
            is_script = command.name in ("EVAL", "EVALSHA")
            declared = set(command.args[3 : 3 + int(command.args[2])]) if is_script else None
            continue
        for key in command.keys:
            if declared is None or key not in declared:
                problems.append(f"{command.name} {key}")
    return problems


def _settled(count: Callable[[], int], quiet_seconds: float = 0.3) -> int:
    """A count once nothing (a late $disconnect, say) is under way."""
    last = count()
    while True:
        time.sleep(quiet_seconds)
        now = count()
        if now == last:
            return now
        last = now


def settled_count(stack: LocalStack) -> int:
    """The request count once nothing (a late $disconnect, say) is under way."""
    return _settled(stack.upstash_requests)


def _operations(stack: LocalStack) -> Iterator[str | None]:
    """Every operation once. Yields an operation's name just before doing it, and
    None before a step that is not measured (and at the end): what happens
    between two yields is the named operation and nothing else."""
    ann, bob = ApiClient(stack.origin), ApiClient(stack.origin)
    with ann, bob, ExitStack() as sockets:
        yield "create"
        room_id = ann.create(VERIFIER)
        yield "join"
        ann.join(room_id, PROOF).raise_for_status()
        yield None
        bob.join(room_id, PROOF).raise_for_status()
        bob_ws = sockets.enter_context(bob.websocket(room_id))
        greet(bob_ws)
        yield "ttl"
        ann.ttl(room_id).raise_for_status()
        yield "$connect"  # done once the other participant hears of it; the greeting's ping is apart
        ann_ws = sockets.enter_context(ann.websocket(room_id))
        next_event(bob_ws, "presence")
        yield "send, first message"
        ann.send(room_id, wire_text("first"), "first").raise_for_status()
        next_event(bob_ws, "message")
        yield "send"  # the common case: the room holds messages already
        ann.send(room_id, wire_text("one trip"), "one-trip").raise_for_status()
        next_event(bob_ws, "message")
        yield "send, retry"  # the same clientId again: answered with the stored message
        ann.send(room_id, wire_text("one trip"), "one-trip").raise_for_status()
        next_event(bob_ws, "message")
        yield None
        for i in range(HISTORY_CAP - 2):  # the room holds its cap of messages
            ann.send(room_id, wire_text(f"fill {i}"), f"fill-{i}").raise_for_status()
        bob_ws.send(json.dumps({"action": "ping", "roomId": room_id}))
        next_event(bob_ws, "pong", timeout=30)  # after every push of the fill
        yield "send, room full"
        ann.send(room_id, wire_text("past the cap"), "past-the-cap").raise_for_status()
        next_event(bob_ws, "message")
        yield "list"
        ann.messages(room_id).raise_for_status()
        yield "typing"  # as the page sends it, naming its room; no peers remembered yet
        ann_ws.send(json.dumps({"action": "typing", "roomId": room_id}))
        next_event(bob_ws, "typing")
        yield "ping"
        ann_ws.send(json.dumps({"action": "ping", "roomId": room_id}))
        next_event(ann_ws, "pong")
        # A receipt as the page sends it (relayed to the other participant, never stored),
        # after the typing frame above: the warm function remembers the peers, so this is
        # the common case of a receipt in a conversation.
        yield "receipt"
        ann_ws.send(
            json.dumps({"action": "receipt", "text": wire_text("receipt"), "roomId": room_id})
        )
        next_event(bob_ws, "receipt")
        yield "$disconnect"
        ann_ws.close()
        next_event(bob_ws, "presence")
        yield None
        bob_ws.close()
        # Destroy with nobody connected: the hang-ups it causes are $disconnects of their own.
        yield "destroy"
        ann.destroy(room_id).raise_for_status()
        yield None


def requests_per_operation(stack: LocalStack) -> dict[str, int]:
    """{operation: Upstash REST requests it made}, after a warm-up round (which
    loads every script, so that each call is one EVALSHA)."""
    for _ in _operations(stack):
        pass
    counts: dict[str, int] = {}
    measuring, before = None, 0
    for name in _operations(stack):
        now = settled_count(stack)
        if measuring is not None:
            counts[measuring] = now - before
        measuring, before = name, now
    return counts


@dataclass(frozen=True)
class Billing:
    commands: dict[str, int]  # billed commands per operation
    transactions: int  # MULTI/EXEC seen (each takes Upstash's global lock)
    undeclared: list[str]  # keys scripts touched without declaring them


def billed_per_operation(stack: LocalStack, redis_url: str) -> Billing:
    """Billed commands per operation, on a stack whose store is the redis-server
    at `redis_url`, after a warm-up round."""
    for _ in _operations(stack):
        pass
    counts: dict[str, int] = {}
    with command_log(redis_url) as log:
        measuring, before = None, 0
        for name in _operations(stack):
            now = _settled(log.count)
            if measuring is not None:
                counts[measuring] = now - before
            measuring, before = name, now
        everything = log.since(0)
    return Billing(
        counts,
        sum(1 for command in everything if command.name == "MULTI"),
        undeclared_keys(everything),
    )
