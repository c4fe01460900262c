"""Structured logs: one JSON line per request or WebSocket event.

Only the fields named here are ever logged: never a token, a cookie or message text.
"""

from __future__ import annotations

import json
import sys
import time


def log_event(
    *,
    kind: str,
    request_id: str,
    route: str,
    status: int,
    started: float,
    error: str | None = None,
) -> None:
    record = {
        "kind": kind,
        "requestId": request_id,
        "route": route,
        "status": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        record["error"] = error
    print(json.dumps(record), file=sys.stdout, flush=True)
