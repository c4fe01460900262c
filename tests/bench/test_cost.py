"""The cost model (bench/cost.py) counts what it says, and the target holds."""

from __future__ import annotations

from bench import cost


def test_the_model_counts_each_line_from_the_room_and_meets_the_target() -> None:
    result = cost.model()
    now, before = result["now"], result["before"]
    assert result["share"] <= cost.TARGET_SHARE
    # 50 sends at 3 commands each are at least half of the room's Upstash commands now.
    assert now["room"]["upstash_commands"] >= 150
    assert before["room"]["upstash_commands"] > 3 * now["room"]["upstash_commands"]
    assert set(now["per_million_messages"]) == set(before["per_million_messages"])
    assert len(now["per_million_messages"]) == 8
    # The time-left resync (20 HTTP requests a room) is gone; the sends are not.
    assert before["room"]["http_requests"] - now["room"]["http_requests"] == 20


def test_measured_counts_override_the_defaults() -> None:
    worse = cost.model(counts={"now": {"send": 6}})
    assert worse["now"]["per_million_total"] > cost.model()["now"]["per_million_total"]
    assert worse["counts"]["now"]["ping"] == cost.COUNTS["now"]["ping"]
