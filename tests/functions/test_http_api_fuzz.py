"""Fuzzing the HTTP API from its own OpenAPI document: whatever a client sends,
no 5xx, and every answer matches the documented schema. Half the cases are
aimed at a real room with a participant's cookie (the store persists across
cases), so the success paths are fuzzed too, not only the refusals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.config import SchemathesisConfig

from devkit.credentials import PROOF, VERIFIER
from privochat import wiring
from privochat.config import Settings
from privochat.cookies import COOKIE_NAME
from privochat.domain import Limit, new_token, participant_key
from privochat.http_api import create_app
from privochat.service import ChatService, Limits
from tests.fakes import InMemoryRoomStore, RecordingPusher
from tests.support.rooms import SECRET

ROOM = "Fuzzed_room_000000001"
TOKEN = new_token(ROOM, SECRET)
# The default limits of a deployment (config.py), but for messages: the fuzzer
# sends many, and over the limit every send would be a 429.
LIMITS = Limits(room_creations=Limit(20, 60), messages=Limit(100_000, 60))
STORE = InMemoryRoomStore()
CHAT = ChatService(STORE, RecordingPusher(), room_ttl_seconds=600, limits=LIMITS, secret=SECRET)

app = create_app()
config = SchemathesisConfig.from_path(str(Path(__file__).with_name("schemathesis.toml")))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)
STATUSES: dict[str, set[int]] = defaultdict(set)


@pytest.fixture(autouse=True, scope="module")
def _fuzzed_service() -> Iterator[None]:
    """The app runs on the in-memory store, with a deployment's default settings."""
    wiring.configure(Settings(), service=CHAT)
    yield
    wiring.configure()


def _seed() -> None:
    """The room the aimed cases use, with the cookie's participant seated (again,
    after a fuzzed destroy or once it expired)."""
    if STORE._room(ROOM) is None:
        STORE.create_room(ROOM, VERIFIER, 600, 0, "seed", Limit(10**9, 60))
        STORE.join(ROOM, participant_key(ROOM, TOKEN), VERIFIER, 2)


@pytest.mark.parametrize("aimed", [False, True], ids=["anywhere", "at-a-room"])
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api_or_its_schema(case: schemathesis.Case[Any], aimed: bool) -> None:
    if aimed:
        _seed()
        if case.query is not None and "roomId" in case.query:
            case.query["roomId"] = ROOM
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if isinstance(case.body, dict) and "proof" in case.body and not negative:
            case.body["proof"] = PROOF
        if case.headers is None:
            case.headers = CaseInsensitiveDict()
        case.headers["Cookie"] = f"{COOKIE_NAME}={ROOM}.{TOKEN}"
    response = case.call_and_validate()
    STATUSES[f"{case.operation.method.upper()} {case.operation.path}"].add(response.status_code)


def test_the_fuzzer_reached_a_success_on_every_operation() -> None:
    operations = {
        f"{operation.method.upper()} {operation.path}"
        for operation in (result.ok() for result in schema.get_all_operations())  # type: ignore[union-attr]
    }
    assert operations and operations <= STATUSES.keys()
    missed = {name for name in operations if not any(200 <= s < 300 for s in STATUSES[name])}
    assert not missed, f"never a 2xx: {missed} ({dict(STATUSES)})"
