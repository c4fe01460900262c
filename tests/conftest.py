from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture
def lambda_event_loop() -> Iterator[None]:
    """Lambda calls a handler on a main thread that has an event loop (Mangum
    runs the ASGI app on it); an earlier test's asyncio.run leaves none behind."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()
