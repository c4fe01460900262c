"""Invokes Lambda handlers as AWS does: an event and a context, one thread per
concurrent invocation (like separate execution environments)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


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


def _own_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


class LambdaRuntime:
    def __init__(self, concurrency: int = 32, timeout_seconds: float = 10) -> None:
        # Each thread is an execution environment: it has an event loop of its
        # own, as Lambda's main thread does (Mangum runs the ASGI app on it).
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="lambda", initializer=_own_event_loop
        )
        self._timeout = timeout_seconds

    async def invoke(self, name: str, handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's response; a crash or a timeout becomes what API Gateway
        answers then: a 500 (or 504) without details. The timeout counts from
        the start of the invocation: waiting for a free thread is not the
        function's time (Lambda would start another environment)."""
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def run() -> dict[str, Any]:
            loop.call_soon_threadsafe(started.set)
            return handler(event, LambdaContext(name, self._timeout))

        invocation = loop.run_in_executor(self._pool, run)
        try:
            await started.wait()
            return await asyncio.wait_for(invocation, self._timeout)
        except TimeoutError:
            return {"statusCode": 504, "body": '{"message":"Endpoint request timed out"}'}
        except Exception:  # the handler's crash is the gateway's 500
            log.exception("%s crashed", name)
            return {"statusCode": 500, "body": '{"message":"Internal Server Error"}'}
