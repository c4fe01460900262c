"""Credentials tests join rooms with: a link's join proof and its verifier, and
the functions' secret that makes tokens (made up here, never a real one)."""

from __future__ import annotations

import base64
import secrets

from privochat.domain import verifier_of
from privochat.service import ChatService, Joined

SECRET = b"tests-only secret, 32 bytes long"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_proof() -> str:
    """A join proof as a browser derives it from a link key (32 bytes)."""
    return b64url(secrets.token_bytes(32))


PROOF = new_proof()
VERIFIER = verifier_of(PROOF)
WRONG_PROOF = new_proof()


def key32(letter: str) -> str:
    """A made-up 32-byte value in base64url (a commit, MAC or public key)."""
    return letter * 42 + "A"


def join(chat: ChatService, room_id: str | None, token: str | None = None) -> Joined:
    """Join as a browser does: with the token its cookie holds, if any, and the proof."""
    return chat.join(room_id, chat.seat_token(room_id, token), PROOF)
