"""Faults a chaos run injects into the local stack from outside, never by
patching the code under test: `POST /_local/faults` (loopback, like the whole
stack, and with the local Upstash endpoint's token) with any of

    {"stallStore": 1.5}             the Upstash endpoint holds each request that
                                    arrives in the next 1.5 s until then, and only
                                    then runs it: what a SIGSTOPped Redis does (the
                                    functions' REST client gives up after its
                                    timeout, a 503, yet the command runs later)
    {"killWorker": true}            SIGKILL to a Lambda worker process, a busy one
                                    if any: its invocation crashes (500)
    {"pushes": [[429, 4], [410, 2]]} the Management API answers every call with
                                    each status in turn for that many seconds:
                                    429 LimitExceeded (throttled), then 410 Gone

`GET /_local/faults` says what is in force. bench/chaos.py drives it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from .lambda_runtime import LambdaRuntime
from .lambda_workers import ProcessRuntime

_ERROR_TYPES = {410: "GoneException", 429: "LimitExceededException", 500: "InternalServerError"}
# Longer faults than these are a mistake of the caller, not a scenario.
_MAX_SECONDS = 60.0

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Faults:
    def __init__(self, token: str, runtime: LambdaRuntime) -> None:
        self._token = token
        self._runtime = runtime
        self._store_stalled_until = 0.0
        self._pushes: list[tuple[float, int]] = []  # (until, status), in turn

    def add_routes(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.inject)
        app.router.add_get(path, self.state)

    def middleware(self, store_prefix: str, management_prefix: str) -> Middleware:
        @web.middleware
        async def faulty(request: web.Request, handler: _Handler) -> web.StreamResponse:
            if request.path.startswith(store_prefix):
                await self._store_stall()
            elif request.path.startswith(management_prefix) and (status := self._push_status()):
                return _aws_error(status)
            return await handler(request)

        return faulty

    async def inject(self, request: web.Request) -> web.Response:
        self._authorize(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.keys() <= {"stallStore", "killWorker", "pushes"}:
            return _refusal(
                'Send {"stallStore": s}, {"killWorker": true} or {"pushes": [[status, s], ...]}.'
            )
        # Every part is checked before any is applied: a bad request changes nothing.
        stall = _seconds(body.get("stallStore", 0))
        if stall is None:
            return _refusal("stallStore: seconds, at most 60.")
        phases = _phases(body.get("pushes", []))
        if phases is None:
            return _refusal("pushes: a list of [410, 429 or 500, seconds].")
        kill = body.get("killWorker", False)
        if not isinstance(kill, bool):
            return _refusal("killWorker: true.")
        workers = self._runtime if isinstance(self._runtime, ProcessRuntime) else None
        if kill and workers is None:
            return _refusal("No worker processes to kill (LOCAL_LAMBDA_WORKERS=0).", 409)
        now = time.monotonic()
        answer: dict[str, Any] = {}
        if "stallStore" in body:
            self._store_stalled_until = now + stall
        if "pushes" in body:
            self._pushes, until = [], now
            for status, seconds in phases:
                until += seconds
                self._pushes.append((until, status))
        if kill and workers is not None:
            answer["killed"] = workers.kill_worker()
        return web.json_response({**answer, **self._state()})

    async def state(self, request: web.Request) -> web.Response:
        self._authorize(request)
        return web.json_response(self._state())

    def _state(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "storeStalledFor": round(max(0.0, self._store_stalled_until - now), 3),
            "pushes": self._push_status(),
        }

    async def _store_stall(self) -> None:
        while (left := self._store_stalled_until - time.monotonic()) > 0:
            await asyncio.sleep(left)

    def _push_status(self) -> int | None:
        now = time.monotonic()
        return next((status for until, status in self._pushes if now < until), None)

    def _authorize(self, request: web.Request) -> None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "unauthorized", "message": "Bearer token needed."}),
                content_type="application/json",
            )


def _seconds(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok and 0 <= value <= _MAX_SECONDS else None


def _phases(value: Any) -> list[tuple[int, float]] | None:
    if not isinstance(value, list):
        return None
    phases: list[tuple[int, float]] = []
    for phase in value:
        if not (isinstance(phase, list) and len(phase) == 2 and phase[0] in _ERROR_TYPES):
            return None
        seconds = _seconds(phase[1])
        if seconds is None:
            return None
        phases.append((int(phase[0]), seconds))
    return phases


def _refusal(message: str, status: int = 400) -> web.Response:
    code = "bad-request" if status == 400 else "conflict"
    return web.json_response({"error": code, "message": message}, status=status)


def _aws_error(status: int) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"message": "injected by /_local/faults"}),
        content_type="application/json",
        headers={"x-amzn-ErrorType": _ERROR_TYPES[status]},
    )
