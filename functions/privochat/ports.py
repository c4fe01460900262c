"""What the chat service needs from the outside world, and nothing more.

Every store operation is one atomic step: it either happens whole or raises
`Unavailable` having changed nothing. Room-level refusals are raised as
`RoomNotFound`, `Unauthorized` or `RoomFull`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .domain import (
    Hello,
    History,
    Limit,
    Message,
    RoomConnections,
    SeatHello,
    Seating,
    StoredMessage,
)


class RoomStore(Protocol):
    def create_room(
        self,
        room_id: str,
        verifier: str,
        ttl_seconds: int,
        now_ms: int,
        client: str,
        limit: Limit,
    ) -> bool:
        """Create an empty room that admits those who prove `verifier`; False if the
        ID is already taken. Raises `RateLimited` when `client` created `limit`
        rooms in the current window."""

    def join(self, room_id: str, participant: str, verifier: str, max_participants: int) -> Seating:
        """Give `participant` a seat (the same one again if it has one), with the
        room's hellos and its expiry. Raises `WrongKey` (changing nothing) unless `verifier` is
        the room's."""

    def publish_hello(
        self, room_id: str, participant: str, hello: Hello, limit: Limit, now_ms: int
    ) -> tuple[SeatHello, RoomConnections]:
        """Keep `hello` as the latest of the participant's seat; return it with
        its seat, and the room's connections. Raises `RateLimited` (changing
        nothing) past `limit` hellos of that seat in the window."""

    def expires_at(self, room_id: str, participant: str) -> int:
        """When the room ends (ms since the epoch; set at its creation from `now_ms`)."""

    def door(self, room_id: str, participant: str | None) -> tuple[str, int, bool] | None:
        """Read only: the room's verifier, how many seats are taken and whether
        `participant` holds one; None when there is no such room."""

    def append_message(
        self,
        room_id: str,
        participant: str,
        message: Message,
        client_id: str,
        limit: Limit,
        now_ms: int,
    ) -> tuple[StoredMessage, RoomConnections]:
        """Store `message`, unless `client_id` was already used by this participant:
        then return the message stored the first time (once the history dropped
        it, its ID and time with this text if it is the same text, else raise
        `ClientIdReused`). Also returns the room's connections, so that the caller
        can push without asking again. Raises `RateLimited` (storing nothing) over
        the participant's `limit` in the window that `now_ms` falls in."""

    def messages(self, room_id: str, participant: str, after: str | None, limit: int) -> History:
        """At most `limit` messages, oldest first: from the start, or after message
        `after` when it is given and known; with the caller's seat and the hellos."""

    def destroy(self, room_id: str, participant: str) -> RoomConnections:
        """Delete every key of the room (the participants' message rate-limit
        counters included); return the connections it had."""

    def connect(
        self, room_id: str, participant: str, connection_id: str, now_ms: int
    ) -> RoomConnections:
        """Add a WebSocket connection of a participant to the room, connected now.
        Raises `TooManyConnections` when the participant holds
        MAX_CONNECTIONS_PER_PARTICIPANT already."""

    def disconnect(self, connection_id: str) -> RoomConnections | None:
        """Remove a connection; the room's remaining connections, or None if the
        connection was not known (or its room is gone)."""

    def connections(
        self, connection_id: str, room_id: str | None = None
    ) -> tuple[RoomConnections, int] | None:
        """The connection's room with all of its connections, and when the room ends
        (ms); None if the connection is not one of the room's (`room_id`: the room
        the connection claims, checked; None: looked up)."""

    def forget_connections(
        self, room_id: str, connection_ids: Iterable[str], connected_before_ms: int
    ) -> None:
        """Drop connections that the gateway reported gone, but not those that
        connected at or after `connected_before_ms` (their $connect may still be
        running, and the gateway answers 410 until it returns)."""


class Pusher(Protocol):
    def push(self, connection_ids: Iterable[str], event: dict[str, object]) -> set[str]:
        """Send `event` to each connection; return the IDs that are gone (410)."""

    def close(self, connection_ids: Iterable[str]) -> None:
        """Hang up on connections (best effort)."""
