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
    connection_id: str | None = None,
) -> None:
    record: dict[str, object] = {
        "kind": kind,
        "requestId": request_id,
        "route": route,
        "status": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
    }
    if connection_id is not None:
        record["connectionId"] = connection_id
    print(json.dumps(record), file=sys.stdout, flush=True)
