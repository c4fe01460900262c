"""Runs in a fresh Python 3.12 process over one Lambda code tree, as Lambda would:
`python3.12 -I -S -B bench/lambda_child.py MODE TREE ...`, the request on stdin, one
JSON line on stdout. Only the tree is on sys.path (-I -S: no site-packages, no cwd), so
a tree that misses a module fails here as it would in Lambda; and no pyc is ever
written (-B: Lambda's /var/task is read-only; -I ignores PYTHONDONTWRITEBYTECODE).

  first-call TREE MODULE ATTR   import MODULE, call ATTR(event, context) once: the
                                cold start of one function (stdin: the event)
  warm TREE CALLS ROUNDS        the HTTP function warm: CALLS calls of each route per
                                round through Mangum, with the app's async routes and
                                with the same routes as plain defs (stdin: the settings)

Standard library only at import: everything else comes from TREE (and, for the warm
mode's events, devkit/, which needs nothing more).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from typing import Any


class Context:
    """What Lambda passes as the handler's second argument."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _loaded_from(tree: str) -> dict[str, Any]:
    """Where the modules came from: pyc or source, and what left the tree."""
    import os

    from_tree = [  # Python modules (an extension module has no pyc)
        m
        for m in list(sys.modules.values())
        if (getattr(m, "__file__", "") or "").startswith(tree)
        and (m.__file__ or "").endswith((".py", ".pyc"))
    ]
    # Loaded from a pyc: a sourceless module, or a source whose pyc exists.
    cached = sum(
        1
        for m in from_tree
        if (m.__file__ or "").endswith(".pyc")
        or os.path.exists(getattr(getattr(m, "__spec__", None), "cached", None) or "")
    )
    return {
        "module_names": sorted(m.__name__ for m in from_tree),
        "modules": len(from_tree),
        "with_pyc": cached,
        "boto3": "boto3" in sys.modules,
        "pydantic_v1": "pydantic.v1" in sys.modules,
        "outside_tree": sorted(
            name
            for name, m in list(sys.modules.items())
            if name != "__main__"
            and (getattr(m, "__file__", "") or "").endswith((".py", ".pyc", ".so"))
            and not (m.__file__ or "").startswith((tree, sys.base_prefix))
        ),
    }


def first_call(tree: str, module: str, attr: str, event: dict[str, Any]) -> dict[str, Any]:
    context = Context(attr)
    started = time.perf_counter()
    cpu_started = time.process_time()
    handler = getattr(importlib.import_module(module), attr)
    imported = time.perf_counter()
    response = handler(event, context)
    done = time.perf_counter()
    return {
        "import_ms": (imported - started) * 1000,
        "call_ms": (done - imported) * 1000,
        "total_ms": (done - started) * 1000,
        "cpu_ms": (time.process_time() - cpu_started) * 1000,
        "status": response.get("statusCode"),
        "body": str(response.get("body", ""))[:300],
        **_loaded_from(tree),
    }


def syncified(app: Any) -> Any:
    """The same FastAPI app with every async endpoint and dependency made a plain
    `def` (as http_api.py had them): FastAPI then runs each in its threadpool. The
    routes never suspend (the store client is synchronous), so the plain function
    drives the coroutine to its end in one step: the same work, a `def`.
    FastAPI decides at route creation, so each route's handler is built again."""
    import inspect

    from fastapi.routing import APIRoute, request_response

    wrappers: dict[Any, Any] = {}

    def wrapped(call: Any) -> Any:
        if call in wrappers:
            return wrappers[call]
        if call is None or inspect.isclass(call) or not inspect.iscoroutinefunction(call):
            return call

        def in_the_threadpool(*args: Any, **kwargs: Any) -> Any:
            coroutine = call(*args, **kwargs)
            try:
                coroutine.send(None)
            except StopIteration as done:
                return done.value
            coroutine.close()
            raise RuntimeError(f"{call.__name__} suspended: it cannot be made a def")

        in_the_threadpool.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
        in_the_threadpool.__name__ = getattr(call, "__name__", "call")
        wrappers[call] = in_the_threadpool
        return in_the_threadpool

    def visit(dependant: Any) -> None:
        dependant.call = wrapped(dependant.call)
        for sub in dependant.dependencies:
            visit(sub)

    for route in app.router.routes:
        if isinstance(route, APIRoute):
            visit(route.dependant)
            route.app = request_response(route.get_route_handler())
    return app


def warm(tree: str, calls: int, rounds: int) -> dict[str, Any]:
    """Per route, CPU and wall time per warm call: the app's async routes against
    the same routes as plain defs, in alternating blocks, the median of the blocks."""
    import statistics
    from pathlib import Path

    from mangum import Mangum

    http_api = importlib.import_module("privochat.http_api")
    # The events and the link's credentials the tests use: devkit needs only the standard
    # library and privochat, which comes from TREE (the repository goes last on the path).
    sys.path.append(str(Path(__file__).resolve().parents[1]))
    from devkit.credentials import PROOF, VERIFIER
    from devkit.events import http_event

    handlers: dict[str, Any] = {
        "async": http_api.handler,
        "sync": Mangum(syncified(http_api.create_app()), lifespan="off", api_gateway_base_path="/"),
    }
    context = Context("http")
    created = http_api.handler(
        http_event("POST", "/api/room/create", body={"verifier": VERIFIER}), context
    )
    room = {"roomId": json.loads(created["body"])["roomId"]}
    joined = http_api.handler(
        http_event("POST", "/api/room/join", room, body={"proof": PROOF}), context
    )
    if joined["statusCode"] != 200:
        raise RuntimeError(f"join: {joined}")
    cookie = joined["cookies"][0].split(";", 1)[0].split("=", 1)[1]
    routes: dict[str, Any] = {
        "GET /api/room/ttl": lambda: http_event("GET", "/api/room/ttl", room, cookie=cookie),
        "GET /api/messages": lambda: http_event("GET", "/api/messages", room, cookie=cookie),
    }
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        route: {kind: {"cpu_us": [], "wall_us": []} for kind in handlers} for route in routes
    }
    for route, make_event in routes.items():
        for handler in handlers.values():  # warm-up: every path taken once at least
            for _ in range(max(5, calls // 10)):
                answer = handler(make_event(), context)
                if answer["statusCode"] != 200:
                    raise RuntimeError(f"{route}: {answer}")
        for round_number in range(rounds):
            order = list(handlers.items())
            if round_number % 2:
                order.reverse()
            for kind, handler in order:
                events = [make_event() for _ in range(calls)]
                cpu, wall = time.process_time(), time.perf_counter()
                for event in events:
                    handler(event, context)
                samples[route][kind]["cpu_us"].append((time.process_time() - cpu) / calls * 1e6)
                samples[route][kind]["wall_us"].append((time.perf_counter() - wall) / calls * 1e6)
    return {
        route: {
            kind: {measure: statistics.median(values) for measure, values in by_measure.items()}
            for kind, by_measure in by_kind.items()
        }
        for route, by_kind in samples.items()
    }


def main(argv: list[str]) -> int:
    mode, tree = argv[0], argv[1]
    sys.path.insert(0, tree)
    request = json.loads(sys.stdin.read() or "null")
    if mode == "first-call":
        result = first_call(tree, argv[2], argv[3], request)
    elif mode == "warm":
        result = warm(tree, int(argv[2]), int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
