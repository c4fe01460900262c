"""Settings, read once per cold start from the environment. Every one has a
default that works with the local stack (`make run`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    upstash_url: str = "http://127.0.0.1:3000/_local/upstash"
    # The token itself, or the name of an SSM SecureString that holds it (in AWS).
    upstash_token: str = ""
    upstash_token_parameter: str = ""
    # The functions' own secret (it makes tokens unforgeable), or the name of an
    # SSM SecureString that holds it. Without either, a random one per process.
    app_secret: str = ""
    app_secret_parameter: str = ""
    # What CloudFront sends in X-Origin-Verify (template.yaml); without it the
    # viewer address header is never believed.
    origin_verify_secret: str = ""
    websocket_management_url: str = "http://127.0.0.1:3000/_local/apigw"
    room_ttl_seconds: int = 600
    # Origins allowed to open a WebSocket or change state; empty: no Origin check.
    allowed_origins: tuple[str, ...] = ()
    # Per minute: rooms one client (IP address) may create, messages one participant may send.
    room_creations_per_minute: int = 20
    messages_per_minute: int = 120
    redis_timeout_seconds: float = 3.0
    max_body_bytes: int = 32_768
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        defaults = cls()
        origins = env.get("ALLOWED_ORIGINS", "")
        return cls(
            upstash_url=env.get("UPSTASH_REDIS_REST_URL", defaults.upstash_url),
            upstash_token=env.get("UPSTASH_REDIS_REST_TOKEN", defaults.upstash_token),
            upstash_token_parameter=env.get(
                "UPSTASH_REDIS_REST_TOKEN_PARAMETER", defaults.upstash_token_parameter
            ),
            app_secret=env.get("APP_SECRET", defaults.app_secret),
            app_secret_parameter=env.get("APP_SECRET_PARAMETER", defaults.app_secret_parameter),
            origin_verify_secret=env.get("ORIGIN_VERIFY_SECRET", defaults.origin_verify_secret),
            websocket_management_url=env.get(
                "WEBSOCKET_MANAGEMENT_URL", defaults.websocket_management_url
            ),
            room_ttl_seconds=int(env.get("ROOM_TTL_SECONDS", defaults.room_ttl_seconds)),
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            room_creations_per_minute=int(
                env.get("RATE_LIMIT_ROOMS_PER_MINUTE", defaults.room_creations_per_minute)
            ),
            messages_per_minute=int(
                env.get("RATE_LIMIT_MESSAGES_PER_MINUTE", defaults.messages_per_minute)
            ),
            redis_timeout_seconds=float(
                env.get("REDIS_TIMEOUT_SECONDS", defaults.redis_timeout_seconds)
            ),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", defaults.max_body_bytes)),
            log_level=env.get("LOG_LEVEL", defaults.log_level),
        )

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers always send Origin on WebSocket upgrades and cross-site writes;
        a request without one (curl, a server) is not a browser being tricked."""
        return not self.allowed_origins or origin is None or origin in self.allowed_origins
