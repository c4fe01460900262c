"""One source for each validation pattern (issue 23): domain.py writes them; the
OpenAPI document (http_schemas.py) and the page's copies must be the same rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from privochat.domain import CLIENT_ID_PATTERN, ID_PATTERN, KEY_PATTERN, WIRE_TEXT_PATTERN
from privochat.http_api import create_app

JS = Path(__file__).resolve().parents[2] / "static_site" / "js"


def _openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


def _property(document: dict[str, Any], model: str, field: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][model]["properties"][field]
    # An optional field is anyOf [its schema, null].
    return next((each for each in found.get("anyOf", []) if "pattern" in each), found)


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    for parameter in document["paths"][path]["get"]["parameters"]:
        if parameter["name"] == name:
            schema: dict[str, Any] = parameter["schema"]
            return next((each for each in schema.get("anyOf", []) if "pattern" in each), schema)
    raise AssertionError(f"{path} has no parameter {name}")


@pytest.mark.parametrize(
    ("model", "field", "pattern"),
    [
        ("CreateRoom", "verifier", KEY_PATTERN),
        ("JoinRoom", "proof", KEY_PATTERN),
        ("PublishHello", "commit", KEY_PATTERN),
        ("PublishHello", "mac", KEY_PATTERN),
        ("PublishHello", "pub", KEY_PATTERN),
        ("SendMessage", "clientId", CLIENT_ID_PATTERN),
    ],
)
def test_the_openapi_bodies_check_the_domains_patterns(
    model: str, field: str, pattern: str
) -> None:
    assert _property(_openapi(), model, field)["pattern"] == f"^{pattern}$"


def test_the_openapi_ids_and_wire_text_are_the_domains() -> None:
    document = _openapi()
    assert _parameter(document, "/api/messages", "roomId")["pattern"] == f"^{ID_PATTERN}$"
    assert _parameter(document, "/api/messages", "after")["pattern"] == f"^{ID_PATTERN}$"
    assert _property(document, "SendMessage", "text")["pattern"] == WIRE_TEXT_PATTERN


def test_the_pages_room_id_is_the_servers() -> None:
    """links.js's ROOM_ID_PATTERN reads pasted links and checks the room page's path."""
    source = (JS / "links.js").read_text()
    exported = re.search(r'^export const ROOM_ID_PATTERN = "([^"]+)";$', source, re.MULTILINE)
    assert exported is not None, "links.js exports ROOM_ID_PATTERN as a string"
    assert exported.group(1) == ID_PATTERN


def test_the_pages_wire_text_is_the_servers() -> None:
    """protocol.js reads a wire text with its groups; without them, it is the server's rule."""
    source = (JS / "protocol.js").read_text()
    literals = re.findall(r"/(\^\(\[1-9\][^/]*\$)/", source)
    assert len(literals) == 1, "protocol.js reads a wire text with one regular expression"
    assert literals[0].replace("(", "").replace(")", "") == WIRE_TEXT_PATTERN
