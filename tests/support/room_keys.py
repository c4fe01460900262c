"""A room's stored messages and connections as the store keeps them (store_upstash.py,
lua/lib.lua: one hash per room, the newest HISTORY_CAP messages a ring of `m:<n mod
cap>` fields, the connections one `conns` field), for tests that play a hostile or
failing server by writing the store directly. One place that knows the layout, so that
such tests do not."""

from __future__ import annotations

from typing import Any

from privochat.domain import HISTORY_CAP


class RoomKeys:
    def __init__(self, stack: Any, room: str) -> None:
        """`stack`: anything with `redis(*command)` (devkit.servers.LocalStack)."""
        self.stack = stack
        self.meta = f"meta:{{{room}}}"

    def _redis(self, *command: str) -> Any:
        return self.stack.redis(*command)

    def _count(self) -> int:
        return int(self._redis("HGET", self.meta, "n") or 0)

    def _slots(self) -> list[str]:
        n = self._count()
        return [f"m:{seq % HISTORY_CAP}" for seq in range(max(1, n - HISTORY_CAP + 1), n + 1)]

    def entries(self) -> list[str]:
        """'<seat>|<id>|<timestamp>|<text>', oldest first (as LRANGE 0 -1 of the old list)."""
        slots = self._slots()
        return [str(each) for each in self._redis("HMGET", self.meta, *slots)] if slots else []

    def _rewrite(self, entries: list[str]) -> None:
        """The ring holding exactly `entries` (oldest first), numbered from 1 again."""
        if self._slots():
            self._redis("HDEL", self.meta, *self._slots())
        self._redis("HSET", self.meta, "n", str(len(entries)))
        for seq, entry in enumerate(entries, start=1):
            self._redis("HSET", self.meta, f"m:{seq % HISTORY_CAP}", entry)

    def append(self, entry: str) -> None:
        """As RPUSH on the old list."""
        self._rewrite([*self.entries(), entry])

    def remove(self, entry: str) -> int:
        """As LREM 0: how many were removed."""
        entries = self.entries()
        kept = [each for each in entries if each != entry]
        self._rewrite(kept)
        return len(entries) - len(kept)

    def swap(self, first: int, second: int) -> None:
        """As two LSETs of the old list."""
        entries = self.entries()
        entries[first], entries[second] = entries[second], entries[first]
        self._rewrite(entries)

    def connections(self) -> dict[str, int]:
        """Connection ID -> seat."""
        text = self._redis("HGET", self.meta, "conns") or ""
        found = (entry.split(" ", 1) for entry in str(text).split(",") if entry)
        return {connection: int(value.partition(":")[0]) for connection, value in found}

    def forget(self, connection_id: str) -> None:
        """What forget_connections does after a 410: the room no longer lists it."""
        text = self._redis("HGET", self.meta, "conns") or ""
        kept = [e for e in str(text).split(",") if e and e.split(" ", 1)[0] != connection_id]
        self._redis("HSET", self.meta, "conns", ",".join(kept))
        self._redis("DEL", f"conn:{connection_id}")
