"""Invokes Lambda handlers as AWS does: an event and a context, each concurrent
invocation in an execution environment of its own.

Two runtimes: `ThreadRuntime` runs every invocation in a thread of the stack's
own process (one GIL for the whole stack, but a debugger's breakpoints work);
`lambda_workers.ProcessRuntime` runs them in worker processes, one invocation at
a time each, as Lambda's execution environments do. Both answer a crash or a
timeout as API Gateway does then: a 500 (or 504) without details.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# What API Gateway answers when the function fails or runs out of time.
CRASHED: dict[str, Any] = {"statusCode": 500, "body": '{"message":"Internal Server Error"}'}
TIMED_OUT: dict[str, Any] = {"statusCode": 504, "body": '{"message":"Endpoint request timed out"}'}
# Lambda's timeout for every function (template.yaml's Globals).
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Function:
    """A Lambda function: its name and its handler, as template.yaml names it
    (`privochat.http_api.handler`: a module and an attribute of it)."""

    name: str
    handler: str


def load_handler(path: str) -> Handler:
    """`privochat.http_api.handler`'s object (importing its module is the cold start)."""
    module, _, attribute = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), attribute)
    return handler


class LambdaContext:
    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaRuntime:
    """Runs a function's handler on an event; what the gateways call."""

    async def start(self) -> None:
        """Ready to take invocations (a runtime may warm environments up here)."""

    async def invoke(self, function: Function, event: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def close(self) -> None:
        """Ends every execution environment."""


def _own_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


class ThreadRuntime(LambdaRuntime):
    """Every invocation in a thread of this process: one environment per thread."""

    def __init__(
        self,
        functions: list[Function],
        environment: Mapping[str, str],
        concurrency: int = 32,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        # The functions run in this process, so their environment is this process's:
        # the one thing that makes this runtime change the stack's own state.
        os.environ.update(environment)
        self._handlers = {function: load_handler(function.handler) for function in functions}
        # Each thread is an execution environment: it has an event loop of its
        # own, as Lambda's main thread does (Mangum runs the ASGI app on it).
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="lambda", initializer=_own_event_loop
        )
        self._timeout = timeout_seconds

    async def invoke(self, function: Function, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's response. The timeout counts from the start of the
        invocation: waiting for a free thread is not the function's time (Lambda
        would start another environment)."""
        loop = asyncio.get_running_loop()
        started = asyncio.Event()
        handler = self._handlers[function]

        def run() -> dict[str, Any]:
            loop.call_soon_threadsafe(started.set)
            return handler(event, LambdaContext(function.name, self._timeout))

        invocation = loop.run_in_executor(self._pool, run)
        try:
            await started.wait()
            return await asyncio.wait_for(invocation, self._timeout)
        except TimeoutError:
            return dict(TIMED_OUT)
        except Exception:  # the handler's crash is the gateway's 500
            log.exception("%s crashed", function.name)
            return dict(CRASHED)

    async def close(self) -> None:
        # A thread cannot be stopped: one still running a handler ends with it.
        self._pool.shutdown(wait=False, cancel_futures=True)
