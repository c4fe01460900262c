"""Cold-start import cost: `python -X importtime` in a fresh process, the
cumulative time of the statement's top-level imports, median of several runs."""

from __future__ import annotations

import statistics
import subprocess
import sys

from devkit.servers import ROOT

MARK = "--- bench: the statement starts here ---"

# What a cold start of each handler imports, and the libraries it could have needed.
STATEMENTS = {
    "privochat.ws_api": "import privochat.ws_api",
    "privochat.http_api": "import privochat.http_api",
    "fastapi+mangum+upstash_redis+boto3": "import fastapi, mangum, upstash_redis, boto3",
}


def import_ms(statement: str) -> float:
    """One fresh interpreter: the sum of the cumulative times of the top-level
    imports that `statement` triggers (the interpreter's own start-up is left out)."""
    code = f"import sys; print({MARK!r}, file=sys.stderr, flush=True); {statement}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = done.stderr.split(MARK, 1)[1].splitlines()
    total_us = 0
    for line in lines:
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|")
        # " name" is a top-level import, "   name" (two spaces a level) a nested one.
        if not name.startswith("  ") and cumulative.strip().isdigit():
            total_us += int(cumulative)
    return total_us / 1000


def import_times(runs: int = 5) -> dict[str, float]:
    """{label: median ms}; the statements take turns, so machine noise hits each alike."""
    samples: dict[str, list[float]] = {label: [] for label in STATEMENTS}
    for _ in range(runs):
        for label, statement in STATEMENTS.items():
            samples[label].append(import_ms(statement))
    return {label: round(statistics.median(values), 1) for label, values in samples.items()}
