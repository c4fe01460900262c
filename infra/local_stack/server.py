"""Puts the local stack together on one loopback port."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestHandler
from botocore.credentials import ReadOnlyCredentials

from privochat.config import Settings, SettingsError

from . import redis_backend
from .cloudfront import LOCAL_SECURITY_HEADERS
from .faults import Faults
from .http_gateway import HttpGateway
from .lambda_runtime import TIMEOUT_SECONDS, Function, LambdaRuntime, ThreadRuntime
from .lambda_workers import ProcessRuntime, default_workers
from .sigv4 import SigV4Verifier
from .upstash_endpoint import UpstashEndpoint
from .ws_gateway import WebSocketGateway

log = logging.getLogger(__name__)

SITE = Path(__file__).resolve().parents[2] / "static_site"
UPSTASH_PREFIX = "/_local/upstash"
MANAGEMENT_PREFIX = "/_local/apigw"
FAULTS_PATH = "/_local/faults"
# The functions of template.yaml, by their handlers.
HTTP_API = Function("http-api", "privochat.http_api.handler")
ON_CONNECT = Function("$connect", "privochat.ws_api.on_connect")
ON_DISCONNECT = Function("$disconnect", "privochat.ws_api.on_disconnect")
ON_DEFAULT = Function("$default", "privochat.ws_api.on_default")
FUNCTIONS = [HTTP_API, ON_CONNECT, ON_DISCONNECT, ON_DEFAULT]
# The largest request body API Gateway takes (10 MB); the app's own limit is lower.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# Error codes of the refusals the stack itself answers (the app's are in
# functions/privochat/errors.py).
_CODES = {
    400: "bad-request",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    421: "misdirected-request",
    500: "internal",
}
_MESSAGES = {
    400: "The request could not be parsed.",
    404: "There is nothing here.",
    413: f"The request body is larger than {MAX_REQUEST_BYTES // (1024 * 1024)} MiB.",
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
    # What this stack, as CloudFront, sends both APIs in X-Origin-Verify; random
    # unless given.
    origin_verify_secret: str = ""
    # Lambda's execution environments: at most this many worker processes, each
    # running one invocation at a time; 0 runs every invocation in a thread of
    # the stack's own process instead (one GIL for all, but breakpoints work).
    lambda_workers: int = -1  # -1: default_workers()
    # Every function's timeout (template.yaml's); tests shorten it.
    lambda_timeout_seconds: float = TIMEOUT_SECONDS
    # Where it listens besides 127.0.0.1: only what LOCAL_EXTRA_BIND_ADDRESSES names, such
    # as Docker's bridge gateway for `sam local` on Linux (README).
    extra_bind_addresses: tuple[str, ...] = ()

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
            origin_verify_secret=os.environ.get("ORIGIN_VERIFY_SECRET", ""),
            lambda_workers=int(os.environ.get("LOCAL_LAMBDA_WORKERS") or -1),
            lambda_timeout_seconds=float(
                os.environ.get("LOCAL_LAMBDA_TIMEOUT_SECONDS") or TIMEOUT_SECONDS
            ),
            extra_bind_addresses=extra_bind_addresses(
                os.environ.get("LOCAL_EXTRA_BIND_ADDRESSES", "")
            ),
        )

    @property
    def bind_addresses(self) -> tuple[str, ...]:
        """Every address the stack listens on: 127.0.0.1 (the browser, and the
        functions' calls to the stack) and the extra ones asked for."""
        return ("127.0.0.1", *(a for a in self.extra_bind_addresses if a != "127.0.0.1"))

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage(self) -> str:
        if self.upstash_url:
            return "Upstash database"
        return f"Redis server {self.redis_url}" if self.redis_url else "embedded (fakeredis)"

    @property
    def workers(self) -> int:
        return default_workers() if self.lambda_workers < 0 else self.lambda_workers

    @property
    def lambdas(self) -> str:
        if self.workers == 0:
            return "in threads of this process"
        return f"in up to {self.workers} worker processes"


def extra_bind_addresses(value: str) -> tuple[str, ...]:
    """LOCAL_EXTRA_BIND_ADDRESSES: comma-separated IP addresses of this machine to listen on
    too. Not an address of every interface (0.0.0.0, ::): the stack would be open to the
    whole network. Requests through them pass the same Host check (own_hosts)."""
    addresses = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            address = ipaddress.ip_address(item)
        except ValueError:
            raise SettingsError(
                f"LOCAL_EXTRA_BIND_ADDRESSES takes IP addresses, not {item!r}"
            ) from None
        if address.is_unspecified:
            raise SettingsError(
                f"LOCAL_EXTRA_BIND_ADDRESSES: {item} would listen on every interface; "
                "name the one address to add (Docker's bridge gateway, say)"
            )
        addresses.append(str(address))
    return tuple(addresses)


def lambda_environment(
    config: StackConfig, upstash_token: str, origin_secret: str
) -> dict[str, str]:
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
        "ORIGIN_VERIFY_SECRET": origin_secret,
    }


def build_app(config: StackConfig) -> web.Application:
    upstash_token = config.local_upstash_token or secrets.token_urlsafe(24)
    origin_secret = config.origin_verify_secret or secrets.token_urlsafe(24)
    # What each function's environment holds, as in AWS: this process's own (PATH,
    # PYTHONPATH, the user's AWS credentials if any) and template.yaml's settings.
    # The stack's own environment is left alone.
    environment = {
        # Credentials for the handlers' botocore (unless the user has some): the
        # Management API below takes only requests signed with them, as AWS does with IAM.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        **os.environ,
        **lambda_environment(config, upstash_token, origin_secret),
    }
    # A setting the functions cannot use stops the stack here, naming its variable,
    # instead of failing every request (in AWS it fails each cold start's first).
    Settings.from_env(environment)
    credentials = ReadOnlyCredentials(
        environment["AWS_ACCESS_KEY_ID"],
        environment["AWS_SECRET_ACCESS_KEY"],
        environment.get("AWS_SESSION_TOKEN"),
    )
    runtime: LambdaRuntime = (
        ProcessRuntime(
            FUNCTIONS, environment, config.workers, timeout_seconds=config.lambda_timeout_seconds
        )
        if config.workers > 0
        else ThreadRuntime(FUNCTIONS, environment, timeout_seconds=config.lambda_timeout_seconds)
    )

    # Chaos runs inject faults here (faults.py), with the local Upstash token.
    faults = Faults(upstash_token, runtime)
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES,
        middlewares=[
            _own_hosts_only(config.port),
            faults.middleware(UPSTASH_PREFIX, MANAGEMENT_PREFIX),
            _security_headers,
            _refusals_as_json,
        ],
    )
    faults.add_routes(app, FAULTS_PATH)
    app.on_response_prepare.append(_no_server_header)
    app.on_startup.append(lambda _: runtime.start())
    # After the server's shutdown, so after the last `$disconnect`.
    app.on_cleanup.append(lambda _: runtime.close())
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
        ON_CONNECT,
        ON_DISCONNECT,
        ON_DEFAULT,
        SigV4Verifier(credentials),
        origin_secret,
        idle_seconds=config.websocket_idle_seconds,
    )
    websockets.add_routes(app, "/ws", MANAGEMENT_PREFIX)
    app.on_shutdown.append(websockets.close_all)
    app.router.add_route(
        "*", "/api/{tail:.*}", HttpGateway(runtime, HTTP_API, origin_secret).handle
    )
    app.router.add_get("/config.json", _site_config)
    app.router.add_get("/", _page("index.html"))
    app.router.add_get("/room/{room_id}", _page("room.html"))
    app.router.add_get("/{path:.+}", _site_file)
    return app


async def _close(backend: redis_backend.RedisBackend) -> None:
    backend.close()


async def _site_config(request: web.Request) -> web.Response:
    """/config.json as infra/publish_site.py writes it for a deployed site: the API on this
    origin, the WebSocket at /ws of it (a page that asks gets an answer, not a 404)."""
    return web.json_response({"wsUrl": f"ws://{request.host}/ws"})


async def _site_file(request: web.Request) -> web.FileResponse:
    """A file of the site, as S3 has it: no directory listings, nothing outside."""
    path = (SITE / request.match_info["path"]).resolve()
    if not path.is_relative_to(SITE.resolve()) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def _page(name: str) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    async def serve(_: web.Request) -> web.FileResponse:
        return web.FileResponse(SITE / name)

    return serve


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def own_hosts(port: int) -> frozenset[str]:
    """The `Host` values this stack answers: its loopback names (a page of another
    name that resolves to 127.0.0.1, as DNS rebinding does, gets nothing), and the
    name Docker gives the host, for `sam local` (README)."""
    names = ("127.0.0.1", "localhost", "[::1]", "host.docker.internal")
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= set(names)
    return frozenset(hosts)


def _own_hosts_only(port: int) -> Middleware:
    allowed = own_hosts(port)

    @web.middleware
    async def check(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.headers.get(hdrs.HOST, "").lower() not in allowed:
            return _json_error(421, "This server answers only for its own address.")
        return await handler(request)

    return check


def _is_site(path: str) -> bool:
    """What CloudFront serves from the site's bucket (the rest goes to the APIs)."""
    return not (path.startswith(("/api/", "/_local/")) or path == "/ws")


@web.middleware
async def _security_headers(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """CloudFront's response headers policy: on the site and on /api/* (template.yaml)."""
    response = await handler(request)
    if _is_site(request.path) or request.path.startswith("/api/"):
        response.headers.update(LOCAL_SECURITY_HEADERS)
    return response


@web.middleware
async def _refusals_as_json(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """aiohttp's own refusals (404, 405, 413, ...) and a crash of the stack's own
    code as the one JSON error body; an unknown file of the site as its 404 page."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        if error.status == 404 and _is_site(request.path):
            return web.FileResponse(SITE / "404.html", status=404)
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return _json_error(error.status, _MESSAGES.get(error.status, error.reason), headers)
    except Exception:
        if request.path == "/ws":
            raise  # the upgrade may have been sent: nothing else can be
        log.exception("local stack error")
        return _json_error(500, "The local stack failed; its log says why.")


def _json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    code = _CODES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "-")
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


async def _no_server_header(_: web.Request, response: web.StreamResponse) -> None:
    """aiohttp names itself and Python's version in `Server`; say nothing."""
    response.headers.popall(hdrs.SERVER, None)


class _Connection(RequestHandler):
    """aiohttp's HTTP connection, but what it refuses by itself (a request it cannot
    parse: a malformed or oversized header line, say a Cookie) is the stack's JSON
    error, and its log line names the error's kind only: aiohttp's quotes the raw
    line, token and all, in a traceback and in its text/plain answer."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status == 500:
            self.log_exception("local stack error", exc_info=exc)  # a bug of the stack
        else:
            log.info("refused an unparsable request (%d, %s)", status, type(exc).__name__)
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was being sent already")
        refusal = _json_error(status, _MESSAGES.get(status) or HTTPStatus(status).phrase)
        # No app's on_response_prepare runs for these: _Anonymous drops `Server`.
        response = _Anonymous(status=status, body=refusal.body, headers=refusal.headers)
        response.force_close()
        return response


class _Anonymous(web.Response):
    """An answer that names no server software without _no_server_header."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.popall(hdrs.SERVER, None)


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class StackRunner(web.AppRunner):
    """aiohttp's runner, with the stack's own HTTP connections (_Connection)."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )


def run(app: web.Application, addresses: Iterable[str], port: int) -> None:
    """Serves `app` on each address at `port` until SIGINT or SIGTERM, as web.run_app
    does, with the StackRunner."""

    async def serve() -> None:
        runner = StackRunner(app, access_log=None, handle_signals=True)
        await runner.setup()
        try:
            for address in addresses:
                await web.TCPSite(runner, address, port).start()
            await asyncio.Event().wait()  # the signal handlers raise GracefulExit
        finally:
            await runner.cleanup()

    with suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(serve())
