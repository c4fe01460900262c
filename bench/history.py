"""How large a history answer can get: a room filled far past its cap with the
largest messages, then read page by page (issue 11: Lambda's synchronous answer
is at most 6 MB; before paging, 1000 messages of 8000 characters made one
8,091,014-byte answer)."""

from __future__ import annotations

import itertools

from devkit.api_client import ApiClient
from devkit.credentials import PROOF, VERIFIER
from devkit.servers import LocalStack
from devkit.wire import wire_text
from privochat.domain import HISTORY_CAP, TEXT_MAX_CHARS

LAMBDA_ANSWER_LIMIT = 6 * 1024 * 1024


def history_bound(stack: LocalStack, messages: int = 2 * HISTORY_CAP) -> dict[str, int]:
    """Sends `messages` of the largest size, then reads the whole history."""
    with ApiClient(stack.origin) as person:
        room_id = person.create(VERIFIER)
        person.join(room_id, PROOF).raise_for_status()
        for i in range(messages):
            text = wire_text(f"{i:06d}", TEXT_MAX_CHARS)
            person.send(room_id, text, f"h{i}").raise_for_status()
        largest, kept, pages, after = 0, 0, 0, None
        for pages in itertools.count(1):  # noqa: B007 - the count is the result
            page = person.messages(room_id, after)
            page.raise_for_status()
            largest = max(largest, len(page.content))
            body = page.json()
            kept += len(body["messages"])
            if not body["more"]:
                break
            after = body["messages"][-1]["id"]
        person.destroy(room_id)
    return {
        "sent": messages,
        "kept": kept,
        "pages": pages,
        "largest_answer_bytes": largest,
        "limit_bytes": LAMBDA_ANSWER_LIMIT,
    }
