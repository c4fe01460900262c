"""Fuzzing the HTTP API from its own OpenAPI document: whatever a client sends,
no 5xx, and every answer matches the documented schema. Half the cases are
aimed at a real room with a participant's cookie (the store persists across
cases), so the success paths are fuzzed too, not only the refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation

from devkit.credentials import PROOF, VERIFIER
from privochat import wiring
from privochat.config import Settings
from privochat.cookies import COOKIE_NAME
from privochat.domain import Limit, new_token, participant_key
from privochat.http_api import create_app
from privochat.service import ChatService, Limits
from tests.fakes import LuaRoomStore, RecordingPusher
from tests.support.rooms import SECRET

ROOM = "Fuzzed_room_000000001"
TOKEN = new_token(ROOM, SECRET)
# The default limits of a deployment (config.py), but for messages: the fuzzer
# sends many, and over the limit every send would be a 429.
LIMITS = Limits(room_creations=Limit(20, 60), messages=Limit(100_000, 60))

app = create_app()
config = SchemathesisConfig.from_path(str(Path(__file__).with_name("schemathesis.toml")))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def store() -> Iterator[LuaRoomStore]:
    """The app runs on a store of its own for each test (it persists
    across that test's cases), with a deployment's default settings."""
    store = LuaRoomStore()
    chat = ChatService(store, RecordingPusher(), room_ttl_seconds=600, limits=LIMITS, secret=SECRET)
    wiring.configure(Settings(), service=chat)
    yield store
    wiring.configure()


def _aim(case: schemathesis.Case[Any], store: LuaRoomStore) -> None:
    """Aims a case at the room, with the cookie of its seated participant: seats
    them first (again, after a fuzzed destroy or once the room expired)."""
    if not store.room_fields(ROOM):
        store.create_room(
            ROOM, VERIFIER, 600, time.time_ns() // 1_000_000, "seed", Limit(10**9, 60)
        )
        store.join(ROOM, participant_key(ROOM, TOKEN), VERIFIER, 2)
    if case.query is not None and "roomId" in case.query:
        case.query["roomId"] = ROOM
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if isinstance(case.body, dict) and "proof" in case.body and not negative:
        case.body["proof"] = PROOF
    if case.headers is None:
        case.headers = CaseInsensitiveDict()
    case.headers["Cookie"] = f"{COOKIE_NAME}={ROOM}.{TOKEN}"


@pytest.mark.parametrize("aimed", [False, True], ids=["anywhere", "at-a-room"])
@schema.parametrize()
@FUZZ
def test_no_input_breaks_the_api_or_its_schema(
    case: schemathesis.Case[Any], aimed: bool, store: LuaRoomStore
) -> None:
    if aimed:
        _aim(case, store)
    case.call_and_validate()


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS]
)
def test_the_fuzzer_aimed_at_a_room_reaches_a_success(
    operation: APIOperation[Any, Any, Any, Any], store: LuaRoomStore
) -> None:
    """The success paths are fuzzed too, not only the refusals: aimed as above, the
    fuzzer's cases reach a 2xx on every operation (each answer still matching the
    schema), within as many cases as the test above runs."""

    def succeeds(case: schemathesis.Case[Any]) -> bool:
        _aim(case, store)
        return 200 <= case.call_and_validate().status_code < 300

    find(
        operation.as_strategy(),
        succeeds,
        settings=settings(FUZZ, phases=[Phase.generate], database=None),
    )
