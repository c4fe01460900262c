"""How AWS gets its secrets: the Upstash token and the app secret from SSM
SecureStrings, read together once per cold start (a signed GetParameters, answered
in-process by tests/support/fake_aws.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from devkit.credentials import VERIFIER
from devkit.events import http_event
from privochat import wiring
from privochat.config import Settings
from privochat.domain import Limit
from privochat.service import ChatService, Limits
from tests.fakes import LuaRoomStore, RecordingPusher
from tests.support.fake_aws import CREDENTIALS, FakeAws
from tests.support.rooms import SECRET


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    for name, value in {**CREDENTIALS, "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSM", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return FakeAws()


def _put(ssm: FakeAws, name: str, value: str) -> None:
    ssm.parameters[name] = value


def test_both_secrets_come_from_their_secure_strings(ssm: FakeAws) -> None:
    _put(ssm, "/privochat/upstash-token", "upstash-token-value")
    _put(ssm, "/privochat/app-secret", "app-secret-value")
    settings = Settings(
        upstash_token_parameter="/privochat/upstash-token",
        app_secret_parameter="/privochat/app-secret",
    )
    assert wiring._secrets(settings, ssm.client()) == ("upstash-token-value", b"app-secret-value")
    assert ssm.ssm_requests == 1, "both in one request"


def test_values_in_the_environment_win_and_ssm_is_not_asked(ssm: FakeAws) -> None:
    settings = Settings(
        upstash_token="from-env",
        upstash_token_parameter="/privochat/missing",
        app_secret="also-from-env",
        app_secret_parameter="/privochat/missing-too",
    )
    assert wiring._secrets(settings, ssm.client()) == ("from-env", b"also-from-env")
    assert ssm.ssm_requests == 0


def test_a_missing_parameter_is_a_clear_error_at_cold_start(ssm: FakeAws) -> None:
    _put(ssm, "/privochat/upstash-token", "upstash-token-value")
    settings = Settings(
        upstash_token_parameter="/privochat/upstash-token",
        app_secret_parameter="/privochat/app-secret",
    )
    with pytest.raises(RuntimeError, match="/privochat/app-secret"):
        wiring._secrets(settings, ssm.client())


def test_without_any_app_secret_a_random_one_is_used(ssm: FakeAws) -> None:
    first = wiring._secrets(Settings(), ssm.client())[1]
    assert len(first) >= 32 and first != wiring._secrets(Settings(), ssm.client())[1]


def test_importing_the_handlers_reads_no_setting() -> None:
    """Settings are read at the first request, never at import: a tool or a test
    can import the handlers and then configure them (this import used to fail)."""
    broken = {"MAX_BODY_BYTES": "not a number", "ROOM_TTL_SECONDS": "nor this"}
    imported = subprocess.run(
        [sys.executable, "-c", "import privochat.http_api, privochat.ws_api"],
        env={**os.environ, **broken},
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr


def test_the_http_api_answers_with_the_settings_it_is_configured_with(
    lambda_event_loop: None,
) -> None:
    """configure() is the one way in: the body limit (read once, when the app was
    built, before) follows the configured settings from the next request on."""
    from privochat import http_api

    handler: Any = http_api.handler

    limits = Limits(room_creations=Limit(20, 60), messages=Limit(120, 60))
    chat = ChatService(LuaRoomStore(), RecordingPusher(), 600, limits, SECRET)
    body = {"verifier": VERIFIER, "padding": "x" * 200}
    try:
        wiring.configure(Settings(), service=chat)
        assert handler(http_event("POST", "/api/room/create", body=body), None)["statusCode"] == 200
        wiring.configure(Settings(max_body_bytes=100), service=chat)
        refused = handler(http_event("POST", "/api/room/create", body=body), None)
        assert refused["statusCode"] == 413
        assert json.loads(refused["body"])["error"] == "payload-too-large"
    finally:
        wiring.configure()
