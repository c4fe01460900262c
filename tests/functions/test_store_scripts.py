"""What each operation costs at Upstash, measured on a real redis-server through
the local stack: billed commands (MONITOR sees every command, those scripts run
included), no transactions, and every key a script touches declared in its KEYS
(Upstash's allow-key-locking refuses any other)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.counts import MAX_BILLED, OPERATIONS, Billing, billed_per_operation
from devkit.servers import local_stack, redis_server
from infra.local_stack.redis_backend import embedded


@pytest.fixture(scope="module")
def billing() -> Iterator[Billing]:
    with redis_server() as url, local_stack(REDIS_URL=url) as stack:
        yield billed_per_operation(stack, url)


def test_every_operation_bills_at_most_its_floor(billing: Billing) -> None:
    """Issue 24: send at most 4 always (a room's first message, a retry and a full
    room included: 8, 6 before), join 3, ttl 1, $connect 4, typing and ping 1."""
    assert set(billing.commands) == set(OPERATIONS) == set(MAX_BILLED)
    over = {name: n for name, n in billing.commands.items() if n > MAX_BILLED[name]}
    assert not over, billing.commands


def test_a_send_bills_the_same_from_the_first_message_to_a_full_room(billing: Billing) -> None:
    sends = {name: n for name, n in billing.commands.items() if name.startswith("send")}
    assert sends["send, first message"] == sends["send"] == sends["send, room full"], sends


def test_no_operation_uses_a_transaction(billing: Billing) -> None:
    assert billing.transactions == 0


def test_every_key_a_script_touches_is_declared(billing: Billing) -> None:
    assert billing.undeclared == []


def test_the_local_endpoint_refuses_an_undeclared_key_as_upstash_does() -> None:
    backend = embedded()
    flagged = "#!lua flags=allow-key-locking\nreturn redis.call('GET', 'elsewhere')"
    with pytest.raises(Exception, match="not in KEYS"):
        backend.execute(["EVAL", flagged, "1", "declared"])
    declared = "#!lua flags=allow-key-locking\nreturn redis.call('SET', KEYS[1], 'v')"
    assert backend.execute(["EVAL", declared, "1", "declared"]) == b"OK"
    # A script without the flag runs under the global lock and may touch any key.
    assert backend.execute(["EVAL", "return redis.call('GET', 'elsewhere')", "0"]) is None
    backend.close()
