"""`GET /api/room/status`: what the room page asks before it shows Join. It answers
what a join with any proof already answers (the room exists or not: 200 both ways) and whether this
browser's cookie holds a seat; it takes no seat, sets no cookie and tells one
without a seat nothing more (no TTL, no count of seats)."""

from __future__ import annotations

from devkit.credentials import WRONG_PROOF
from tests.functions.test_handlers import (  # the handlers fixture and its helpers
    Handlers,
    call,
    create,
    create_and_join,
    handlers,
    join,
)

__all__ = ["handlers"]


def test_an_unknown_room_does_not_exist(handlers: Handlers) -> None:
    http, _ = handlers
    status, body, response = call(http, "GET", "/api/room/status", {"roomId": "Z" * 21})
    assert (status, body) == (200, {"exists": False, "seated": False})
    assert "cookies" not in response


def test_a_destroyed_room_does_not_exist_for_its_own_participant_either(
    handlers: Handlers,
) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    assert call(http, "DELETE", "/api/room", {"roomId": room_id}, cookie=ann)[0] == 200
    for cookie in (ann, None):
        status, body, _ = call(http, "GET", "/api/room/status", {"roomId": room_id}, cookie=cookie)
        assert (status, body) == (200, {"exists": False, "seated": False})


def test_an_existing_room_says_only_whether_this_browser_sits_in_it(handlers: Handlers) -> None:
    http, _ = handlers
    room_id = create(http)
    status, body, response = call(http, "GET", "/api/room/status", {"roomId": room_id})
    assert (status, body) == (200, {"exists": True, "seated": False})
    assert "cookies" not in response  # no seat taken, no token handed out
    _, _, cookie = join(http, room_id)
    status, body, _ = call(http, "GET", "/api/room/status", {"roomId": room_id}, cookie=cookie)
    assert (status, body) == (200, {"exists": True, "seated": True})


def test_asking_takes_no_seat(handlers: Handlers) -> None:
    http, _ = handlers
    room_id = create(http)
    for _ in range(3):
        assert call(http, "GET", "/api/room/status", {"roomId": room_id})[0] == 200
    assert join(http, room_id)[1]["seat"] == 1
    assert join(http, room_id)[1]["seat"] == 2
    assert join(http, room_id, proof=WRONG_PROOF)[0] == 403


def test_a_malformed_room_id_is_400(handlers: Handlers) -> None:
    http, _ = handlers
    status, body, _ = call(http, "GET", "/api/room/status", {"roomId": "short"})
    assert (status, body["error"]) == (400, "bad-request")
