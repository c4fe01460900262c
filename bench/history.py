"""How large a history answer can get: a room filled far past its cap with the
largest messages, then read page by page (issue 11: Lambda's synchronous answer
is at most 6 MB; before paging, 1000 messages of 8000 characters made one
8,091,014-byte answer)."""

from __future__ import annotations

import itertools

from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack
from privochat.domain import HISTORY_CAP, TEXT_MAX_CHARS

LAMBDA_ANSWER_LIMIT = 6 * 1024 * 1024


def history_bound(stack: LocalStack, messages: int = 2 * HISTORY_CAP) -> dict[str, int]:
    """Sends `messages` of the largest size, then reads the whole history."""
    with stack.client() as http:
        room_id = http.post("/api/room/create", json={"verifier": VERIFIER}).json()["roomId"]
        http.post("/api/room/join", params={"roomId": room_id}, json={"proof": PROOF})
        for i in range(messages):
            text = f"{i:06d}".ljust(TEXT_MAX_CHARS, "x")
            sent = http.post(
                "/api/messages",
                params={"roomId": room_id},
                json={"text": text, "clientId": f"h{i}"},
            )
            sent.raise_for_status()
        largest, kept, pages, after = 0, 0, 0, None
        for pages in itertools.count(1):  # noqa: B007 - the count is the result
            params = {"roomId": room_id, **({"after": after} if after else {})}
            page = http.get("/api/messages", params=params)
            page.raise_for_status()
            largest = max(largest, len(page.content))
            body = page.json()
            kept += len(body["messages"])
            if not body["more"]:
                break
            after = body["messages"][-1]["id"]
        http.delete("/api/room", params={"roomId": room_id})
    return {
        "sent": messages,
        "kept": kept,
        "pages": pages,
        "largest_answer_bytes": largest,
        "limit_bytes": LAMBDA_ANSWER_LIMIT,
    }
