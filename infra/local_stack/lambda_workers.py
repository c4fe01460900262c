"""Lambda's execution environments as worker processes of the stack.

A fork server (`lambda_worker.py`) imports the handlers once, with the functions'
environment; each worker is forked from it, so it starts in milliseconds, and
runs one invocation at a time. As Lambda does, the runtime starts another
environment when an invocation finds every one busy, up to `max_workers`; after
that, invocations wait for the first one free (that wait is not the function's
time). An invocation that runs out of time ends its environment (the process is
killed; the next one is a new one), and so does one whose environment dies
under it: the gateway answers 504 or 500, as API Gateway does.

Nothing outlives the stack: the fork server and each worker read from a socket
only the stack holds the other end of, and end at the end of it, whether the
stack closed it (`close`) or was killed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from . import lambda_worker
from .lambda_runtime import CRASHED, TIMED_OUT, TIMEOUT_SECONDS, Function, LambdaRuntime

log = logging.getLogger(__name__)

# The folder `infra` is in: the fork server imports `infra.local_stack.lambda_worker` from it.
ROOT = Path(__file__).resolve().parents[2]
# Importing the handlers takes under a second; a busy machine may take many.
START_SECONDS = 60.0


class WorkerFailed(Exception):
    """An environment that could not start, or died during an invocation."""


class _Process:
    """A process of ours that is not our child (the fork server's): killed and
    awaited through a pidfd where there are pidfds (Linux), so a pid used again
    by another process is never signalled."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(pid)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    async def wait(self) -> None:
        if self._pidfd is None:
            while True:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    return
                await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def on_exit() -> None:
            if not ended.done():
                ended.set_result(None)

        loop.add_reader(self._pidfd, on_exit)
        try:
            await ended
        finally:
            loop.remove_reader(self._pidfd)

    def forget(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


async def _message(reader: asyncio.StreamReader) -> dict[str, Any]:
    header = await reader.readexactly(lambda_worker.HEADER_BYTES)
    data = await reader.readexactly(lambda_worker.decode_length(header))
    message: dict[str, Any] = json.loads(data)
    return message


class Worker:
    """One execution environment: a process and the stack's end of its socket."""

    def __init__(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.process = _Process(pid)
        self.reader = reader
        self.writer = writer

    @property
    def pid(self) -> int:
        return self.process.pid

    async def call(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            self.writer.write(lambda_worker.encode(message))
            await self.writer.drain()
            return await _message(self.reader)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            raise WorkerFailed(f"worker {self.pid} ended") from error

    async def end(self, grace_seconds: float = 0) -> None:
        """Closes its socket (an idle worker then exits by itself); kills it if
        it is still there after `grace_seconds`."""
        self.writer.close()
        try:
            async with asyncio.timeout(grace_seconds):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self.process.wait()
        finally:
            self.process.forget()


class ForkServer:
    """The process that has imported the handlers and forks workers on request."""

    def __init__(self, process: asyncio.subprocess.Process, control: socket.socket) -> None:
        self.process = process
        self._control = control

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and self._control.fileno() >= 0

    @classmethod
    async def start(cls, handlers: list[str], environment: Mapping[str, str]) -> ForkServer:
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "infra.local_stack.lambda_worker",
                str(theirs.fileno()),
                *handlers,
                cwd=ROOT,
                env=dict(environment),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # the fork server's now: it sees ours close
        ours.setblocking(False)
        server = cls(process, ours)
        try:
            async with asyncio.timeout(START_SECONDS):
                await server._ready()
        except BaseException:
            await server.close()
            raise
        return server

    async def _ready(self) -> None:
        """Waits for the fork server's byte that says its imports are done."""
        if not await asyncio.get_running_loop().sock_recv(self._control, 1):
            code = await self.process.wait()
            raise WorkerFailed(f"the Lambda fork server did not start (exit code {code})")

    async def fork(self) -> Worker:
        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self._control, [lambda_worker.FORK], [theirs.fileno()])
        except OSError as error:
            ours.close()
            self._control.close()
            raise WorkerFailed("the Lambda fork server is gone") from error
        finally:
            theirs.close()  # the worker's alone: it sees ours close
        reader, writer = await asyncio.open_connection(sock=ours)
        try:
            async with asyncio.timeout(START_SECONDS):
                ready = await _message(reader)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError) as error:
            writer.close()
            raise WorkerFailed("a forked worker did not start") from error
        except BaseException:
            writer.close()
            raise
        return Worker(int(ready["ready"]), reader, writer)

    async def close(self) -> None:
        self._control.close()  # it exits at the end of its socket
        try:
            async with asyncio.timeout(5):
                await self.process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class ProcessRuntime(LambdaRuntime):
    def __init__(
        self,
        functions: list[Function],
        environment: Mapping[str, str],
        max_workers: int,
        warm_workers: int = 1,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        if max_workers < 1:
            raise ValueError("a process runtime needs at least one worker")
        self._handlers = sorted({function.handler for function in functions})
        self._environment = dict(environment)
        self._max = max_workers
        self._warm = min(warm_workers, max_workers)
        self._timeout = timeout_seconds
        self._workers: set[Worker] = set()  # every live one, idle or busy
        self._idle: list[Worker] = []  # the last one freed first: it is the warmest
        self._waiting: collections.deque[asyncio.Future[Worker]] = collections.deque()
        self._starting = 0
        self._starts: set[asyncio.Task[None]] = set()
        self._endings: set[asyncio.Task[None]] = set()
        self._server: ForkServer | None = None
        self._server_starting = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        """Starts the fork server (the handlers' imports) and warms
        `warm_workers` environments up, so the first requests find one."""
        await self._fork_server()
        self._starting += self._warm
        await asyncio.gather(*(self._add_worker() for _ in range(self._warm)))

    async def invoke(self, function: Function, event: dict[str, Any]) -> dict[str, Any]:
        try:
            worker = await self._acquire()
        except WorkerFailed as error:
            log.error("%s: no execution environment: %s", function.name, error)
            return dict(CRASHED)
        message = {
            "name": function.name,
            "handler": function.handler,
            "timeout": self._timeout,
            "event": event,
        }
        try:
            async with asyncio.timeout(self._timeout):
                reply = await worker.call(message)
        except TimeoutError:
            self._discard(worker)
            return dict(TIMED_OUT)
        except WorkerFailed as error:
            log.error("%s crashed: %s", function.name, error)
            self._discard(worker)
            return dict(CRASHED)
        except BaseException:
            # Cancelled while the worker runs it: it cannot take another one.
            self._discard(worker)
            raise
        self._release(worker)
        if "result" not in reply:
            return dict(CRASHED)  # the worker has logged why
        result: dict[str, Any] = reply["result"]
        return result

    def kill_worker(self) -> int | None:
        """SIGKILLs one environment, a busy one if there is one (its invocation
        then crashes, as when Lambda loses an environment); its pid, or None.
        For fault injection (faults.py)."""
        busy = [worker for worker in self._workers if worker not in self._idle]
        victims = busy or sorted(self._workers, key=lambda worker: worker.pid)
        if not victims:
            return None
        victims[0].process.kill()
        return victims[0].pid

    async def close(self) -> None:
        """Ends every worker: an idle one exits as its socket closes; one still
        running a handler gets a moment to finish, then is killed."""
        self._closed = True
        while self._waiting:
            self._waiting.popleft().cancel()
        for task in self._starts:
            task.cancel()  # a worker cut short in its cold start is ended with it
        await asyncio.gather(*self._starts, return_exceptions=True)
        workers, self._idle = list(self._workers), []
        self._workers.clear()
        await asyncio.gather(
            *self._endings,
            *(worker.end(grace_seconds=2) for worker in workers),
            return_exceptions=True,
        )
        if self._server is not None:
            await self._server.close()

    async def _acquire(self) -> Worker:
        if self._closed:
            raise WorkerFailed("the stack is shutting down")
        while self._idle:
            worker = self._idle.pop()
            if not worker.reader.at_eof():
                return worker
            self._discard(worker)  # it died while idle (killed, out of memory)
        if len(self._workers) + self._starting < self._max:
            self._starting += 1
            self._keep(self._starts, self._add_worker())
        waiter: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())  # handed over just as we were cancelled
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)

    def _release(self, worker: Worker) -> None:
        """A free worker: to the first invocation waiting, else idle."""
        if self._closed:
            self._discard(worker)
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _discard(self, worker: Worker) -> None:
        self._workers.discard(worker)
        self._keep(self._endings, worker.end())

    async def _add_worker(self) -> None:
        """Starts a worker (`_starting` counts it until then) and hands it out."""
        try:
            worker = await (await self._fork_server()).fork()
        except Exception as error:
            self._starting -= 1
            log.exception("a Lambda worker did not start")
            # The invocation that asked for it fails, as one that meets a failed
            # cold start does in Lambda; the next one tries again.
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_exception(WorkerFailed(str(error)))
                    break
            return
        self._starting -= 1
        self._workers.add(worker)
        self._release(worker)

    async def _fork_server(self) -> ForkServer:
        """The fork server; a new one if it has died (its imports: a cold start)."""
        async with self._server_starting:
            if self._server is None or not self._server.alive:
                if self._server is not None:
                    await self._server.close()
                    self._server = None
                self._server = await ForkServer.start(self._handlers, self._environment)
            return self._server

    @staticmethod
    def _keep(tasks: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` as a task, held in `tasks` until it is done."""
        task = asyncio.get_running_loop().create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def default_workers() -> int:
    """Enough environments to keep every core busy, as an invocation also waits for
    the stack (the Upstash endpoint, the Management API): two per core. More only
    cost more CPU per message here (measured: 3 and 4 on 2 cores deliver about as
    many messages per second as 6, and 8 fewer)."""
    return 2 * (os.cpu_count() or 1)
