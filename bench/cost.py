"""What a conversation costs: per 10-minute room and per 1,000,000 messages, every line
(HTTP API, WebSocket messages and connection-minutes, Lambda requests, duration and
INIT, CloudFront requests, Upstash pay-as-you-go and a fixed plan's break-even), from
the billed commands per operation that bench/counts.py measures and the cold starts
bench/coldstart.py measures, before issue 24 and now, in the same run.

    .venv/bin/python -m bench.cost        # the model with the README's measured counts

The room (issue 24's): two people, both pages visible, 10 minutes, 50 messages, and
while each message is typed TYPING_SECONDS of typing, which the page turns into one
typing frame at once and one per interval after (before: every 2 s, now every 4 s;
3 and 2 frames a message). Prices: us-east-1 list prices, arm64, pay-as-you-go,
free tiers left out (PRICES). Durations and the cold-start share are stated
assumptions (ASSUMED), not measurements.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

PRICES = {
    "http_api_per_m": 1.00,  # HTTP API requests, first 300 M
    "ws_messages_per_m": 1.00,  # WebSocket messages (in and out, 32 KB units), first 1 B
    "ws_connection_minutes_per_m": 0.25,
    "lambda_requests_per_m": 0.20,
    "lambda_gb_second": 0.0000133334,  # arm64
    "cloudfront_requests_per_10k": 0.0100,  # HTTPS, North America
    "upstash_per_100k_commands": 0.20,  # pay-as-you-go
    "upstash_fixed_plan_month": 10.0,  # the smallest fixed plan, unlimited commands
}
ASSUMED = {
    "room_minutes": 10,
    "messages": 50,
    "participants": 2,
    "typing_seconds_per_message": 5,
    "ping_every_s": 20,  # the page's heartbeat (realtime.js), per visible page
    "http_ms": 26,  # handler + one Upstash round trip (5 ms) + pushes in parallel (15 ms)
    "ws_ms": 12,  # $default: one Upstash read or none, one push
    "http_gb": 0.5,
    "ws_gb": 0.25,
    "cold_start_share": 0.01,  # invocations that start a new environment (billed INIT)
    # Warm $default instances a connection's frames are spread over (about 500 active
    # rooms: 0.35 frames/s each x 12 ms = 2 busy instances). Each reads a connection's
    # peers at most once per PEERS_FRESH_S (service.py); the other relays read nothing.
    "ws_instances": 2,
    "site_requests_per_page": 12,  # room.html, its modules and styles through CloudFront
}
# Before and now: the page's typing interval and its time-left resync.
PAGES: dict[str, dict[str, float]] = {
    "before": {"typing_every_s": 2, "ttl_resync_per_minute": 1, "peers_fresh_s": 0},
    "now": {"typing_every_s": 4, "ttl_resync_per_minute": 0, "peers_fresh_s": 60},
}
# Billed commands per operation, bench/counts.py on a real redis-server (bench.run
# measures both trees in one run and passes them in; these are the README's). A hello
# is not among the measured operations: its count is read from publish_hello.lua.
COUNTS = {
    "before": {
        "create": 4, "join": 4, "ttl": 3, "$connect": 5, "send, first message": 8,
        "send": 5, "list": 3, "typing": 4, "ping": 4, "$disconnect": 5, "hello": 4,
    },
    "now": {
        "create": 4, "join": 3, "ttl": 1, "$connect": 4, "send, first message": 3,
        "send": 3, "list": 3, "typing": 1, "ping": 1, "$disconnect": 4, "hello": 3,
    },
}  # fmt: skip
COLD_START_MS = {
    "before": {"http": 360, "ws": 192},
    "now": {"http": 226, "ws": 141},
}
TARGET_SHARE = 0.40  # issue 24: at most 40% of the cost before, with typing


@dataclass(frozen=True)
class Room:
    """What one room does in its 10 minutes, counted per billed unit."""

    http_requests: float
    ws_in: float
    ws_out: float
    connection_minutes: float
    http_invocations: float
    ws_invocations: float
    upstash_commands: float
    cloudfront_requests: float


def room(
    counts: dict[str, int], page: dict[str, float], typing: bool = True, worst: bool = False
) -> Room:
    a, minutes = ASSUMED, ASSUMED["room_minutes"]
    people, messages = a["participants"], a["messages"]
    frames_per_message = 1 + math.floor(a["typing_seconds_per_message"] / page["typing_every_s"])
    typing_frames = messages * frames_per_message if typing else 0
    pings = people * minutes * 60 / a["ping_every_s"]
    ttl_calls = people * minutes * page["ttl_resync_per_minute"]
    hellos = 2 * people  # commit, then reveal
    # HTTP: create, two joins, a first page of history each, the hellos, the sends, resyncs.
    http = 1 + people + people + hellos + messages + ttl_calls
    # Each message is pushed to the other page and the author's own (a second tab needs it);
    # each typing frame to the other page; a pong per ping; presence on each connect and
    # disconnect; each hello to both pages.
    ws_out = 2 * messages + typing_frames + pings + 2 * people + 2 * hellos
    ws_in = typing_frames + pings
    # Typing frames that read the store: every one before; now one per instance and
    # freshness window and typing connection at most (`worst`: every one, as when each
    # frame lands on an instance that has not seen the connection for a minute).
    reading = typing_frames
    if page["peers_fresh_s"] and not worst:
        windows = minutes * 60 / page["peers_fresh_s"]
        reading = min(typing_frames, people * a["ws_instances"] * windows)
    commands = (
        counts["create"]
        + people * counts["join"]
        + people * counts["list"]
        + hellos * counts["hello"]
        + people * (counts["$connect"] + counts["$disconnect"])
        + counts["send, first message"]
        + (messages - 1) * counts["send"]
        + reading * counts["typing"]
        + pings * counts["ping"]
        + ttl_calls * counts["ttl"]
    )
    return Room(
        http_requests=http,
        ws_in=ws_in,
        ws_out=ws_out,
        connection_minutes=people * minutes,
        http_invocations=http,
        ws_invocations=ws_in + 2 * people,  # frames, $connect and $disconnect
        upstash_commands=commands,
        # /api/* and the WebSocket's upgrade go through CloudFront, and each page's files.
        cloudfront_requests=http + people * (1 + a["site_requests_per_page"]),
    )


def lines(r: Room, cold_ms: dict[str, float]) -> dict[str, float]:
    """Dollars per room, line by line."""
    p, a = PRICES, ASSUMED
    gb_s = (
        r.http_invocations * a["http_ms"] / 1000 * a["http_gb"]
        + r.ws_invocations * a["ws_ms"] / 1000 * a["ws_gb"]
    )
    init_gb_s = a["cold_start_share"] * (
        r.http_invocations * cold_ms["http"] / 1000 * a["http_gb"]
        + r.ws_invocations * cold_ms["ws"] / 1000 * a["ws_gb"]
    )
    return {
        "HTTP API requests": r.http_requests * p["http_api_per_m"] / 1e6,
        "WebSocket messages": (r.ws_in + r.ws_out) * p["ws_messages_per_m"] / 1e6,
        "WebSocket connection-minutes": r.connection_minutes
        * p["ws_connection_minutes_per_m"]
        / 1e6,
        "Lambda requests": (r.http_invocations + r.ws_invocations)
        * p["lambda_requests_per_m"]
        / 1e6,
        "Lambda duration": gb_s * p["lambda_gb_second"],
        "Lambda INIT (billed since Aug 2025)": init_gb_s * p["lambda_gb_second"],
        "CloudFront requests": r.cloudfront_requests * p["cloudfront_requests_per_10k"] / 1e4,
        "Upstash commands (pay-as-you-go)": r.upstash_commands
        * p["upstash_per_100k_commands"]
        / 1e5,
    }


def model(
    counts: dict[str, dict[str, int]] | None = None,
    cold_ms: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The model; `counts` (measured billed commands per operation, before and now)
    and `cold_ms` override the README's figures where given."""
    counts = {v: {**COUNTS[v], **(counts or {}).get(v, {})} for v in COUNTS}
    cold_ms = {v: {**COLD_START_MS[v], **(cold_ms or {}).get(v, {})} for v in COLD_START_MS}
    rooms_per_million = 1e6 / ASSUMED["messages"]
    out: dict[str, Any] = {"assumed": ASSUMED, "prices": PRICES, "counts": counts}
    for version, typing, worst in (
        ("before", True, False),
        ("now", True, False),
        ("before", False, False),
        ("now", False, False),
        ("now", True, True),
    ):
        r = room(counts[version], PAGES[version], typing, worst)
        per_room = lines(r, cold_ms[version])
        key = f"{version}{'' if typing else ', no typing'}"
        key += ", every typing frame reads" if worst else ""
        out[key] = {
            "room": r.__dict__,
            "per_room": per_room,
            "per_room_total": sum(per_room.values()),
            "per_million_messages": {k: v * rooms_per_million for k, v in per_room.items()},
            "per_million_total": sum(per_room.values()) * rooms_per_million,
            # Rooms a month from which the fixed plan costs less than pay-as-you-go.
            "fixed_plan_break_even_rooms_per_month": PRICES["upstash_fixed_plan_month"]
            / per_room["Upstash commands (pay-as-you-go)"],
        }
    out["share"] = out["now"]["per_million_total"] / out["before"]["per_million_total"]
    return out


def table(result: dict[str, Any]) -> str:
    before, now = result["before"], result["now"]
    width = max(len(name) for name in before["per_million_messages"]) + 2
    rows = [
        f"{'per 1,000,000 messages (10-minute rooms of 50, typing)':<{width + 4}}"
        f"{'before':>10}{'now':>10}"
    ]
    for name in before["per_million_messages"]:
        rows.append(
            f"  {name:<{width + 2}}{before['per_million_messages'][name]:>10.2f}"
            f"{now['per_million_messages'][name]:>10.2f}"
        )
    rows.append(
        f"  {'total':<{width + 2}}{before['per_million_total']:>10.2f}{now['per_million_total']:>10.2f}"
        f"   now/before {result['share']:.2f} (target <= {TARGET_SHARE})"
    )
    rows.append(
        f"  {'total without typing':<{width + 2}}{result['before, no typing']['per_million_total']:>10.2f}"
        f"{result['now, no typing']['per_million_total']:>10.2f}"
    )
    worst = result["now, every typing frame reads"]
    rows.append(
        f"  {'total, every typing frame reading the store':<{width + 2}}{'':>10}"
        f"{worst['per_million_total']:>10.2f}   now/before {worst['per_million_total'] / before['per_million_total']:.2f}"
    )
    rows.append(
        f"  {'per room (USD)':<{width + 2}}{before['per_room_total']:>10.5f}{now['per_room_total']:>10.5f}"
    )
    rows.append(
        f"  {'Upstash commands per room':<{width + 2}}{before['room']['upstash_commands']:>10.0f}"
        f"{now['room']['upstash_commands']:>10.0f}"
    )
    rows.append(
        f"  {'fixed plan break-even, rooms/month':<{width + 2}}"
        f"{before['fixed_plan_break_even_rooms_per_month']:>10.0f}"
        f"{now['fixed_plan_break_even_rooms_per_month']:>10.0f}"
    )
    return "\n".join(rows)


def main() -> int:
    result = model()
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
    print(table(result))
    return 0 if result["share"] <= TARGET_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
