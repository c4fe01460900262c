"""Fixtures of the deployment checks (helpers live in sam_templates.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.sam_templates import (
    CHILD_PARAMETERS,
    REQUIRED_PARAMETERS,
    SAM,
    TEMPLATE,
    WEBSOCKET_TEMPLATE,
    skip_unless_required,
    transform,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sam: runs the SAM CLI from .venv-sam (slow: sam validate, sam build)"
    )


@pytest.fixture(scope="session")
def root_cfn() -> dict[str, Any]:
    return transform(TEMPLATE, REQUIRED_PARAMETERS)


@pytest.fixture(scope="session")
def websocket_cfn() -> dict[str, Any]:
    return transform(WEBSOCKET_TEMPLATE, CHILD_PARAMETERS)


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    if not SAM.exists():
        skip_unless_required(
            f"no SAM CLI at {SAM}: `make sam-tools` (infra/sam-tools.sh) creates .venv-sam"
        )
    return SAM
