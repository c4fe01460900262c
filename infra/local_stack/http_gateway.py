"""API Gateway HTTP API (payload format 2.0) in front of a Lambda handler."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from .cloudfront import origin_headers
from .lambda_runtime import Function, LambdaRuntime

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def _as_text(body: bytes, content_type: str) -> str | None:
    """The body as text when it is text: a text type and valid UTF-8. Anything
    else API Gateway passes base64-encoded (`isBase64Encoded`), never decoded."""
    if not content_type.startswith(_TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _unicode(value: str) -> str:
    """A header as a JSON string can hold it: aiohttp keeps bytes that are not UTF-8
    as lone surrogates (Mangum then crashed on them: a 500 for a client's bytes);
    here they become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def http_event(request: web.Request, body: bytes, origin_secret: str) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, raw_value in origin_headers(request, origin_secret).items():
        name, value = name.lower(), _unicode(raw_value)
        if name != "cookie":
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    # API Gateway appends the address it saw to X-Forwarded-For and sets the rest.
    peer = request.remote or "127.0.0.1"
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {peer}" if forwarded else peer
    headers["x-forwarded-proto"] = request.scheme
    query: dict[str, str] = {}
    for name, value in request.query.items():
        query[name] = f"{query[name]},{value}" if name in query else value
    cookies = [
        part.strip()
        for header in request.headers.getall("Cookie", [])
        for part in _unicode(header).split(";")
        if part.strip()
    ]
    text = _as_text(body, request.headers.get("Content-Type", "")) if body else ""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


def http_response(result: dict[str, Any]) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in (result.get("headers") or {}).items():
        headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers.pop("Content-Length", None)
    return web.Response(status=int(result.get("statusCode", 200)), body=raw, headers=headers)


class HttpGateway:
    def __init__(self, runtime: LambdaRuntime, function: Function, origin_secret: str) -> None:
        self._runtime = runtime
        self._function = function
        self._origin_secret = origin_secret

    async def handle(self, request: web.Request) -> web.Response:
        event = http_event(request, await request.read(), self._origin_secret)
        return http_response(await self._runtime.invoke(self._function, event))
