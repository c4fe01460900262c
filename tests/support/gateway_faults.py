"""Faults that moto's API Gateway Management API never produces (410 Gone,
429 throttling, 500), injected below botocore's parsing and retry logic."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse

_ERROR_TYPES = {410: "GoneException", 429: "LimitExceededException", 500: "InternalServerError"}


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def inject_faults(client: Any, status_for: Callable[[str], int | None]) -> list[str]:
    """Before each request leaves, `status_for(connection_id)` may answer with an
    error status instead; returns the list of connection IDs that were attempted.
    (moto still records every attempt's data: botocore runs all before-send hooks.)"""
    attempts: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        connection_id = unquote(request.url.rsplit("/@connections/", 1)[1])
        attempts.append(connection_id)
        status = status_for(connection_id)
        if status is None:
            return None
        headers = {"x-amzn-ErrorType": _ERROR_TYPES[status], "Content-Type": "application/json"}
        body = _Raw(b'{"message": "injected"}')
        # botocore takes any mapping of headers here, whatever its stubs say.
        return AWSResponse(request.url, status, headers, body)  # type: ignore[arg-type]

    client.meta.events.register_first("before-send.apigatewaymanagementapi", before_send)
    return attempts


def record_requests(client: Any) -> list[tuple[str, str, bytes]]:
    """Records (method, connection ID, body) of every Management API request,
    including posts to connections that are deleted afterwards (moto then
    forgets their data)."""
    seen: list[tuple[str, str, bytes]] = []

    def before_send(request: Any, **_: Any) -> None:
        connection_id = unquote(request.url.rsplit("/@connections/", 1)[1])
        seen.append((request.method, connection_id, bytes(request.body or b"")))

    client.meta.events.register_first("before-send.apigatewaymanagementapi", before_send)
    return seen
