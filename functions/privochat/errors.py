"""Error answers, the same on both faces: each code with its status and default sentence
(docs/api.md, "Errors", documents each; a test keeps the two in step)."""

from __future__ import annotations

from .domain import ChatError

STATUS_BY_CODE = {
    "bad-request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "wrong-key": 403,
    "room-not-found": 404,
    "room-full": 409,
    "client-id-reused": 409,
    "payload-too-large": 413,
    "rate-limited": 429,
    "too-many-connections": 429,
    "unavailable": 503,
}

_DEFAULT_MESSAGES = {
    "bad-request": "The request is not valid.",
    "unauthorized": "This request needs the cookie of a participant of the room.",
    "forbidden": "Requests from this origin are not allowed.",
    "wrong-key": "This link's key does not open this room.",
    "room-not-found": "This room does not exist or has expired.",
    "room-full": "This room already has two participants.",
    "client-id-reused": "This clientId was used for another text; a retry sends the same text.",
    "payload-too-large": "The request body is too large.",
    "rate-limited": "Too many requests; try again shortly.",
    "too-many-connections": "This participant has too many connections open; close one.",
    "unavailable": "The service is unavailable right now; try again shortly.",
}


def error_body(code: str, message: str | None = None) -> dict[str, str]:
    return {"error": code, "message": message or _DEFAULT_MESSAGES.get(code, code)}


def error_of(error: ChatError) -> tuple[int, dict[str, str]]:
    message = str(error) or None
    return STATUS_BY_CODE[error.code], error_body(error.code, message)
