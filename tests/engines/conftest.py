"""Real engines side by side (devkit/engines.py): Chromium, Firefox and WebKit, each started once
for the package, against one local stack."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from devkit.engines import ENGINES, EnginePage
from devkit.servers import LocalStack, local_stack

NewPage = Callable[[int, int], EnginePage]


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    with local_stack(LOG_LEVEL="WARNING") as running:
        yield running


@pytest.fixture(scope="package")
def engines() -> Iterator[Callable[[str], NewPage]]:
    """engines(name) starts that engine the first time it is asked for, and keeps it for the package."""
    with contextlib.ExitStack() as running:
        started: dict[str, NewPage] = {}

        def engine(name: str) -> NewPage:
            if name not in started:
                started[name] = running.enter_context(ENGINES[name]())
            return started[name]

        yield engine


Person = Callable[[str, tuple[int, int]], EnginePage]


@pytest.fixture
def person(engines: Callable[[str], NewPage]) -> Iterator[Person]:
    """person(engine, (width, height)): a new person's tab in that engine, closed after the test."""
    pages: list[EnginePage] = []

    def new_person(engine: str, size: tuple[int, int]) -> EnginePage:
        page = engines(engine)(*size)
        pages.append(page)
        return page

    yield new_person
    for page in pages:
        page.close()
