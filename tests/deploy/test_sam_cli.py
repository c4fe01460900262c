"""SAM CLI (pinned, in .venv-sam) on the templates: its own API provider, what
`sam local start-api` builds its routes with, and `sam validate --lint` / `sam build`.
SAM CLI runs in a subprocess: it pins boto3 and pydantic apart from the project."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.sam_templates import (
    REGION,
    REQUIRED_PARAMETERS,
    ROOT,
    RUNTIME_PYTHON_BIN,
    TEMPLATE,
    WEBSOCKET_TEMPLATE,
    load_template,
    sam_env,
    skip_unless_required,
)

# Runs inside .venv-sam: the stacks (nested ones included) as SamLocalStackProvider
# reads them for `sam local`, then ApiProvider's routes and the functions.
_PROVIDER_SCRIPT = """
import json, sys
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

template_file, overrides = sys.argv[1], json.loads(sys.argv[2])
stacks, _ = SamLocalStackProvider.get_stacks(template_file, parameter_overrides=overrides)
try:
    routes = sorted(
        [method, route.path, route.function_name] for route in ApiProvider(stacks, cwd=".").routes
        for method in route.methods
    )
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    sys.exit(0)
functions = sorted(
    [f.full_path, f.handler, f.runtime, f.architectures] for f in SamFunctionProvider(stacks).get_all()
)
print(json.dumps({"stacks": [s.stack_path for s in stacks], "routes": routes, "functions": functions}))
"""


def _sam_python(sam_cli: Path) -> Path:
    return sam_cli.parent / "python"


def _providers(sam_cli: Path, template: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            str(_sam_python(sam_cli)),
            "-c",
            _PROVIDER_SCRIPT,
            str(template),
            json.dumps(REQUIRED_PARAMETERS),
        ],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_sam_local_api_provider_finds_the_http_routes_without_crashing(sam_cli: Path) -> None:
    found = _providers(sam_cli, TEMPLATE)
    assert "error" not in found, found["error"]
    assert found["stacks"] == ["", "WebSocket"]
    methods = {method for method, path, function in found["routes"] if path == "/api/{proxy+}"}
    assert {"GET", "POST", "DELETE"} <= methods
    assert {function for _, _, function in found["routes"]} == {"HttpFunction"}
    assert found["functions"] == [
        ["ConnectFunction", "privochat.ws_api.on_connect", "python3.12", ["arm64"]],
        ["DefaultFunction", "privochat.ws_api.on_default", "python3.12", ["arm64"]],
        ["DisconnectFunction", "privochat.ws_api.on_disconnect", "python3.12", ["arm64"]],
        ["HttpFunction", "privochat.http_api.handler", "python3.12", ["arm64"]],
    ]


def test_the_websocket_api_first_in_the_root_would_break_the_provider(
    sam_cli: Path, tmp_path: Path
) -> None:
    """The control of template.yaml's ordering note: SAM CLI reads API resources with the
    reader of the first API-like resource it meets; were that the WebSocket API, it would
    skip the HTTP API and parse the nested routes."""
    root = load_template(TEMPLATE)
    resources = root["Resources"]
    reordered = {"WebSocketApi": resources["WebSocketApi"], **resources}
    moved = tmp_path / "template.yaml"
    moved.write_text(json.dumps({**root, "Resources": reordered}))  # JSON is YAML
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "websocket.yaml").write_text(WEBSOCKET_TEMPLATE.read_text())
    found = _providers(sam_cli, moved)
    assert found.get("error") == "ValueError: not enough values to unpack (expected 2, got 1)", (
        found
    )


def test_websocket_routes_in_the_root_template_would_crash_the_provider(
    sam_cli: Path, tmp_path: Path
) -> None:
    """The control: the same resources in one template, WebSocket API first, make SAM
    CLI parse `$connect` as "METHOD /path" and fail: why the routes are nested."""
    root = load_template(TEMPLATE)
    child = load_template(WEBSOCKET_TEMPLATE)
    flat = {
        **root,
        "Resources": {
            **{
                k: v
                for k, v in child["Resources"].items()
                if v["Type"].startswith("AWS::ApiGatewayV2::")
            },
            **{k: v for k, v in root["Resources"].items() if k != "WebSocket"},
        },
    }
    # The child's parameters, as the root fills them in.
    text = json.dumps(flat).replace('{"Ref": "ApiId"}', '{"Ref": "WebSocketApi"}')
    for name in ("Connect", "Disconnect", "Default"):
        text = text.replace(f"${{{name}FunctionArn}}", f"${{{name}Function.Arn}}")
        text = text.replace(
            f'{{"Ref": "{name}FunctionArn"}}', f'{{"Fn::GetAtt": ["{name}Function", "Arn"]}}'
        )
    flat_template = tmp_path / "template.yaml"
    flat_template.write_text(text)  # JSON is YAML
    found = _providers(sam_cli, flat_template)
    assert found.get("error") == "ValueError: not enough values to unpack (expected 2, got 1)", (
        found
    )


@pytest.mark.sam
@pytest.mark.parametrize("template", [TEMPLATE, WEBSOCKET_TEMPLATE], ids=lambda p: p.name)
def test_sam_validate_lint_passes(sam_cli: Path, template: Path) -> None:
    result = subprocess.run(
        [str(sam_cli), "validate", "--lint", "--template-file", str(template), "--region", REGION],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


@pytest.mark.sam
def test_sam_build_installs_the_dependencies_once_for_all_four_functions(
    sam_cli: Path, tmp_path: Path
) -> None:
    """One layer holds the arm64 dependencies, built once; each function's package is
    privochat's code alone (SAM CLI builds every makefile function on its own)."""
    if not (RUNTIME_PYTHON_BIN / "python3.12").exists():
        skip_unless_required(
            f"sam build needs python3.12 (the Runtime): none in {RUNTIME_PYTHON_BIN}"
        )
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [
            str(sam_cli),
            "build",
            "--template-file",
            str(TEMPLATE),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--region",
            REGION,
        ],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Build Succeeded" in output
    assert (build_dir / "template.yaml").exists()
    assert (build_dir / "WebSocket" / "template.yaml").exists()
    installs = [line for line in output.splitlines() if "--part dependencies" in line]
    assert len(installs) == 1, output
    layer = build_dir / "DependenciesLayer" / "python"
    native = list((layer / "pydantic_core").glob("_pydantic_core.*.so"))
    assert native and all("aarch64" in so.name and "cpython-312" in so.name for so in native), (
        native
    )
    for function in ("HttpFunction", "ConnectFunction", "DisconnectFunction", "DefaultFunction"):
        package = build_dir / function
        assert [path.name for path in package.iterdir()] == ["privochat"], function
        assert (package / "privochat" / "http_api.py").exists()
        assert (package / "privochat" / "ws_api.py").exists()
