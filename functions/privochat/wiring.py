"""The composition root: the settings and the chat service every handler uses.

One way in: in Lambda nothing calls `configure`, and the first request of a cold
start reads the environment (config.py) and builds the service; tests and tools
call `configure` with settings of their own, or with a ready service (on fakes).
Nothing is read at import time."""

from __future__ import annotations

import functools
import logging
import secrets
from typing import TYPE_CHECKING, cast

import botocore.session

from . import logs
from .config import Settings
from .domain import Limit
from .pusher_apigw import ApiGatewayPusher, management_client
from .scripts import connect_upstash
from .service import ChatService, Limits
from .store_upstash import UpstashRoomStore

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


_settings: Settings | None = None
_service: ChatService | None = None


def configure(settings: Settings | None = None, service: ChatService | None = None) -> None:
    """What the handlers run with from now on: these settings (None: the
    environment's, read at the next request) and this service (None: built from
    the settings at the next request). Forgets whatever was built before."""
    global _settings, _service
    _settings, _service = settings, service
    aws_session.cache_clear()
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
    for noisy in ("httpx", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@functools.cache
def aws_session() -> botocore.session.Session:
    """One botocore session per cold start for both clients (SSM, Management API):
    its loader reads endpoints.json, partitions.json and the defaults once, not twice."""
    return botocore.session.get_session()


def _secrets(config: Settings) -> tuple[str, bytes]:
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
        ssm = cast("SSMClient", aws_session().create_client("ssm"))
        answer = ssm.get_parameters(Names=sorted(set(wanted.values())), WithDecryption=True)
        values = {each["Name"]: each["Value"] for each in answer["Parameters"]}
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
    upstash_token, app_secret = _secrets(config)
    redis = connect_upstash(config.upstash_url, upstash_token, config.redis_timeout_seconds)
    pusher = ApiGatewayPusher(management_client(config.websocket_management_url, aws_session()))
    limits = Limits(
        room_creations=Limit(config.room_creations_per_minute, 60),
        messages=Limit(config.messages_per_minute, 60),
    )
    return ChatService(UpstashRoomStore(redis), pusher, config.room_ttl_seconds, limits, app_secret)
