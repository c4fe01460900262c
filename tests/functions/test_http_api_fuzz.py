"""Fuzzing the HTTP API from its own OpenAPI document: whatever a client sends,
no 5xx, and every answer matches the documented schema."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from privochat.domain import Limit
from privochat.http_api import chat_service, create_app
from privochat.service import ChatService, Limits
from tests.fakes import InMemoryRoomStore, RecordingPusher

app = create_app()
# The default limits of a deployment (config.py).
LIMITS = Limits(room_creations=Limit(20, 60), messages=Limit(120, 60))
app.dependency_overrides[chat_service] = lambda: ChatService(
    InMemoryRoomStore(), RecordingPusher(), room_ttl_seconds=600, limits=LIMITS
)
config = SchemathesisConfig.from_path(str(Path(__file__).with_name("schemathesis.toml")))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api_or_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
