"""Puts the local stack together on one loopback port."""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from . import redis_backend
from .http_gateway import HttpGateway
from .lambda_runtime import LambdaRuntime
from .upstash_endpoint import UpstashEndpoint
from .ws_gateway import WebSocketGateway

SITE = Path(__file__).resolve().parents[2] / "static_site"
UPSTASH_PREFIX = "/_local/upstash"
MANAGEMENT_PREFIX = "/_local/apigw"

# What CloudFront's response headers policy sends in AWS (template.yaml).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class StackConfig:
    port: int = 3000
    # Where data lives: "" embedded, "redis://..." a Redis server.
    redis_url: str = ""
    # A real Upstash database instead of the local endpoint.
    upstash_url: str = ""
    upstash_token: str = ""
    # The local Upstash endpoint's token; random unless given (tests give one).
    local_upstash_token: str = ""
    # API Gateway closes a WebSocket idle for 10 minutes (tests shorten it).
    websocket_idle_seconds: float = 600
    # The functions' secret (tokens' MACs); random unless given, so a restarted
    # stack forgets its tokens unless it is given the same one.
    app_secret: str = ""

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            port=int(os.environ.get("PORT", "3000")),
            redis_url=os.environ.get("REDIS_URL", ""),
            upstash_url=os.environ.get("UPSTASH_REDIS_REST_URL", ""),
            upstash_token=os.environ.get("UPSTASH_REDIS_REST_TOKEN", ""),
            local_upstash_token=os.environ.get("LOCAL_UPSTASH_TOKEN", ""),
            websocket_idle_seconds=float(os.environ.get("LOCAL_WS_IDLE_SECONDS", "600")),
            app_secret=os.environ.get("APP_SECRET", ""),
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage(self) -> str:
        if self.upstash_url:
            return "Upstash database"
        return f"Redis server {self.redis_url}" if self.redis_url else "embedded (fakeredis)"


def lambda_environment(config: StackConfig, upstash_token: str) -> dict[str, str]:
    """What template.yaml gives the functions in AWS, pointed at this stack."""
    uses_local_upstash = not config.upstash_url
    return {
        "UPSTASH_REDIS_REST_URL": config.origin + UPSTASH_PREFIX
        if uses_local_upstash
        else config.upstash_url,
        "UPSTASH_REDIS_REST_TOKEN": upstash_token if uses_local_upstash else config.upstash_token,
        "WEBSOCKET_MANAGEMENT_URL": config.origin + MANAGEMENT_PREFIX,
        "ALLOWED_ORIGINS": f"{config.origin},http://localhost:{config.port}",
        "APP_SECRET": config.app_secret or secrets.token_urlsafe(32),
    }


def build_app(config: StackConfig) -> web.Application:
    upstash_token = config.local_upstash_token or secrets.token_urlsafe(24)
    os.environ.update(lambda_environment(config, upstash_token))
    # The gateway signs nothing real; boto3 only needs some credentials and a region.
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    # Imported only now: the handlers read their settings at cold start.
    http_api = importlib.import_module("privochat.http_api")
    ws_api = importlib.import_module("privochat.ws_api")

    app = web.Application(client_max_size=10 * 1024 * 1024, middlewares=[_security_headers])
    runtime = LambdaRuntime()
    if not config.upstash_url:
        backend = (
            redis_backend.server(config.redis_url) if config.redis_url else redis_backend.embedded()
        )
        endpoint = UpstashEndpoint(backend, upstash_token)
        endpoint.add_routes(app, UPSTASH_PREFIX)
        app["upstash"] = endpoint
        app.on_cleanup.append(lambda _: _close(backend))
    websockets = WebSocketGateway(
        runtime,
        ws_api.on_connect,
        ws_api.on_disconnect,
        ws_api.on_default,
        idle_seconds=config.websocket_idle_seconds,
    )
    websockets.add_routes(app, "/ws", MANAGEMENT_PREFIX)
    app.on_shutdown.append(websockets.close_all)
    app.router.add_route("*", "/api/{tail:.*}", HttpGateway(runtime, http_api.handler).handle)
    app.router.add_get("/", _page("index.html"))
    app.router.add_get("/room/{room_id}", _page("room.html"))
    app.router.add_static("/", SITE)
    return app


async def _close(backend: redis_backend.RedisBackend) -> None:
    backend.close()


def _page(name: str) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    async def serve(_: web.Request) -> web.FileResponse:
        return web.FileResponse(SITE / name)

    return serve


@web.middleware
async def _security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not request.path.startswith(("/api/", "/_local/", "/ws")):
        response.headers.update(SECURITY_HEADERS)
    return response
