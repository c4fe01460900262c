"""A link's join credentials as a browser derives them: the proof a joiner
presents and the verifier the creator registers (made up, never a real link)."""

from __future__ import annotations

import base64
import secrets

from privochat.domain import verifier_of


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_proof() -> str:
    """A join proof as a browser derives it from a link key (32 bytes)."""
    return b64url(secrets.token_bytes(32))


PROOF = new_proof()
VERIFIER = verifier_of(PROOF)
WRONG_PROOF = new_proof()
