"""Settings, read once per cold start from the environment. Every one has a
default that works with the local stack (`make run`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A variable of the environment holds a value the functions cannot use."""


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
        """The settings the environment gives (README, "Settings"); a value that
        cannot be used is a SettingsError naming its variable, not a stray
        ValueError at some later request."""
        defaults = cls()
        settings = replace(
            defaults,
            **{
                field: _parse(variable, env[variable], getattr(defaults, field))
                for variable, field in ENVIRONMENT.items()
                if variable in env
            },
        )
        if settings.log_level not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {settings.log_level!r}"
            )
        return settings

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers always send Origin on WebSocket upgrades and cross-site writes;
        a request without one (curl, a server) is not a browser being tricked."""
        return not self.allowed_origins or origin is None or origin in self.allowed_origins


# Each environment variable and the setting it gives; the README's table lists the same.
ENVIRONMENT = {
    "UPSTASH_REDIS_REST_URL": "upstash_url",
    "UPSTASH_REDIS_REST_TOKEN": "upstash_token",
    "UPSTASH_REDIS_REST_TOKEN_PARAMETER": "upstash_token_parameter",
    "APP_SECRET": "app_secret",
    "APP_SECRET_PARAMETER": "app_secret_parameter",
    "ORIGIN_VERIFY_SECRET": "origin_verify_secret",
    "WEBSOCKET_MANAGEMENT_URL": "websocket_management_url",
    "ROOM_TTL_SECONDS": "room_ttl_seconds",
    "ALLOWED_ORIGINS": "allowed_origins",
    "RATE_LIMIT_ROOMS_PER_MINUTE": "room_creations_per_minute",
    "RATE_LIMIT_MESSAGES_PER_MINUTE": "messages_per_minute",
    "REDIS_TIMEOUT_SECONDS": "redis_timeout_seconds",
    "MAX_BODY_BYTES": "max_body_bytes",
    "LOG_LEVEL": "log_level",
}


def _parse(variable: str, value: str, default: object) -> Any:
    """`value` as the type of the setting's default; numbers must be above zero."""
    if isinstance(default, tuple):  # comma-separated, blanks ignored
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(default, int | float):
        kind = type(default)
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if not number > 0:
            what = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{variable} must be {what} above 0, not {value!r}")
        return number
    return value
