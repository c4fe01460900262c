"""docs/api.md, the API's contract, kept in step with the code: it names every
route the app serves (and none it does not), every error code with its status,
every type of push, and the limits the code sets. Reading the code, not running
it: no server, no store."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fastapi.routing import APIRoute
from starlette.routing import Route

from privochat.config import Settings
from privochat.cookies import MAX_ROOMS
from privochat.domain import (
    CLIENT_ID_MAX_CHARS,
    FRAMES_PER_CONNECTION,
    HISTORY_CAP,
    MAX_CONNECTIONS_PER_PARTICIPANT,
    MAX_GENERATION,
    MAX_PARTICIPANTS,
    TEXT_MAX_CHARS,
    TYPING_EVERY_MS,
)
from privochat.errors import STATUS_BY_CODE
from privochat.http_api import create_app
from privochat.service import PAGE_MESSAGES, PAGE_TEXT_BYTES

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
PACKAGE = ROOT / "functions" / "privochat"
# The functions that turn a code into an answer; a string constant among their
# arguments, or assigned to `code`, is an error code the API may answer with.
_ANSWERING = {"error_body", "_refusal", "send_error"}
_CODE = re.compile(r"[a-z]+(-[a-z]+)*")


def _doc() -> str:
    return API_DOC.read_text(encoding="utf-8")


def documented_routes(doc: str) -> set[str]:
    """`METHOD /path` of each route heading (### `GET /api/messages?roomId=&after=`)."""
    return {
        f"{method} {path}"
        for method, path in re.findall(r"^### `([A-Z]+) (/[^`?\s]*)", doc, re.MULTILINE)
    }


def served_routes() -> set[str]:
    routes = set()
    for route in create_app().routes:
        if isinstance(route, APIRoute | Route) and route.methods:
            routes |= {f"{method} {route.path}" for method in route.methods - {"HEAD"}}
    return routes


def error_table(doc: str) -> set[tuple[str, int]]:
    """(code, status) of each row of the Errors table: | `code` | 400 | ..."""
    section = doc.split("## Errors", 1)[1].split("\n## ", 1)[0]
    return {
        (code, int(status))
        for code, status in re.findall(r"^\| `([a-z-]+)` \| (\d{3}) \|", section, re.MULTILINE)
    }


def answered_codes() -> set[str]:
    """Every error code the functions answer with: the rules' table, and the
    codes the framework's handlers give (not-found, internal)."""
    codes = set(STATUS_BY_CODE)
    for source in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                values: list[ast.expr] = list(node.args) if name in _ANSWERING else []
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "code" for target in node.targets
            ):
                values = [node.value]
            else:
                continue
            for value in values:
                for constant in ast.walk(value):
                    if (
                        isinstance(constant, ast.Constant)
                        and isinstance(constant.value, str)
                        and _CODE.fullmatch(constant.value)
                    ):
                        codes.add(constant.value)
    return codes


def pushed_types() -> set[str]:
    """The `type` of every event the service or a handler pushes."""
    types = set()
    for name in ("service.py", "ws_api.py"):
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and isinstance(value, ast.Constant)
                    ):
                        types.add(str(value.value))
    return types


def test_every_route_the_app_serves_is_documented_and_no_other() -> None:
    served = served_routes()
    assert "POST /api/messages" in served and "GET /api/openapi.json" in served
    assert documented_routes(_doc()) == served


def test_every_error_code_is_documented_with_its_status() -> None:
    table = error_table(_doc())
    for code, status in STATUS_BY_CODE.items():
        assert (code, status) in table, f"docs/api.md lacks `{code}` | {status}"
    codes = answered_codes()
    assert {"not-found", "internal"} <= codes
    assert codes <= {code for code, _ in table}
    assert {code for code, _ in table} <= codes, "docs/api.md names a code nothing answers"


def test_every_pushed_event_type_is_documented() -> None:
    types = pushed_types()
    assert {"message", "destroy", "pong", "error"} <= types
    section = _doc().split("### What the server pushes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z]+)` \|", section, re.MULTILINE))
    assert documented == types


def test_the_readers_are_shown_docs_api_md() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/api.md](docs/api.md)" in readme
    assert "docs/api.md" in (PACKAGE / "errors.py").read_text(encoding="utf-8")


def limits_table(doc: str) -> dict[str, str]:
    """Each row of the Limits table: what -> its limit."""
    section = doc.split("## Limits", 1)[1]
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", section, re.MULTILINE)
    return {what: limit for what, limit in rows if what != "what"}  # not the header


def test_the_limits_are_the_codes() -> None:
    settings = Settings()
    expected = {
        "a room's life": f"{settings.room_ttl_seconds} s",
        "participants": f"{MAX_PARTICIPANTS}",
        "rooms created per client address": f"{settings.room_creations_per_minute} a minute",
        "messages sent per participant": f"{settings.messages_per_minute} a minute",
        "a message's wire text": f"{TEXT_MAX_CHARS:,} characters",
        "`clientId`": f"1 to {CLIENT_ID_MAX_CHARS} characters",
        "hello `generation`": f"1 to {MAX_GENERATION:,}",
        "history kept": f"the newest {HISTORY_CAP} messages",
        "a page of history": f"{PAGE_MESSAGES} messages and {PAGE_TEXT_BYTES:,} bytes",
        "request body": f"{settings.max_body_bytes // 1024} KiB",
        "rooms in one browser's cookie": f"{MAX_ROOMS}",
        "WebSocket connections per participant": f"{MAX_CONNECTIONS_PER_PARTICIPANT}",
        "frames per connection": f"{FRAMES_PER_CONNECTION.max_requests} a minute",
        "typing relayed": f"once per {TYPING_EVERY_MS / 1000:g} s",
    }
    assert FRAMES_PER_CONNECTION.window_seconds == 60
    table = limits_table(_doc())
    for what, limit in expected.items():
        assert what in table, f"docs/api.md's Limits table lacks a row for {what}"
        assert table[what].startswith(limit), f"{what}: {table[what]!r}, the code says {limit!r}"
