"""Servers that tests and benchmarks start on 127.0.0.1 and always stop: the
local stack as `make run` starts it, a real redis-server, an aiohttp app in a
thread. No pytest here: a missing program is `MissingProgram`, which the test
suite turns into a skip (tests/conftest.py) and a benchmark into its exit."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MissingProgram(RuntimeError):
    """A program this machine lacks (scripts/install-system-deps.sh installs it)."""


def find_program(name: str) -> str:
    """The program's path, on PATH or in /usr/bin (Debian's chromium, redis-server)."""
    path = shutil.which(name) or (
        f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
    )
    if path is None:
        raise MissingProgram(
            f"{name} is not installed (scripts/install-system-deps.sh installs it)"
        )
    return path


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


@contextmanager
def redis_server() -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence."""
    with redis_process() as server:
        yield server.url


class RedisProcess:
    """A redis-server that a test can stop, start again (same port) and freeze."""

    def __init__(self, folder: str) -> None:
        self.program = find_program("redis-server")
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.program,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def redis_process() -> Iterator[RedisProcess]:
    with tempfile.TemporaryDirectory() as folder:
        server = RedisProcess(folder)
        server.start()
        try:
            yield server
        finally:
            if server.process is not None:
                server.thaw()
            server.stop()


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """Runs an aiohttp app on an event loop of its own thread (the main thread
    may have a loop running already: Playwright's); yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    port = free_port()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    if not ready.wait(15):
        raise RuntimeError("the server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class LocalStack:
    """`python -m infra.local_stack` in a subprocess, as a user runs it."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path, token: str) -> None:
        self.port = port
        self.upstash_token = token
        self.process = process
        self.log = log
        self.origin = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"

    def upstash_requests(self) -> int:
        """REST requests the local Upstash endpoint has served so far."""
        response = httpx.get(
            f"{self.origin}/_local/upstash/_stats",
            headers={"Authorization": f"Bearer {self.upstash_token}"},
        )
        return int(response.json()["requests"])

    def redis(self, *command: str) -> Any:
        """A command sent to the stack's Upstash endpoint, to look at what is stored."""
        response = httpx.post(
            f"{self.origin}/_local/upstash",
            json=list(command),
            headers={"Authorization": f"Bearer {self.upstash_token}"},
        )
        return response.json()["result"]


# Tests and load runs create many rooms from one address; the rate-limit tests
# start a stack with small limits of their own.
GENEROUS_LIMITS = {
    "RATE_LIMIT_ROOMS_PER_MINUTE": "100000",
    "RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
}


@contextmanager
def local_stack(**env: str) -> Iterator[LocalStack]:
    """This checkout's stack, with `env` on top of the generous limits."""
    with local_stack_of(ROOT, **env) as running:
        yield running


@contextmanager
def local_stack_of(tree: Path, **env: str) -> Iterator[LocalStack]:
    """The stack of a checkout (another worktree, say), with that tree's functions."""
    port = free_port()
    token = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "stack.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local_stack"],
                cwd=tree,
                env={
                    **os.environ,
                    "PYTHONPATH": str(tree / "functions"),
                    "PORT": str(port),
                    "LOCAL_UPSTASH_TOKEN": token,
                    **GENEROUS_LIMITS,
                    **env,
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for_port(port, process)
                yield LocalStack(port, process, log, token)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
