"""The people who use the local stack (tests/conftest.py starts it), for every
test of this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.api_client import ApiClient
from devkit.servers import LocalStack


@pytest.fixture
def people(stack: LocalStack) -> Iterator[tuple[ApiClient, ApiClient, ApiClient]]:
    trio = (ApiClient(stack.origin), ApiClient(stack.origin), ApiClient(stack.origin))
    yield trio
    for person in trio:
        person.close()


@pytest.fixture
def room(stack: LocalStack, people: tuple[ApiClient, ApiClient, ApiClient]) -> str:
    """A room that Ann and Bob (people[0], people[1]) have joined."""
    room_id = people[0].create()
    assert people[0].join(room_id).status_code == 200
    assert people[1].join(room_id).status_code == 200
    return str(room_id)
