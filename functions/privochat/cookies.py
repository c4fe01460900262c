"""The participant's cookie, read the same way by the HTTP and WebSocket faces.

`x-auth-token` (`__Host-x-auth-token` over HTTPS) holds one token per room the
browser sits in, most recent first: `<roomId>.<token>~<roomId>.<token>`. A token
is bound to its room (domain.new_token), so one browser in two rooms needs two.
"""

from __future__ import annotations

COOKIE_NAME = "x-auth-token"
SECURE_COOKIE_NAME = "__Host-x-auth-token"
MAX_ROOMS = 8  # a cookie stays far under browsers' 4 KB: 8 entries of 65 characters


def parse_cookie_header(header: str | None) -> dict[str, str]:
    """Cookies as browsers send them, leniently (as Starlette does): another app's
    cookie with spaces, quotes or JSON in it never hides ours."""
    cookies: dict[str, str] = {}
    for chunk in (header or "").split(";"):
        name, equals, value = chunk.partition("=")
        if not equals:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name or value:
            cookies.setdefault(name, value)
    return cookies


def _entries(cookies: dict[str, str]) -> list[tuple[str, str]]:
    value = cookies.get(SECURE_COOKIE_NAME) or cookies.get(COOKIE_NAME) or ""
    pairs = (entry.partition(".") for entry in value.split("~"))
    return [(room, token) for room, dot, token in pairs if dot and room and token]


def room_token(cookies: dict[str, str], room_id: str) -> str | None:
    """The browser's token for `room_id`, if its cookie holds one."""
    return next((token for room, token in _entries(cookies) if room == room_id), None)


def with_room_token(cookies: dict[str, str], room_id: str, token: str) -> str:
    """The cookie's new value: this room's token first, then the others it held."""
    others = [f"{room}.{value}" for room, value in _entries(cookies) if room != room_id]
    return "~".join([f"{room_id}.{token}", *others][:MAX_ROOMS])


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE_NAME if secure else COOKIE_NAME
