"""The shapes of the API Gateway WebSocket events and Lambda responses that the
handlers take and give (only the fields they use; API Gateway sends more)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class WebSocketRequestContext(TypedDict):
    connectionId: str
    routeKey: str
    requestId: NotRequired[str]
    domainName: NotRequired[str]
    stage: NotRequired[str]


class WebSocketEvent(TypedDict):
    requestContext: WebSocketRequestContext
    headers: NotRequired[dict[str, str]]
    queryStringParameters: NotRequired[dict[str, str] | None]
    body: NotRequired[str | None]
    isBase64Encoded: NotRequired[bool]


class LambdaResponse(TypedDict):
    statusCode: int
    body: NotRequired[str]
