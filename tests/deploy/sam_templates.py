"""What the deployment checks share: the SAM templates (raw, and transformed to
CloudFormation by aws-sam-translator) and how to run the isolated SAM CLI in .venv-sam."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from build_lambda import BuildError, python312

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
WEBSOCKET_TEMPLATE = ROOT / "infra" / "websocket.yaml"
TEMPLATES = (TEMPLATE, WEBSOCKET_TEMPLATE)
REGION = "eu-west-1"
# What a user must pass to `sam deploy` (every other parameter has a default).
REQUIRED_PARAMETERS = {
    "UpstashRestUrl": "https://eu1-example-12345.upstash.io",
    "OriginVerifySecret": "0123456789abcdef" * 4,  # as `openssl rand -hex 32` makes one
}
# Values the root stack hands the nested one, for transforming the child alone.
_FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:privochat-{}"
CHILD_PARAMETERS = {
    "ApiId": "abcd123456",
    "StageName": "prod",
    "ConnectFunctionArn": _FUNCTION_ARN.format("connect"),
    "DisconnectFunctionArn": _FUNCTION_ARN.format("disconnect"),
    "DefaultFunctionArn": _FUNCTION_ARN.format("default"),
    "ThrottlingBurstLimit": "800",
    "ThrottlingRateLimit": "400",
    "PingThrottlingBurstLimit": "2000",
    "PingThrottlingRateLimit": "1000",
}

SAM_VENV = Path(os.environ.get("SAM_VENV", ROOT / ".venv-sam"))
SAM = SAM_VENV / "bin" / "sam"


def _runtime_python_bin() -> Path:
    """Where a Python matching the template's Runtime (3.12) is, for `sam build`'s
    PATH: $SAM_RUNTIME_PYTHON_BIN, else found as the Lambda build finds it."""
    if os.environ.get("SAM_RUNTIME_PYTHON_BIN"):
        return Path(os.environ["SAM_RUNTIME_PYTHON_BIN"])
    try:
        return Path(python312()).parent
    except BuildError:
        return Path("/nonexistent-python3.12")


RUNTIME_PYTHON_BIN = _runtime_python_bin()


def load_template(path: Path) -> dict[str, Any]:
    """A SAM/CloudFormation YAML file as a dict (short-form intrinsics expanded)."""
    template: dict[str, Any] = yaml_parse(path.read_text())
    return template


def _as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` uploads: code as S3 objects instead of local folders."""
    packaged = copy.deepcopy(template)
    function_globals = packaged.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = "s3://example-bucket/functions.zip"
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = "s3://example-bucket/functions.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://example-bucket/layer.zip"
        if resource["Type"] == "AWS::Serverless::Application":
            resource["Properties"]["Location"] = (
                "https://example-bucket.s3.amazonaws.com/websocket.yaml"
            )
    return packaged


def transform(path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation template aws-sam-translator makes of a SAM template."""
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=REGION))
    cloudformation: dict[str, Any] = translator.translate(
        _as_packaged(load_template(path)), parameters, get_managed_policy_map=dict
    )
    return cloudformation


def parameter_values(path: Path, overrides: dict[str, str]) -> dict[str, Any]:
    """Every parameter of a template as a deploy would see it: the overrides, else the default."""
    return {
        name: overrides.get(name, spec.get("Default"))
        for name, spec in load_template(path).get("Parameters", {}).items()
    }


def evaluate(expression: Any, values: dict[str, Any], conditions: dict[str, Any]) -> Any:
    """The value of a condition or rule expression (Ref of a parameter, Fn::Equals, Fn::Not,
    Fn::And, Fn::Or, Condition), as CloudFormation computes it for these parameter values."""
    if not isinstance(expression, dict):
        return expression
    ((function, argument),) = expression.items()
    if function == "Ref":
        return values[argument]
    if function == "Condition":
        return evaluate(conditions[argument], values, conditions)
    arguments = [evaluate(a, values, conditions) for a in argument]
    if function == "Fn::Equals":
        return str(arguments[0]) == str(arguments[1])
    if function == "Fn::Not":
        return not arguments[0]
    if function == "Fn::And":
        return all(arguments)
    if function == "Fn::Or":
        return any(arguments)
    raise ValueError(f"no evaluator for {function}")


def _choose(node: Any, conditions: dict[str, bool]) -> Any:
    if isinstance(node, list):
        chosen_items = [_choose(n, conditions) for n in node]
        return [n for n in chosen_items if n != {"Ref": "AWS::NoValue"}]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        return _choose(when_true if conditions[name] else when_false, conditions)
    chosen = {k: _choose(v, conditions) for k, v in node.items()}
    return {k: v for k, v in chosen.items() if v != {"Ref": "AWS::NoValue"}}


def deployed(path: Path, overrides: dict[str, str]) -> dict[str, Any]:
    """The transformed template with its conditions decided for these parameters:
    every Fn::If replaced by the branch CloudFormation takes, AWS::NoValue dropped."""
    parameters = {**REQUIRED_PARAMETERS, **overrides} if path == TEMPLATE else overrides
    template = transform(path, parameters)
    values = parameter_values(path, parameters)
    raw_conditions = template.get("Conditions", {})
    conditions = {n: bool(evaluate(c, values, raw_conditions)) for n, c in raw_conditions.items()}
    chosen: dict[str, Any] = _choose(template, conditions)
    return chosen


def rules_hold(path: Path, overrides: dict[str, str]) -> dict[str, bool]:
    """Each rule's assertions (Rules section) evaluated for these parameters."""
    values = parameter_values(path, {**REQUIRED_PARAMETERS, **overrides})
    return {
        name: all(evaluate(a["Assert"], values, {}) for a in rule["Assertions"])
        for name, rule in load_template(path).get("Rules", {}).items()
    }


def resources_of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == type_name}


def sam_env() -> dict[str, str]:
    """Environment for the SAM CLI: dummy credentials and region, no telemetry,
    the runtime's Python first on PATH. No call reaches AWS."""
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SAM_CLI_TELEMETRY": "0",
        "SAM_CLI_BETA_FEATURES": "0",
        "PATH": f"{RUNTIME_PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def skip_unless_required(message: str) -> None:
    """Skip, except where CI asks for every test to run (PRIVOCHAT_REQUIRE_ALL=1): fail."""
    if os.environ.get("PRIVOCHAT_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)
