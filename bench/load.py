"""Issue 4's load run: the local stack on a real redis-server, 200 rooms at once,
2 participants each, 50 messages per participant, every delivery checked.

    .venv/bin/python -m bench.load [--rooms 200] [--messages 50]

Prints messages/s, p50/p99 delivery latency and the verdict; exits 1 on any
loss, duplicate, misorder or non-2xx answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.loadgen import run_load, stack_on_redis_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rooms", type=int, default=200, help="rooms at once (200)")
    parser.add_argument("--messages", type=int, default=50, help="messages per participant (50)")
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="seconds to wait for missing deliveries after the last send (30)",
    )
    args = parser.parse_args(argv)
    with stack_on_redis_server() as (stack, redis_url):
        print(
            f"local stack {stack.origin} on redis-server {redis_url} (rate limits lifted, rooms live an hour)",
            flush=True,
        )
        result = asyncio.run(
            run_load(stack.origin, args.rooms, args.messages, settle_seconds=args.settle)
        )
    print(result.report("PrivoChat load run (local stack, real redis-server)"))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
