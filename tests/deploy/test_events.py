"""The sample events in events/ drive their handlers, in-process, as `sam local invoke
--env-vars events/env.json` would run them, against the project's local stack (its
Upstash endpoint and Management API) started with the token env.json names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from devkit.credentials import PROOF, VERIFIER
from devkit.servers import local_stack
from tests.deploy.sam_templates import ROOT, TEMPLATE, load_template

EVENTS = ROOT / "events"
ENV_JSON = json.loads((EVENTS / "env.json").read_text())["Parameters"]
DOCKER_HOST_ORIGIN = "http://host.docker.internal:3000"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.fixture(scope="module")
def stack_url() -> Iterator[str]:
    # The same app secret as env.json's: the stack mints the tokens the handlers check.
    with local_stack(
        LOCAL_UPSTASH_TOKEN=ENV_JSON["UPSTASH_REDIS_REST_TOKEN"],
        APP_SECRET=ENV_JSON["APP_SECRET"],
        LOG_LEVEL="WARNING",
    ) as stack:
        yield stack.origin


@pytest.fixture
def handlers(
    stack_url: str, monkeypatch: pytest.MonkeyPatch, lambda_event_loop: None
) -> Iterator[tuple[ModuleType, ModuleType]]:
    """The handlers with env.json's settings, its Docker host name pointed at the stack."""
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    from privochat import http_api, wiring, ws_api
    from privochat.config import Settings

    environment = {
        name: value.replace(DOCKER_HOST_ORIGIN, stack_url) for name, value in ENV_JSON.items()
    }
    wiring.configure(Settings.from_env(environment))
    yield http_api, ws_api
    wiring.configure()


@pytest.fixture
def participant(stack_url: str) -> tuple[str, str]:
    """A room with one participant: (roomId, cookie value)."""
    with httpx.Client(base_url=stack_url, timeout=5) as client:
        room_id = client.post("/api/room/create", json={"verifier": VERIFIER}).json()["roomId"]
        joined = client.post("/api/room/join", params={"roomId": room_id}, json={"proof": PROOF})
        assert joined.status_code == 200, joined.text
        return room_id, joined.cookies["x-auth-token"]


def test_env_json_declares_only_settings_the_template_declares() -> None:
    template_env = load_template(TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert set(ENV_JSON) <= set(template_env)  # sam local passes nothing else
    # no SSM locally: the values themselves
    assert ENV_JSON["UPSTASH_REDIS_REST_TOKEN_PARAMETER"] == ""
    assert ENV_JSON["APP_SECRET_PARAMETER"] == ""
    assert ENV_JSON["APP_SECRET"]


def test_connect_event_as_shipped_is_refused_without_a_participants_cookie(
    handlers: tuple[ModuleType, ModuleType],
) -> None:
    _, ws_api = handlers
    assert ws_api.on_connect(event("connect.json"))["statusCode"] == 401


def test_connect_default_disconnect_events_drive_a_connection_through_a_room(
    handlers: tuple[ModuleType, ModuleType], participant: tuple[str, str]
) -> None:
    _, ws_api = handlers
    room_id, cookie = participant
    connect = event("connect.json")
    connect["queryStringParameters"]["roomId"] = room_id
    connect["headers"]["Cookie"] = f"x-auth-token={cookie}"
    assert ws_api.on_connect(connect) == {"statusCode": 200}
    assert ws_api.on_default(event("default-ping.json")) == {"statusCode": 200}
    assert ws_api.on_disconnect(event("disconnect.json")) == {"statusCode": 200}
    # the connection is gone: a ping on it now finds no room
    assert ws_api.on_default(event("default-ping.json"))["statusCode"] == 410


def test_events_share_one_connection_and_api() -> None:
    contexts = [
        event(n)["requestContext"] for n in ("connect.json", "default-ping.json", "disconnect.json")
    ]
    assert {c["connectionId"] for c in contexts} == {"Cb1sQdHRoAMCJxQ="}
    assert [c["eventType"] for c in contexts] == ["CONNECT", "MESSAGE", "DISCONNECT"]
    assert [c["routeKey"] for c in contexts] == ["$connect", "$default", "$disconnect"]


def test_http_create_room_event_creates_a_room(handlers: tuple[ModuleType, ModuleType]) -> None:
    http_api, _ = handlers
    response = http_api.handler(event("http-create-room.json"), None)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["ttl"] == int(ENV_JSON["ROOM_TTL_SECONDS"])


@pytest.mark.parametrize("name", sorted(p.name for p in Path(EVENTS).glob("*.json")))
def test_every_event_file_is_json(name: str) -> None:
    assert isinstance(event(name), dict)
