"""Pushing events to WebSocket connections through the API Gateway Management API:
POST and DELETE on @connections/{id}, signed with SigV4 (aws_sigv4.py) and sent with
the process's one HTTP client (no botocore: see aws_sigv4.py for why)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol
from urllib.parse import quote

import httpx

from .aws_sigv4 import Credentials, region, sign

log = logging.getLogger(__name__)

# Three attempts in all for a throttle (429), a 5xx or a connection that could not be
# made, with short jittered backoff; short timeouts keep a slow gateway from holding a
# Lambda. A read timeout is not retried: the gateway may have written the frame already
# (botocore retried it, and one push arrived three times). Every event is safe to repeat
# anyway: a message carries its id, and clients drop one they already show.
ATTEMPTS = 3
TIMEOUT = httpx.Timeout(1.0)
_RETRIED = frozenset({429, 500, 502, 503, 504})


class ConnectionApi(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool | None:
        """True when delivered, None when the connection is gone (410), False on any
        other failure."""

    def delete(self, connection_id: str) -> None:
        """Hang up (best effort)."""


class ManagementApi:
    def __init__(
        self,
        endpoint_url: str,
        http: httpx.Client,
        credentials: Credentials | None = None,
        region_name: str | None = None,
    ) -> None:
        self._endpoint = endpoint_url.rstrip("/")
        self._http = http
        self._credentials = credentials or Credentials.from_env()
        self._region = region_name or region()

    def post(self, connection_id: str, data: bytes) -> bool | None:
        status = self._request("POST", connection_id, data)
        if status == 410:
            return None
        if status is None or status >= 300:
            # The message is stored either way; the client catches up with `after`.
            log.warning("push failed: %s", status or "no answer")
            return False
        return True

    def delete(self, connection_id: str) -> None:
        status = self._request("DELETE", connection_id, b"")
        if status is None or (status >= 300 and status != 410):
            log.info("could not close connection: %s", status or "no answer")

    def _request(self, method: str, connection_id: str, data: bytes) -> int | None:
        """The final status, or None when no answer came."""
        url = f"{self._endpoint}/@connections/{quote(connection_id, safe='')}"
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)
            headers = sign(
                method,
                url,
                data,
                service="execute-api",
                region=self._region,
                credentials=self._credentials,
                headers={"Content-Type": "application/json"} if data else None,
            )
            try:
                answer = self._http.request(
                    method, url, content=data, headers=headers, timeout=TIMEOUT
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                continue
            except httpx.HTTPError as error:
                log.info("gateway request failed: %s", type(error).__name__)
                return None
            if answer.status_code not in _RETRIED:
                return answer.status_code
            if attempt == ATTEMPTS - 1:
                return answer.status_code
        return None


class ApiGatewayPusher:
    def __init__(self, api: ConnectionApi, max_parallel: int = 8) -> None:
        self._api = api
        # A room has a handful of connections; posting them in parallel keeps a
        # push as slow as the slowest connection, not the sum of them.
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="push")

    def push(self, connection_ids: Iterable[str], event: dict[str, object]) -> set[str]:
        data = json.dumps(event, separators=(",", ":")).encode()
        ids = list(connection_ids)
        if len(ids) == 1:  # no thread for the common case (a pong, one other page)
            return set(ids) if self._api.post(ids[0], data) is None else set()
        delivered = self._pool.map(lambda connection_id: self._api.post(connection_id, data), ids)
        return {
            connection_id for connection_id, ok in zip(ids, delivered, strict=True) if ok is None
        }

    def close(self, connection_ids: Iterable[str]) -> None:
        for connection_id in connection_ids:
            self._api.delete(connection_id)
