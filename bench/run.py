"""Issue 5's benchmark, one command: `.venv/bin/python -m bench.run` (or `make bench`).

Starts what it needs (a redis-server, the local stack on it, a bare WebSocket
relay), measures, stops them, and prints one table:
  (a) Upstash REST requests per operation, at the local endpoint's counter, and
      billed commands per operation (MONITOR on the redis-server: Upstash bills
      each command a script runs), transactions, undeclared script keys;
  (b) import time of each handler module in a fresh process, against
      `import fastapi, mangum, upstash_redis, boto3` measured the same way;
  (c) delivery latency p50/p99 (POST /api/messages -> the other participant's
      WebSocket) and messages/s at 1, 50 and 200 concurrent rooms;
  (d) baseline 1: the same load through a bare WebSocket relay (the floor);
  (e) baseline 2: refetching the whole history on every message, against the
      push, at 10, 100 and 400 messages of history (a room keeps 500).
  (f) the largest history answer of a room filled far past its cap;
  (g) cold start: import + first call of each Lambda function from the built package
      (functions/build_lambda.py) and from the package as `sam build` ships it today, in
      fresh Python 3.12 processes on one core; the zipped sizes; warm HTTP calls with
      sync routes against async ones (bench/coldstart.py).
  (h) the same counts and cold starts of the code before issue 24 (--baseline, a git
      revision; bench/baseline.py), side by side, and the cost of a conversation
      before and now from them (bench/cost.py).
Writes bench/results/<timestamp>.json and .png. Exits 1 when an operation bills
more than five commands, uses a transaction or an undeclared key, a history
answer reaches Lambda's 6 MB, a function's first call fails, or a message is lost,
duplicated or misordered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import coldstart, cost
from bench.baseline import BASELINE, baseline_stack, unpack
from bench.counts import (
    MAX_BILLED,
    SEED_BILLED_PER_SEND,
    billed_per_operation,
    requests_per_operation,
)
from bench.history import history_bound
from bench.imports import import_times
from bench.loadgen import UNLIMITED, run_load, stack_on_redis_server
from bench.refetch import run_refetch
from bench.relay import relay_server, run_relay_load

RESULTS = Path(__file__).resolve().parent / "results"
LIBRARIES = "fastapi+mangum+upstash_redis+boto3"


def _levels(text: str) -> list[tuple[int, int]]:
    """ "1:100,50:20" -> [(1, 100), (50, 20)]: rooms, messages per participant."""
    return [
        (int(rooms), int(messages))
        for rooms, messages in (part.split(":") for part in text.split(","))
    ]


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def measure(args: argparse.Namespace, baseline: Path | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "levels": args.levels,
            "histories": args.histories,
            "samples": args.samples,
            "import_runs": args.import_runs,
            "coldstart_runs": args.coldstart_runs,
            "warm_calls": args.warm_calls,
        },
    }
    if baseline is not None:
        print(f"(h) the code before issue 24 ({args.baseline}): billed commands ...", flush=True)
        with baseline_stack(baseline, **UNLIMITED) as (old_stack, old_url):
            results["baseline_upstash_requests"] = requests_per_operation(old_stack)
            results["baseline_billed_commands"] = billed_per_operation(old_stack, old_url).commands
    print(f"(b) import times, {args.import_runs} fresh processes each ...", flush=True)
    results["import_ms"] = import_times(args.import_runs)
    with stack_on_redis_server() as (stack, redis_url):
        print(
            f"local stack {stack.origin} on redis-server {redis_url} (rate limits lifted, rooms live an hour)",
            flush=True,
        )
        print("(a) Upstash requests per operation ...", flush=True)
        results["upstash_requests"] = requests_per_operation(stack)
        billing = billed_per_operation(stack, redis_url)
        results["billed_commands"] = billing.commands
        results["transactions"] = billing.transactions
        results["undeclared_keys"] = billing.undeclared
        print(f"(g) cold starts, {args.coldstart_runs} per function and package ...", flush=True)
        results["coldstart"] = coldstart.measure(
            args.coldstart_runs, args.warm_calls, stack, baseline
        )
        print("(f) the largest history answer ...", flush=True)
        results["history"] = history_bound(stack)
        print(f"(e) refetch vs push at {args.histories} messages of history ...", flush=True)
        results["refetch"] = asyncio.run(run_refetch(stack.origin, args.histories, args.samples))
        results["load"] = []
        for rooms, messages in _levels(args.levels):
            print(f"(c) PrivoChat: {rooms} rooms x 2 x {messages} messages ...", flush=True)
            results["load"].append(asyncio.run(run_load(stack.origin, rooms, messages)).summary())
    results["relay"] = []
    with relay_server() as relay_url:
        for rooms, messages in _levels(args.levels):
            print(f"(d) bare relay: {rooms} rooms x 2 x {messages} messages ...", flush=True)
            results["relay"].append(
                asyncio.run(run_relay_load(relay_url, rooms, messages)).summary()
            )
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["cost"] = cost_of(results)
    return results


def cost_of(results: dict[str, Any]) -> dict[str, Any]:
    """bench/cost.py's model on this run's measured counts and cold starts."""
    counts = {"now": results["billed_commands"]}
    cold: dict[str, dict[str, float]] = {"now": {}, "before": {}}
    functions = results["coldstart"]["functions"]
    for version, tree in (("now", "built"), ("before", "before")):
        if tree in functions["HttpFunction"]:
            cold[version] = {
                "http": functions["HttpFunction"][tree]["total_ms"],
                "ws": functions["DefaultFunction"][tree]["total_ms"],
            }
    if "baseline_billed_commands" in results:
        counts["before"] = results["baseline_billed_commands"]
    return cost.model(counts, cold)


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str]] = []
    old_requests = results.get("baseline_upstash_requests", {})
    old_billed = results.get("baseline_billed_commands", {})
    for operation, count in results["upstash_requests"].items():
        billed = results["billed_commands"][operation]
        seed = f"; the seed app: ~{SEED_BILLED_PER_SEND}" if operation == "send" else ""
        before = (
            f"; before issue 24: {old_requests[operation]} / {old_billed[operation]}"
            if operation in old_billed
            else ""
        )
        rows.append(
            (
                f"Upstash requests / billed commands: {operation}",
                f"{count} / {billed}",
                f"target <= {MAX_BILLED[operation]} billed{before}{seed}",
            )
        )
    rows.append(("transactions (MULTI/EXEC)", str(results["transactions"]), "target 0"))
    rows.append(("keys scripts touch undeclared", str(len(results["undeclared_keys"])), "target 0"))
    rows += coldstart.rows(results["coldstart"])
    history = results["history"]
    rows.append(
        (
            f"largest history answer, {history['sent']} sends of the largest size",
            f"{history['largest_answer_bytes']:,} B",
            f"Lambda's limit {history['limit_bytes']:,} B; kept {history['kept']} in {history['pages']} pages",
        )
    )
    libraries = results["import_ms"][LIBRARIES]
    for label, ms in results["import_ms"].items():
        if label != LIBRARIES:
            rows.append(
                (
                    f"import ms (fresh process): {label}",
                    f"{ms:.0f}",
                    f"{LIBRARIES}: {libraries:.0f}",
                )
            )
    for ours, floor in zip(results["load"], results["relay"], strict=True):
        where = f"{ours['rooms']} rooms x2 x{ours['messages_per_participant']}"
        rows.append(
            (
                f"delivery p50 / p99 ms, {where}",
                f"{ours['p50_ms']:.1f} / {ours['p99_ms']:.1f}",
                f"relay {floor['p50_ms']:.1f} / {floor['p99_ms']:.1f}",
            )
        )
        rows.append(
            (
                f"messages/s, {where}",
                f"{ours['messages_per_second']:.0f}",
                f"relay {floor['messages_per_second']:.0f}",
            )
        )
    for level in results["refetch"]["levels"]:
        history = f"{level['history']} messages of history"
        rows.append(
            (
                f"bytes per message, {history}",
                f"{level['push_bytes']:.0f}",
                f"refetch {level['refetch_bytes']:.0f}",
            )
        )
        rows.append(
            (
                f"ms per message, {history}",
                f"{level['push_ms']:.1f}",
                f"refetch {level['refetch_ms']:.1f}",
            )
        )
    verdicts = [run["ok"] for run in results["load"] + results["relay"]]
    rows.append(
        ("every message exactly once, in order, stored", "yes" if all(verdicts) else "NO", "")
    )
    model = results["cost"]
    for label, key in (("with typing", "now"), ("without typing", "now, no typing")):
        old_key = key.replace("now", "before")
        rows.append(
            (
                f"USD per 1M messages (10-min rooms of 50), {label}",
                f"{model[key]['per_million_total']:.2f}",
                f"before issue 24: {model[old_key]['per_million_total']:.2f}"
                + (
                    f"; ratio {model['share']:.2f} (target <= {cost.TARGET_SHARE})"
                    if key == "now"
                    else ""
                ),
            )
        )
    rows.append(
        (
            "USD per 10-minute room of 50 messages, with typing",
            f"{model['now']['per_room_total']:.5f}",
            f"before issue 24: {model['before']['per_room_total']:.5f}; Upstash commands "
            f"{model['now']['room']['upstash_commands']:.0f} vs {model['before']['room']['upstash_commands']:.0f}",
        )
    )
    width = max(len(r[0]) for r in rows)
    head = f"{'measure':<{width}}  {'PrivoChat':>15}  baseline"
    lines = [head, "-" * (len(head) + 40)]
    lines += [f"{name:<{width}}  {ours:>15}  {base}" for name, ours, base in rows]
    machine = results["machine"]
    lines.append(
        f"({machine['cpus']} CPUs; load average {machine['load_average_at_start'][0]} at start, "
        f"{machine['load_average_at_end'][0]} at end)"
    )
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (latency, size) = plt.subplots(1, 2, figsize=(12, 4.5))
    rooms = [run["rooms"] for run in results["load"]]
    levels = results["refetch"]["levels"]
    histories = [level["history"] for level in levels]
    lines = [
        (latency, rooms, [r[f"p{q}_ms"] for r in runs], style, color, f"{name} p{q}")
        for runs, name, color in (
            (results["load"], "PrivoChat", "tab:blue"),
            (results["relay"], "bare relay", "tab:gray"),
        )
        for q, style in (("50", "o-"), ("99", "s--"))
    ] + [
        (size, histories, [level[key] for level in levels], "o-", color, name)
        for key, color, name in (
            ("refetch_bytes", "tab:red", "refetch the whole history"),
            ("push_bytes", "tab:blue", "PrivoChat push"),
        )
    ]
    for axes, xs, ys, style, color, label in lines:
        axes.plot(xs, ys, style, color=color, label=label)
    for axes, xlabel, ylabel, title in (
        (
            latency,
            "concurrent rooms (2 participants each)",
            "POST -> other WebSocket (ms)",
            "Delivery latency by load",
        ),
        (
            size,
            "messages of history",
            "bytes per delivered message",
            "Bytes per message by history length",
        ),
    ):
        axes.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
        axes.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def passed(results: dict[str, Any]) -> bool:
    return (
        all(count <= MAX_BILLED[name] for name, count in results["billed_commands"].items())
        and results["transactions"] == 0
        and not results["undeclared_keys"]
        and results["history"]["largest_answer_bytes"] < results["history"]["limit_bytes"]
        and all(run["ok"] for run in results["load"] + results["relay"])
        and not results["refetch"]["problems"]
        and not results["coldstart"]["problems"]
        and results["cost"]["share"] <= cost.TARGET_SHARE
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--levels",
        default="1:100,50:20,200:10",
        help="rooms:messages-per-participant, comma-separated (1:100,50:20,200:10)",
    )
    parser.add_argument(
        "--histories",
        type=_ints,
        default=(10, 100, 400),
        help="history lengths (10,100,400; a room keeps 500)",
    )
    parser.add_argument(
        "--samples", type=int, default=20, help="messages sampled per history length (20)"
    )
    parser.add_argument("--import-runs", type=int, default=7, help="fresh processes per import (7)")
    parser.add_argument(
        "--coldstart-runs", type=int, default=7, help="cold starts per function and package (7)"
    )
    parser.add_argument(
        "--warm-calls", type=int, default=200, help="warm HTTP calls per timed block (200)"
    )
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"the revision before issue 24, measured side by side ({BASELINE}; '' for none)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run: 1:20,20:5; 10,100; 5 samples; 3 imports; 3 cold starts; 50 warm calls",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.histories, args.samples, args.import_runs = "1:20,20:5", (10, 100), 5, 3
        args.coldstart_runs, args.warm_calls = 3, 50
    _levels(args.levels)  # fail early on a malformed option
    with tempfile.TemporaryDirectory(prefix="privochat-baseline-") as folder:
        tree = unpack(args.baseline, Path(folder)) if args.baseline else None
        results = measure(args, tree)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    chart(results, RESULTS / f"{stamp}.png")
    print()
    print(table(results))
    print(f"\nwritten: bench/results/{stamp}.json, bench/results/{stamp}.png")
    return 0 if passed(results) else 1


if __name__ == "__main__":
    sys.exit(main())
