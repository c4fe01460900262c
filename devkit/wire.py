"""Made-up wire texts: the shape the API accepts for a message (docs/protocol.md,
`3.<epoch>.<base64url>`), sealing nothing. Tests and benchmarks that need a
message, not the protocol, send these; tests/support/e2ee.py seals real ones."""

from __future__ import annotations

import base64

from privochat.domain import TEXT_MAX_CHARS

EPOCH = "AAAAAAAAAAA"  # 8 zero bytes
_PREFIX = f"3.{EPOCH}."


def wire_text(label: str, size: int | None = None) -> str:
    """`label` (any text) spelt as a wire text, padded to `size` characters if given."""
    text = _PREFIX + base64.urlsafe_b64encode(label.encode()).rstrip(b"=").decode()
    return text if size is None else text.ljust(size, "x")[:size]


def label_of(text: str) -> str:
    """The label of an unpadded `wire_text`."""
    body = text.removeprefix(_PREFIX)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def largest_wire_text(label: str = "") -> str:
    """A wire text as long as the server takes."""
    return wire_text(label, TEXT_MAX_CHARS)
