"""Cold start of each Lambda function, built package against the package as `sam build`
ships it today, side by side in one run; the zipped sizes; and the warm HTTP path
with the app's async routes against the same routes as plain defs (as they were).

    .venv/bin/python -m bench.coldstart            # standalone: its own local stack
    .venv/bin/python -m bench.coldstart --runs 3

Trees (each in a temporary folder, made fresh every run):
  today   the pinned requirements as `pip install --target` installs them, the
          privochat package beside them, no .pyc at all (sam build ships none, and
          Lambda's /var/task is read-only, so none is ever written: the children run
          with -B);
  before  the package as the code before issue 24 built it (bench/baseline.py: that
          revision's own functions/build_lambda.py, requirements and code: botocore);
  built   functions/build_lambda.py's package.
Lambda runs arm64; on another machine both trees are also installed for this machine
(the same pins, trimming and pycs) to be timed, and the arm64 ones are zipped for
the sizes.

One measurement = one fresh `python3.12 -I -S -B bench/lambda_child.py` pinned to one
core (taskset -c 0): the time from the handler module's import to the end of its first
call. The first call really runs, against the local stack: settings, the SSM read of
the two secrets (GetParameters, answered by a stand-in for SSM on loopback, signed
requests checked for their headers), the service with its Upstash and Management API
clients, and one Upstash REST request or more (the local endpoint's counter must
move). The events:
  HttpFunction        POST /api/room/create with a verifier   -> 200, a room
  ConnectFunction     $connect, a token minted for a room that does not exist -> 404
  DisconnectFunction  $disconnect of an unknown connection    -> 200
  DefaultFunction     $default {"action":"ping"} from an unknown connection -> 410
Functions and trees take turns; each figure is the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.baseline import BASELINE, unpack
from build_lambda import (
    LAMBDA_ARCH,
    PACKAGE,
    build,
    copy_code,
    host_arch,
    pip_install,
    python312,
    tree_bytes,
    zip_tree,
)
from devkit.events import http_event, ws_event
from devkit.servers import LocalStack, local_stack, serve_in_thread

CHILD = Path(__file__).resolve().parent / "lambda_child.py"
REGION = "eu-west-1"
# Issue 24: against the package before it, measured in the same run.
TARGET_RATIO_BEFORE = {
    "HttpFunction": 0.7,
    "ConnectFunction": 0.6,
    "DisconnectFunction": 0.6,
    "DefaultFunction": 0.6,
}
TARGET_ZIP_BYTES = 6_000_000
UPSTASH_PARAMETER = "/privochat/upstash-token"
APP_SECRET_PARAMETER = "/privochat/app-secret"  # noqa: S105 (a parameter name)


@dataclass(frozen=True)
class Function:
    module: str
    attr: str
    first_call: str
    expected_status: int


FUNCTIONS = {
    "HttpFunction": Function("privochat.http_api", "handler", "POST /api/room/create", 200),
    "ConnectFunction": Function("privochat.ws_api", "on_connect", "$connect, unknown room", 404),
    "DisconnectFunction": Function(
        "privochat.ws_api", "on_disconnect", "$disconnect, unknown connection", 200
    ),
    "DefaultFunction": Function(
        "privochat.ws_api", "on_default", "$default ping, unknown connection", 410
    ),
}


class SsmStandIn:
    """Answers SSM's GetParameters (JSON protocol) for the parameters it holds; a
    request that is not a signed GetParameters gets SSM's 400."""

    def __init__(self, parameters: dict[str, str]) -> None:
        self.parameters = parameters
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        signed = request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
        if target != "AmazonSSM.GetParameters" or not signed:
            return _ssm_answer({"__type": "InvalidAction", "message": target or "unsigned"}, 400)
        self.requests += 1
        body = json.loads(await request.read())
        names = list(body.get("Names", []))
        found = [
            {
                "Name": name,
                "Type": "SecureString",
                "Value": self.parameters[name],
                "Version": 1,
                "DataType": "text",
                "ARN": f"arn:aws:ssm:{REGION}:123456789012:parameter{name}",
            }
            for name in names
            if name in self.parameters
        ]
        invalid = [name for name in names if name not in self.parameters]
        return _ssm_answer({"Parameters": found, "InvalidParameters": invalid}, 200)


def _ssm_answer(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/x-amz-json-1.1"
    )


@contextmanager
def ssm_stand_in(parameters: dict[str, str]) -> Iterator[tuple[str, SsmStandIn]]:
    ssm = SsmStandIn(parameters)
    app = web.Application()
    app.router.add_post("/", ssm.handle)
    with serve_in_thread(app) as url:
        yield url, ssm


@dataclass
class Backends:
    """What the functions reach during their first call."""

    stack: LocalStack
    ssm_url: str
    ssm: SsmStandIn
    app_secret: str

    def environment(self, function: str) -> dict[str, str]:
        """A Lambda-like environment: fixed credentials and region, no AWS config
        files, the settings of template.yaml (secrets from SSM), nothing inherited."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_SESSION_TOKEN": "bench-session",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL_SSM": self.ssm_url,
            "UPSTASH_REDIS_REST_URL": f"{self.stack.origin}/_local/upstash",
            "UPSTASH_REDIS_REST_TOKEN": "",
            "UPSTASH_REDIS_REST_TOKEN_PARAMETER": UPSTASH_PARAMETER,
            "APP_SECRET": "",
            "APP_SECRET_PARAMETER": APP_SECRET_PARAMETER,
            "WEBSOCKET_MANAGEMENT_URL": f"{self.stack.origin}/_local/apigw",
            "RATE_LIMIT_ROOMS_PER_MINUTE": "100000",
            "RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
            "LOG_LEVEL": "INFO",
        }


@contextmanager
def backends(stack: LocalStack | None = None) -> Iterator[Backends]:
    """The stack given (bench.run's), else a local stack of our own (embedded store)."""
    app_secret = secrets.token_urlsafe(32)
    with (
        _given(stack) if stack else local_stack() as running,
        ssm_stand_in(
            {UPSTASH_PARAMETER: running.upstash_token, APP_SECRET_PARAMETER: app_secret}
        ) as (ssm_url, ssm),
    ):
        yield Backends(running, ssm_url, ssm, app_secret)


@contextmanager
def _given(stack: LocalStack) -> Iterator[LocalStack]:
    yield stack


def event_for(function: str, app_secret: str) -> dict[str, Any]:
    """A fresh event for the function's first call (new IDs each time)."""
    connection_id = secrets.token_urlsafe(12)
    if function == "HttpFunction":
        return http_event("POST", "/api/room/create", body={"verifier": _key()})
    if function == "ConnectFunction":
        from privochat.domain import new_id, new_token

        room_id = new_id()
        token = new_token(room_id, app_secret.encode())
        return ws_event("$connect", connection_id, room_id=room_id, cookie=f"{room_id}.{token}")
    if function == "DisconnectFunction":
        return ws_event("$disconnect", connection_id)
    return ws_event("$default", connection_id, body=json.dumps({"action": "ping"}))


def _key() -> str:
    """32 random bytes as base64url without padding (a verifier, a proof)."""
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def pinned() -> list[str]:
    """One core for the measured process, when the machine lets us choose."""
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def child(
    python: str, mode: str, tree: Path, args: list[str], stdin: Any, env: dict[str, str]
) -> dict[str, Any]:
    done = subprocess.run(
        [*pinned(), python, "-I", "-S", "-B", str(CHILD), mode, str(tree), *args],
        input=json.dumps(stdin),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{mode} in {tree} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def first_call(python: str, tree: Path, function: str, running: Backends) -> dict[str, Any]:
    spec = FUNCTIONS[function]
    upstash_before, ssm_before = running.stack.upstash_requests(), running.ssm.requests
    result = child(
        python,
        "first-call",
        tree,
        [spec.module, spec.attr],
        event_for(function, running.app_secret),
        running.environment(function),
    )
    result["upstash_requests"] = running.stack.upstash_requests() - upstash_before
    result["ssm_requests"] = running.ssm.requests - ssm_before
    return result


def problems_of(function: str, tree: str, result: dict[str, Any]) -> list[str]:
    """What makes a first call not count: it did not really run, or ran from elsewhere."""
    spec = FUNCTIONS[function]
    found = []
    if result["status"] != spec.expected_status:
        found.append(f"status {result['status']}, not {spec.expected_status}: {result['body']}")
    if result["upstash_requests"] < 1:
        found.append("no Upstash request")
    if result["ssm_requests"] != 1:
        found.append(f"{result['ssm_requests']} SSM requests, not 1")
    if result["outside_tree"]:
        found.append(f"modules from outside the tree: {result['outside_tree'][:5]}")
    if tree in ("built", "before") and (
        result["boto3"] or result["with_pyc"] < result["modules"] * 0.95
    ):
        found.append(
            f"built tree: boto3 {result['boto3']}, pyc {result['with_pyc']}/{result['modules']}"
        )
    if tree == "built" and result["pydantic_v1"]:
        found.append("built tree: pydantic.v1 imported")
    if tree == "today" and result["with_pyc"]:
        found.append(f"today's tree loaded {result['with_pyc']} pycs")
    return [f"{function} ({tree}): {problem}" for problem in found]


# What the built tree may leave unimported that today's imports (build_lambda.UNUSED_FILES).
EXPECTED_ONLY_TODAY = ("pydantic.v1",)


def module_differences(function: str, by_tree: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The trimmed, pyc-only tree must run the same modules as today's tree, but those
    it leaves out on purpose: a module that reads its own source, or a fallback taken
    because a file is missing, shows up here."""
    found = []
    for today, built in zip(by_tree["today"], by_tree["built"], strict=True):
        only_today = set(today["module_names"]) - set(built["module_names"])
        only_built = set(built["module_names"]) - set(today["module_names"])
        unexpected = sorted(
            name
            for name in only_today
            if not any(name == e or name.startswith(e + ".") for e in EXPECTED_ONLY_TODAY)
        )
        if unexpected or only_built:
            found.append(
                f"{function}: modules only today {unexpected[:8]}, only built {sorted(only_built)[:8]}"
            )
    return found


def install_as_today(python: str, target: Path, arch: str, package: Path = PACKAGE) -> Path:
    """What `sam build` ships today: the pinned requirements and the code, no .pyc."""
    pip_install(python, target, arch)
    copy_code(target, package)
    cached = [*target.rglob("*.pyc"), *target.rglob("__pycache__")]
    if cached:
        raise RuntimeError(f"today's tree holds pycs: {cached[:3]}")
    return target


def _files(tree: Path) -> int:
    return sum(1 for path in tree.rglob("*") if path.is_file())


def build_before(baseline: Path, out: Path, arch: str) -> Path:
    """The baseline revision's package, built by its own build_lambda.py."""
    done = subprocess.run(
        [
            sys.executable,
            str(baseline / "functions" / "build_lambda.py"),
            "--arch",
            "host" if arch == host_arch() else arch,
            "--out",
            str(out),
            "--no-zip",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the baseline's build failed:\n{done.stderr[-3000:]}")
    return out


def prepare(
    workdir: Path, python: str, baseline: Path | None = None
) -> tuple[dict[str, Path], dict[str, Any]]:
    """The trees to time (this machine's) and the sizes of Lambda's (arm64) packages."""
    arch = host_arch()
    print(f"  building the trees ({arch} to time, {LAMBDA_ARCH} to zip) ...", flush=True)
    # One copy of the code for every tree: others may be editing functions/ meanwhile.
    code = workdir / "code" / PACKAGE.name
    shutil.copytree(PACKAGE, code, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    timed = {
        "today": install_as_today(python, workdir / f"today-{arch}", arch, code),
        "built": build(workdir / f"built-{arch}", arch, "ours", python, code),
    }
    if baseline is not None:
        timed["before"] = build_before(baseline, workdir / f"before-{arch}", arch)
    lambda_trees = (
        dict(timed)
        if arch == LAMBDA_ARCH
        else {
            "today": install_as_today(python, workdir / f"today-{LAMBDA_ARCH}", LAMBDA_ARCH, code),
            "built": build(workdir / f"built-{LAMBDA_ARCH}", LAMBDA_ARCH, "ours", python, code),
        }
    )
    if baseline is not None and "before" not in lambda_trees:
        lambda_trees["before"] = build_before(
            baseline, workdir / f"before-{LAMBDA_ARCH}", LAMBDA_ARCH
        )
    lambda_trees["built_all_sources"] = build(
        workdir / f"built-all-{LAMBDA_ARCH}", LAMBDA_ARCH, "all", python, code
    )
    sizes = {
        name: {
            "zip_bytes": zip_tree(tree, workdir / f"{name}.zip"),
            "bytes": tree_bytes(tree),
            "files": _files(tree),
        }
        for name, tree in lambda_trees.items()
    }
    return timed, sizes


def measure(
    runs: int = 7,
    warm_calls: int = 200,
    stack: LocalStack | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Cold starts of every function from every tree, the sizes, and the warm path."""
    python = python312()
    with tempfile.TemporaryDirectory(prefix="privochat-coldstart-") as folder:
        trees, sizes = prepare(Path(folder), python, baseline)
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {
            function: {tree: [] for tree in trees} for function in FUNCTIONS
        }
        problems: list[str] = []
        with backends(stack) as running:
            print(f"  {runs} cold starts per function and tree, pinned: {pinned()} ...", flush=True)
            for run in range(runs):
                for function in FUNCTIONS:
                    order = list(trees) if run % 2 == 0 else list(reversed(trees))
                    for tree in order:
                        result = first_call(python, trees[tree], function, running)
                        problems += problems_of(function, tree, result)
                        samples[function][tree].append(result)
            written = [*trees["today"].rglob("*.pyc")]
            if written:
                problems.append(f"today's tree got {len(written)} pycs written while timed")
            print(f"  warm HTTP path: {warm_calls} calls per block, async and sync ...", flush=True)
            warm = child(
                python,
                "warm",
                trees["built"],
                [str(warm_calls), "5"],
                None,
                running.environment("HttpFunction"),
            )
    for function, by_tree in samples.items():
        problems += module_differences(function, by_tree)
    return {
        "runs": runs,
        "python": python,
        "pinned": " ".join(pinned()) or "no (taskset missing)",
        "timed_arch": host_arch(),
        "functions": {
            function: summary(function, by_tree) for function, by_tree in samples.items()
        },
        "sizes": sizes,
        "warm": warm,
        "problems": sorted(set(problems)),
    }


def summary(function: str, by_tree: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def median(tree: str, key: str) -> float:
        return round(float(statistics.median(sample[key] for sample in by_tree[tree])), 1)

    out: dict[str, Any] = {"first_call": FUNCTIONS[function].first_call}
    for tree in by_tree:
        out[tree] = {
            key: median(tree, key) for key in ("total_ms", "import_ms", "call_ms", "cpu_ms")
        }
        out[tree]["modules"] = by_tree[tree][-1]["modules"]
        out[tree]["status"] = by_tree[tree][-1]["status"]
    today, built = (set(by_tree[tree][-1]["module_names"]) for tree in ("today", "built"))
    out["modules_only_today"] = sorted(today - built)
    out["modules_only_built"] = sorted(built - today)
    out["ratio"] = round(out["built"]["total_ms"] / out["today"]["total_ms"], 3)
    out["cpu_ratio"] = round(out["built"]["cpu_ms"] / out["today"]["cpu_ms"], 3)
    if "before" in by_tree:
        out["ratio_before"] = round(out["built"]["total_ms"] / out["before"]["total_ms"], 3)
        out["cpu_ratio_before"] = round(out["built"]["cpu_ms"] / out["before"]["cpu_ms"], 3)
    return out


def rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows for bench.run's table: (measure, PrivoChat, baseline)."""
    out = []
    for function, numbers in results["functions"].items():
        ratio = numbers["ratio"]
        if "ratio_before" in numbers:
            target = TARGET_RATIO_BEFORE[function]
            before = numbers["ratio_before"]
            out.append(
                (
                    f"import + first call ms, {function}, before issue 24 -> now",
                    f"{numbers['before']['total_ms']:.0f} -> {numbers['built']['total_ms']:.0f}",
                    f"ratio {before:.2f} (target <= {target}: "
                    f"{'ok' if before <= target else 'OVER'}); CPU {numbers['before']['cpu_ms']:.0f}"
                    f" -> {numbers['built']['cpu_ms']:.0f}, ratio {numbers['cpu_ratio_before']:.2f}",
                )
            )
        out.append(
            (
                f"import + first call ms, {function} ({numbers['first_call']})",
                f"{numbers['built']['total_ms']:.0f}",
                f"as sam build ships the code (no pyc): {numbers['today']['total_ms']:.0f}; "
                f"ratio {ratio:.2f}; "
                f"CPU {numbers['built']['cpu_ms']:.0f} vs {numbers['today']['cpu_ms']:.0f}, "
                f"ratio {numbers['cpu_ratio']:.2f}",
            )
        )
    sizes = results["sizes"]
    built, today = sizes["built"]["zip_bytes"], sizes["today"]["zip_bytes"]
    out.append(
        (
            "Lambda package MB zipped (arm64)",
            f"{built / 1e6:.2f}",
            f"today {today / 1e6:.2f}; with every .py kept "
            f"{sizes['built_all_sources']['zip_bytes'] / 1e6:.2f} "
            f"(target <= {TARGET_ZIP_BYTES / 1e6:.0f}: {'ok' if built <= TARGET_ZIP_BYTES else 'OVER'})",
        )
    )
    if "before" in sizes:
        out.append(
            (
                "Lambda package MB zipped (arm64), before issue 24 -> now",
                f"{sizes['before']['zip_bytes'] / 1e6:.2f} -> {built / 1e6:.2f}",
                f"files {sizes['before']['files']} -> {sizes['built']['files']}",
            )
        )
    out.append(
        (
            "Lambda package files (arm64)",
            str(sizes["built"]["files"]),
            f"today {sizes['today']['files']}",
        )
    )
    if results["problems"]:
        out.append(
            ("cold start problems", str(len(results["problems"])), results["problems"][0][:200])
        )
    for route, kinds in results["warm"].items():
        sync, asynchronous = kinds["sync"], kinds["async"]
        saved = 1 - asynchronous["cpu_us"] / sync["cpu_us"]
        out.append(
            (
                f"warm CPU us per call, {route}, async routes",
                f"{asynchronous['cpu_us']:.0f}",
                f"sync routes {sync['cpu_us']:.0f} (async saves {saved:.0%} of the CPU); "
                f"wall {asynchronous['wall_us']:.0f} vs {sync['wall_us']:.0f}",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.coldstart", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=7, help="cold starts per function and tree")
    parser.add_argument("--warm-calls", type=int, default=200, help="warm calls per block")
    parser.add_argument(
        "--baseline", default=BASELINE, help=f"revision to compare with ({BASELINE}; '' for none)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="privochat-baseline-") as folder:
        tree = unpack(args.baseline, Path(folder)) if args.baseline else None
        results = measure(args.runs, args.warm_calls, baseline=tree)
    print(json.dumps(results, indent=2))
    width = max(len(name) for name, _, _ in rows(results))
    for name, ours, base in rows(results):
        print(f"{name:<{width}}  {ours:>8}  {base}")
    for problem in results["problems"]:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
