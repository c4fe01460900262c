"""The code as it was before issue 24, measured in the same run as today's: its
tree is `git archive` of a revision (BASELINE, or --baseline), unpacked in a
temporary folder, so that before and after are side by side on one busy machine
(ratios, not absolute numbers, are what holds from run to run)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from devkit.servers import LocalStack, local_stack_of, redis_server

ROOT = Path(__file__).resolve().parents[1]
# The last commit before issue 24's work (the store at 4-8 commands a send, botocore).
BASELINE = "5196938"


def unpack(revision: str, into: Path) -> Path:
    """The repository's tree at `revision`, under `into` (made)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


@contextmanager
def baseline_stack(tree: Path, **env: str) -> Iterator[tuple[LocalStack, str]]:
    """The baseline tree's local stack on a redis-server of its own."""
    with ExitStack() as running:
        redis_url = running.enter_context(redis_server())
        yield running.enter_context(local_stack_of(tree, REDIS_URL=redis_url, **env)), redis_url
