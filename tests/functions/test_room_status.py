"""`GET /api/room/status`: what the room page asks before it shows Join. It answers
what a join with any proof already answers (the room exists or not: 200 both ways) and whether this
browser's cookie holds a seat; it takes no seat, sets no cookie and tells one
without a seat nothing more (no TTL, no count of seats)."""

from __future__ import annotations

from devkit.credentials import PROOF, WRONG_PROOF
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
    assert (status, body) == (200, {"exists": False, "seated": False, "full": False})
    assert "cookies" not in response


def test_a_destroyed_room_does_not_exist_for_its_own_participant_either(
    handlers: Handlers,
) -> None:
    http, _ = handlers
    room_id, ann, _ = create_and_join(http)
    assert call(http, "DELETE", "/api/room", {"roomId": room_id}, cookie=ann)[0] == 200
    for cookie in (ann, None):
        status, body, _ = call(http, "GET", "/api/room/status", {"roomId": room_id}, cookie=cookie)
        assert (status, body) == (200, {"exists": False, "seated": False, "full": False})


def test_an_existing_room_says_only_whether_this_browser_sits_in_it(handlers: Handlers) -> None:
    http, _ = handlers
    room_id = create(http)
    status, body, response = call(http, "GET", "/api/room/status", {"roomId": room_id})
    assert (status, body) == (200, {"exists": True, "seated": False, "full": False})
    assert "cookies" not in response  # no seat taken, no token handed out
    _, _, cookie = join(http, room_id)
    status, body, _ = call(http, "GET", "/api/room/status", {"roomId": room_id}, cookie=cookie)
    assert (status, body) == (200, {"exists": True, "seated": True, "full": False})


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


def test_with_the_links_proof_a_third_person_hears_full_before_any_join(
    handlers: Handlers,
) -> None:
    """POST with the proof: full only for one who proves the link and holds no seat (what
    their join would answer, 409), and asking takes no seat."""
    http, _ = handlers
    room_id = create(http)
    door = {"roomId": room_id}
    assert call(http, "POST", "/api/room/status", door, body={"proof": PROOF})[1]["full"] is False
    _, _, ann = join(http, room_id)
    _, _, bob = join(http, room_id)
    status, body, response = call(http, "POST", "/api/room/status", door, body={"proof": PROOF})
    assert (status, body) == (200, {"exists": True, "seated": False, "full": True})
    assert "cookies" not in response
    # A wrong proof learns no more than a join with it would (403): only that the room exists.
    wrong = call(http, "POST", "/api/room/status", door, body={"proof": WRONG_PROOF})[1]
    assert wrong == {"exists": True, "seated": False, "full": False}
    # Those who sit in it are not shut out.
    assert (
        call(http, "POST", "/api/room/status", door, cookie=ann, body={"proof": PROOF})[1]["full"]
        is False
    )
    assert join(http, room_id)[0] == 409
    assert bob


def test_a_door_question_without_a_proof_is_a_400_and_changes_nothing(handlers: Handlers) -> None:
    http, _ = handlers
    room_id = create(http)
    status, body, _ = call(http, "POST", "/api/room/status", {"roomId": room_id}, body={})
    assert status in (400, 422) and "error" in body
    assert join(http, room_id)[1]["seat"] == 1
