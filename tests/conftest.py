from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from devkit.servers import LocalStack, MissingProgram, local_stack


@pytest.fixture
def lambda_event_loop() -> Iterator[None]:
    """Lambda calls a handler on a main thread that has an event loop (Mangum
    runs the ASGI app on it); an earlier test's asyncio.run leaves none behind."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The local stack as `make run` starts it, on the embedded store: one for the
    session, shared by tests/e2e/ and tests/local_stack/."""
    with local_stack() as running:
        yield running


# A test that needs a program this machine lacks (redis-server, chromium, node) is
# skipped and says which; CI asks for every test to run (PRIVOCHAT_REQUIRE_ALL=1),
# and there it fails instead.
def _skip_or_fail(missing: MissingProgram) -> NoReturn:
    if os.environ.get("PRIVOCHAT_REQUIRE_ALL") == "1":
        pytest.fail(str(missing))
    pytest.skip(str(missing))


def _skip_missing_programs(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except MissingProgram as missing:
        _skip_or_fail(missing)


# Servers start in fixtures (setup) or in the test itself (call).
pytest_runtest_setup = pytest.hookimpl(wrapper=True)(_skip_missing_programs)
pytest_runtest_call = pytest.hookimpl(wrapper=True)(_skip_missing_programs)
