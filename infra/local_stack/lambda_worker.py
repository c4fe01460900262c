"""Lambda's execution environments as processes: a fork server and its workers.

    python -m infra.local_stack.lambda_worker FD HANDLER...

starts the fork server, with the functions' environment (the stack starts it
with that). It imports the handlers (`privochat.http_api.handler`, ...) once:
that is the import part of a cold start. Then, for each socket the stack sends
it over FD, it forks a worker, which starts with the handlers imported (as a
snapshot does on Lambda SnapStart) and with none of their state: the handlers
build their clients at their first call, in the worker. A worker runs one
invocation at a time, as an execution environment does: an event in, the
handler's response out, over its own socket, as JSON (what Lambda's runtime API
carries too), each message after its length (4 bytes, big-endian).

Nothing here outlives the stack: the fork server ends when its socket FD does,
and a worker when its own socket does, whether the stack closed them or was
killed. Only the standard library is imported here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO

from .lambda_runtime import Handler, LambdaContext, load_handler

log = logging.getLogger("infra.local_stack.lambda_runtime")

_LENGTH = struct.Struct("!I")
HEADER_BYTES = _LENGTH.size
# What the fork server says once it has imported the handlers, and what the stack
# sends it with each worker's socket attached.
READY = b"r"
FORK = b"f"


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    return _LENGTH.pack(len(data)) + data


def decode_length(header: bytes) -> int:
    (length,) = _LENGTH.unpack(header)
    return int(length)


def _receive(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None once the stack has closed the socket."""
    try:
        header = stream.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES:
            return None
        length = decode_length(header)
        data = stream.read(length)
    except OSError:
        return None
    if len(data) < length:
        return None
    message: dict[str, Any] = json.loads(data)
    return message


def serve(channel: socket.socket, handlers: dict[str, Handler]) -> None:
    """A worker: says it is ready (with its pid), then runs invocations until
    the stack closes the socket."""
    # Lambda's runtime calls handlers on its main thread, which has an event loop
    # of its own (Mangum runs the ASGI app on it); not the fork server's.
    asyncio.set_event_loop(asyncio.new_event_loop())
    stream = channel.makefile("rb")
    try:
        channel.sendall(encode({"ready": os.getpid()}))
    except OSError:
        return  # the stack no longer wants it (it is shutting down)
    while (message := _receive(stream)) is not None:
        name = message["name"]
        try:
            context = LambdaContext(name, float(message["timeout"]))
            result = handlers[message["handler"]](message["event"], context)
            reply = encode({"result": result})
        except Exception:  # the gateway answers 500; the details go to the log
            log.exception("%s crashed", name)
            reply = encode({"error": "crashed"})
        try:
            channel.sendall(reply)
        except OSError:
            return  # the stack is gone


def _fork_worker(control: socket.socket, fd: int, handlers: dict[str, Handler]) -> None:
    pid = os.fork()
    if pid:
        os.close(fd)  # the worker's alone: it sees the stack close its end
        return
    status = 0
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        with socket.socket(fileno=fd) as channel:
            serve(channel, handlers)
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)  # never the fork server's own code after this


def fork_server(control: socket.socket, paths: list[str]) -> None:
    handlers = {path: load_handler(path) for path in paths}
    # Forking copies one thread only: a thread started by an import would be
    # missing in every worker.
    if threading.active_count() != 1:
        raise RuntimeError("the handlers' imports started threads: workers cannot be forked")
    # Workers are reaped as they end: the stack watches them, not this process.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control.sendall(READY)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not data:
            return  # the stack is gone
        for fd in fds:
            _fork_worker(control, fd, handlers)


def main(argv: list[str]) -> None:
    # Ctrl+C in `make run` reaches the whole process group: the stack ends its
    # workers itself (closing their sockets), after the last `$disconnect`.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with socket.socket(fileno=int(argv[0])) as control:
        fork_server(control, argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
