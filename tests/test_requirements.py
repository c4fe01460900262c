"""What `sam build` installs for Lambda is what the project pins and tests with."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lambda_requirements_match_the_pinned_dependencies() -> None:
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "functions" / "requirements.txt").read_text().splitlines()
    required = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(required) == sorted(pinned)
    assert all("==" in requirement for requirement in required)
