"""The composition root: the settings and the chat service every handler uses.

One way in: in Lambda nothing calls `configure`, and the first request of a cold
start reads the environment (config.py) and builds the service; tests and tools
call `configure` with settings of their own, or with a ready service (on fakes).
Nothing is read at import time."""

from __future__ import annotations

import json
import logging
import os
import secrets

import httpx

from . import logs
from .aws_sigv4 import Credentials, region, sign
from .config import Settings
from .domain import Limit
from .pusher_apigw import ApiGatewayPusher, ManagementApi
from .scripts import connect_upstash
from .service import ChatService, Limits
from .store_upstash import UpstashRoomStore

_settings: Settings | None = None
_service: ChatService | None = None
_http: httpx.Client | None = None


def configure(
    settings: Settings | None = None,
    service: ChatService | None = None,
    http: httpx.Client | None = None,
) -> None:
    """What the handlers run with from now on: these settings (None: the
    environment's, read at the next request), this service (None: built from
    the settings at the next request) and this HTTP client for Upstash and AWS
    (None: one made at the next request). Forgets whatever was built before."""
    global _settings, _service, _http
    _settings, _service, _http = settings, service, http
    if settings is not None:
        _quiet_logs(settings)


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
        _quiet_logs(_settings)
    return _settings


def _quiet_logs(config: Settings) -> None:
    logs.configure(config.log_level)
    # Client libraries log every request at INFO; our own line per event is enough.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def http_client(config: Settings) -> httpx.Client:
    """The process's one HTTP client (and so one SSL context: each costs tens of ms of a
    cold start) for Upstash, SSM and the Management API; each AWS call sets its own timeout."""
    global _http
    if _http is None:
        _http = httpx.Client(timeout=httpx.Timeout(config.redis_timeout_seconds))
    return _http


def _ssm_parameters(http: httpx.Client, names: list[str]) -> dict[str, str]:
    """SSM GetParameters (decrypted), signed with the function's own credentials."""
    place = region()
    url = (
        os.environ.get("AWS_ENDPOINT_URL_SSM")
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"https://ssm.{place}.amazonaws.com"
    ).rstrip("/") + "/"
    body = json.dumps({"Names": names, "WithDecryption": True}).encode()
    headers = sign(
        "POST",
        url,
        body,
        service="ssm",
        region=place,
        credentials=Credentials.from_env(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonSSM.GetParameters",
        },
    )
    answer = http.post(url, content=body, headers=headers, timeout=httpx.Timeout(5.0))
    if answer.status_code != 200:
        raise RuntimeError(f"SSM GetParameters answered {answer.status_code}: {answer.text[:200]}")
    return {each["Name"]: each["Value"] for each in answer.json().get("Parameters", [])}


def _secrets(config: Settings, http: httpx.Client) -> tuple[str, bytes]:
    """The Upstash token and the app secret: from the environment, else from SSM
    (both in one request, once per cold start)."""
    wanted = {
        name: parameter
        for name, value, parameter in (
            ("upstash", config.upstash_token, config.upstash_token_parameter),
            ("app", config.app_secret, config.app_secret_parameter),
        )
        if not value and parameter
    }
    found: dict[str, str] = {}
    if wanted:
        values = _ssm_parameters(http, sorted(set(wanted.values())))
        missing = set(wanted.values()) - values.keys()
        if missing:
            raise RuntimeError(f"SSM parameters not found: {sorted(missing)}")
        found = {name: values[parameter] for name, parameter in wanted.items()}
    app_secret = config.app_secret or found.get("app", "")
    if not app_secret:
        logging.getLogger(__name__).warning(
            "no APP_SECRET: using a random one, so tokens end with this process"
        )
        app_secret = secrets.token_urlsafe(32)
    return config.upstash_token or found.get("upstash", ""), app_secret.encode()


def service() -> ChatService:
    global _service
    if _service is None:
        _service = _build(settings())
    return _service


def _build(config: Settings) -> ChatService:
    http = http_client(config)
    upstash_token, app_secret = _secrets(config, http)
    redis = connect_upstash(config.upstash_url, upstash_token, config.redis_timeout_seconds, http)
    pusher = ApiGatewayPusher(ManagementApi(config.websocket_management_url, http))
    limits = Limits(
        room_creations=Limit(config.room_creations_per_minute, 60),
        messages=Limit(config.messages_per_minute, 60),
    )
    return ChatService(UpstashRoomStore(redis), pusher, config.room_ttl_seconds, limits, app_secret)
