"""Builds the chat service from the settings, once per cold start."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, cast

import botocore.session

from .config import Settings
from .domain import Limit
from .pusher_apigw import ApiGatewayPusher, management_client
from .service import ChatService, Limits
from .store_upstash import UpstashRoomStore, connect_upstash

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


@functools.cache
def settings() -> Settings:
    loaded = Settings.from_env()
    logging.getLogger().setLevel(loaded.log_level)
    # Client libraries log every request at INFO; our own line per event is enough.
    for noisy in ("httpx", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return loaded


def _upstash_token(config: Settings) -> str:
    if config.upstash_token or not config.upstash_token_parameter:
        return config.upstash_token
    ssm = cast("SSMClient", botocore.session.get_session().create_client("ssm"))
    parameter = ssm.get_parameter(Name=config.upstash_token_parameter, WithDecryption=True)
    return str(parameter["Parameter"]["Value"])


@functools.cache
def service() -> ChatService:
    config = settings()
    redis = connect_upstash(
        config.upstash_url, _upstash_token(config), config.redis_timeout_seconds
    )
    pusher = ApiGatewayPusher(management_client(config.websocket_management_url))
    limits = Limits(
        room_creations=Limit(config.room_creations_per_minute, 60),
        messages=Limit(config.messages_per_minute, 60),
    )
    return ChatService(UpstashRoomStore(redis), pusher, config.room_ttl_seconds, limits)


def reset() -> None:
    """Forget the cached settings and service (tests change the environment)."""
    settings.cache_clear()
    service.cache_clear()
