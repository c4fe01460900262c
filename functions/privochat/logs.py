"""Structured logs: every line is one JSON object, and carries the request ID
(and, for WebSocket events, the connection ID) of the event it was written in,
as Powertools' Logger does, without its import time.

One line per request or WebSocket event (log_event) says what happened; other
lines (a warning from the store, say) say why. Only the fields named here are
ever logged: never a token, a cookie or message text.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ids: ContextVar[dict[str, str]] = ContextVar("privochat_log_ids", default={})  # noqa: B039 - never mutated


@contextmanager
def event_ids(request_id: str, connection_id: str | None = None) -> Iterator[None]:
    """Every line written inside carries these IDs."""
    ids = {"requestId": request_id}
    if connection_id is not None:
        ids["connectionId"] = connection_id
    token = _ids.set(ids)
    try:
        yield
    finally:
        _ids.reset(token)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids.get(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure(level: str) -> None:
    """JSON lines on the root logger's handlers (Lambda installs one; else stderr)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        handler.setFormatter(JsonLines())


def log_event(*, kind: str, route: str, status: int, started: float) -> None:
    record: dict[str, object] = {
        "kind": kind,
        **_ids.get(),
        "route": route,
        "status": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
    }
    print(json.dumps(record), file=sys.stdout, flush=True)
