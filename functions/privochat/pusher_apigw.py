"""Pushing events to WebSocket connections through the API Gateway Management API."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

log = logging.getLogger(__name__)

# Throttling (429), 5xx and timeouts are retried by botocore's standard mode with
# backoff, three attempts in all; short timeouts keep a slow gateway from holding
# a Lambda. A retried post may arrive twice: every event is safe to repeat (a
# message carries its id, and clients drop one they already show).
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=1,
)


def management_client(
    endpoint_url: str, session: botocore.session.Session | None = None
) -> ApiGatewayManagementApiClient:
    # botocore directly: boto3 would add ~15 ms of imports to each cold start.
    client = (session or botocore.session.get_session()).create_client(
        "apigatewaymanagementapi", endpoint_url=endpoint_url, config=_CLIENT_CONFIG
    )
    return cast("ApiGatewayManagementApiClient", client)


class ApiGatewayPusher:
    def __init__(self, client: ApiGatewayManagementApiClient, max_parallel: int = 8) -> None:
        self._client = client
        # A room has a handful of connections; posting them in parallel keeps a
        # push as slow as the slowest connection, not the sum of them.
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="push")

    def push(self, connection_ids: Iterable[str], event: dict[str, object]) -> set[str]:
        data = json.dumps(event, separators=(",", ":")).encode()
        ids = list(connection_ids)
        delivered = self._pool.map(lambda connection_id: self._post(connection_id, data), ids)
        return {
            connection_id for connection_id, ok in zip(ids, delivered, strict=True) if ok is None
        }

    def close(self, connection_ids: Iterable[str]) -> None:
        for connection_id in connection_ids:
            try:
                self._client.delete_connection(ConnectionId=connection_id)
            except (ClientError, BotoCoreError) as error:
                log.info("could not close connection: %s", type(error).__name__)

    def _post(self, connection_id: str, data: bytes) -> bool | None:
        """True when delivered, None when the connection is gone, False on any other failure."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
            return True
        except self._client.exceptions.GoneException:
            return None
        except (ClientError, BotoCoreError) as error:
            # The message is stored either way; the client catches up with `after`.
            log.warning("push failed: %s", type(error).__name__)
            return False
