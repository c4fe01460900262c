"""What service and store tests join rooms with: the functions' secret that makes
tokens (made up here, never a real one), made-up hello values, and a join as a
browser does it (the link's credentials are devkit/credentials.py)."""

from __future__ import annotations

from devkit.credentials import PROOF
from privochat.service import ChatService, Joined

SECRET = b"tests-only secret, 32 bytes long"


def key32(letter: str) -> str:
    """A made-up 32-byte value in base64url (a commit, MAC or public key)."""
    return letter * 42 + "A"


def join(chat: ChatService, room_id: str | None, token: str | None = None) -> Joined:
    """Join as a browser does: with the token its cookie holds, if any, and the proof."""
    return chat.join(room_id, chat.seat_token(room_id, token), PROOF)
