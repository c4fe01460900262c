from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections.abc import Iterator
from pathlib import Path
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


# `make unit`: the tests of the rules and of what is written down, on the fakes of
# tests/fakes.py (the real store and Lua scripts on an in-process fakeredis) or plain
# reading, no server of any kind (and no SAM): `pytest -m unit`. The store's contract
# runs there on the in-process store only.
UNIT_TESTS = (
    "tests/functions/test_service.py",
    "tests/functions/test_service_properties.py",
    "tests/functions/test_errors.py",
    "tests/functions/test_config.py",
    "tests/functions/test_client_address.py",
    "tests/functions/test_wiring.py",
    "tests/functions/test_payloads.py",
    "tests/functions/test_patterns.py",
    "tests/functions/test_protocol_interop.py",
    "tests/support/test_e2ee_oracle.py",
    "tests/support/test_handshake_rules.py",
    "tests/support/test_handshake_interop.py",
    "tests/support/test_conversation_rules.py",
    "tests/docs/test_api_doc.py",
    "tests/docs/test_readme.py",
    "tests/test_requirements.py",
)
_ROOT = Path(__file__).resolve().parents[1]
_SHUFFLE_SEED = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("privochat")
    group.addoption(
        "--shuffle",
        action="store_true",
        help="run the tests in a random order (the seed is printed; `make test-shuffled`)",
    )
    group.addoption(
        "--shuffle-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="shuffle with this seed, to repeat an order (implies --shuffle)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: on in-process fakes, no server (make unit)")
    missing = [name for name in UNIT_TESTS if not (_ROOT / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py's UNIT_TESTS names missing files: {missing}")
    seed = config.getoption("shuffle_seed")
    if seed is None and config.getoption("shuffle"):
        seed = secrets.randbelow(2**32)
    if seed is not None:
        config.stash[_SHUFFLE_SEED] = seed


def _is_unit(item: pytest.Item) -> bool:
    path = item.path.relative_to(_ROOT).as_posix()
    if path == "tests/functions/test_store_contract.py":
        callspec = getattr(item, "callspec", None)
        return callspec is not None and callspec.params.get("store_kind") == "in-process"
    return path in UNIT_TESTS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)
    if _SHUFFLE_SEED in config.stash:
        # Every test, not only every file: each must pass after any other.
        random.Random(config.stash[_SHUFFLE_SEED]).shuffle(items)  # noqa: S311  # an order, not a secret


def _shuffle_line(config: pytest.Config) -> list[str]:
    if _SHUFFLE_SEED not in config.stash:
        return []
    seed = config.stash[_SHUFFLE_SEED]
    return [f"tests shuffled with seed {seed} (again: --shuffle-seed {seed})"]


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return _shuffle_line(config)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for line in _shuffle_line(config):
        terminalreporter.write_line(line)
