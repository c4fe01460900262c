"""The SAM templates lint clean, transform to CloudFormation, and the result keeps
the security properties issue 7 asks for. Offline: no AWS, no Docker."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from tests.deploy.sam_templates import (
    REQUIRED_PARAMETERS,
    ROOT,
    TEMPLATE,
    TEMPLATES,
    WEBSOCKET_TEMPLATE,
    load_template,
    resources_of_type,
    transform,
)

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.values()))


def _distribution(root_cfn: dict[str, Any]) -> dict[str, Any]:
    return _only(resources_of_type(root_cfn, "AWS::CloudFront::Distribution"))["Properties"][
        "DistributionConfig"
    ]


def _behaviour(root_cfn: dict[str, Any], pattern: str) -> dict[str, Any]:
    return next(b for b in _distribution(root_cfn)["CacheBehaviors"] if b["PathPattern"] == pattern)


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:  # the optional customer-managed-key statement
                statement = statement["Fn::If"][1]
            found.append(statement)
    return found


def _all_functions(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    return {
        **resources_of_type(root_cfn, "AWS::Lambda::Function"),
        **resources_of_type(websocket_cfn, "AWS::Lambda::Function"),
    }


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_finds_no_errors(path: Path) -> None:
    errors = [m for m in lint_file(path) if m.rule.id.startswith("E")]
    assert not errors, "\n".join(str(m) for m in errors)


def test_sam_transform_gives_cloudformation_only(root_cfn, websocket_cfn) -> None:
    for template in (root_cfn, websocket_cfn):
        assert "Transform" not in template
        assert not [
            r["Type"]
            for r in template["Resources"].values()
            if r["Type"].startswith("AWS::Serverless::")
        ]


def test_websocket_api_has_its_three_routes_throttled_stage_and_deployment(websocket_cfn) -> None:
    api = _only(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Api"))
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == [
        "$connect",
        "$default",
        "$disconnect",
    ]
    assert len(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Integration")) == 3
    deployment = _only(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Deployment"))
    assert sorted(deployment["DependsOn"]) == sorted(routes)
    stage = _only(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    permissions = resources_of_type(websocket_cfn, "AWS::Lambda::Permission")
    assert {p["Properties"]["Principal"] for p in permissions.values()} == {
        "apigateway.amazonaws.com"
    }
    assert len(permissions) == 3


def test_http_api_serves_api_paths_and_is_throttled(root_cfn) -> None:
    stage = _only(resources_of_type(root_cfn, "AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["StageName"] == "$default"
    assert "ThrottlingRateLimit" in stage["DefaultRouteSettings"]
    body = _only(resources_of_type(root_cfn, "AWS::ApiGatewayV2::Api"))["Properties"]["Body"]
    assert list(body["paths"]) == ["/api/{proxy+}"]


def test_functions_are_arm64_python312_with_limits_and_log_retention(
    root_cfn, websocket_cfn
) -> None:
    functions = _all_functions(root_cfn, websocket_cfn)
    assert len(functions) == 4
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert 128 <= props["MemorySize"] <= 1024, name
        assert props["Timeout"] <= 29, name  # under API Gateway's integration timeout
    for template in (root_cfn, websocket_cfn):
        groups = resources_of_type(template, "AWS::Logs::LogGroup")
        named = {g["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups.values()}
        expected = {
            f"/aws/lambda/${{{n}}}" for n in resources_of_type(template, "AWS::Lambda::Function")
        }
        assert named == expected
        assert all(
            g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
            for g in groups.values()
        )


def test_bucket_is_private_and_read_only_by_this_distribution_through_oac(root_cfn) -> None:
    bucket = _only(resources_of_type(root_cfn, "AWS::S3::Bucket"))["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket
    statements = _only(resources_of_type(root_cfn, "AWS::S3::BucketPolicy"))["Properties"][
        "PolicyDocument"
    ]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "CloudFrontReadsThroughOAC",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${SiteBucket.Arn}/*"},
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
                    }
                }
            },
        }
    ]
    oac = _only(resources_of_type(root_cfn, "AWS::CloudFront::OriginAccessControl"))["Properties"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    site_origin = next(o for o in _distribution(root_cfn)["Origins"] if "S3OriginConfig" in o)
    assert site_origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert site_origin["S3OriginConfig"]["OriginAccessIdentity"] == ""


def test_cloudfront_serves_https_only_from_one_domain(root_cfn) -> None:
    config = _distribution(root_cfn)
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} <= {"redirect-to-https", "https-only"}
    custom = [o["CustomOriginConfig"] for o in config["Origins"] if "CustomOriginConfig" in o]
    assert len(custom) == 2
    assert all(c["OriginProtocolPolicy"] == "https-only" for c in custom)
    assert "CustomErrorResponses" not in config  # would rewrite the APIs' 403/404 bodies
    for pattern in ("/api/*", "/ws"):
        behaviour = _behaviour(root_cfn, pattern)
        assert behaviour["CachePolicyId"] == CACHING_DISABLED, pattern
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST, pattern
    assert "POST" in _behaviour(root_cfn, "/api/*")["AllowedMethods"]
    assert "DELETE" in _behaviour(root_cfn, "/api/*")["AllowedMethods"]


def test_cloudfront_functions_rewrite_room_and_ws_paths(root_cfn) -> None:
    functions = resources_of_type(root_cfn, "AWS::CloudFront::Function")
    room = functions["RoomRewriteFunction"]["Properties"]["FunctionCode"]
    assert "/room.html" in room and "\\/room\\/" in room
    ws = functions["WebSocketPathFunction"]["Properties"]["FunctionCode"]["Fn::Sub"]
    assert "request.uri = '/${StageName}'" in ws
    default = _distribution(root_cfn)["DefaultCacheBehavior"]["FunctionAssociations"]
    assert default[0]["FunctionARN"] == {
        "Fn::GetAtt": ["RoomRewriteFunction", "FunctionMetadata.FunctionARN"]
    }
    ws_assoc = _behaviour(root_cfn, "/ws")["FunctionAssociations"]
    assert ws_assoc[0]["FunctionARN"] == {
        "Fn::GetAtt": ["WebSocketPathFunction", "FunctionMetadata.FunctionARN"]
    }


def test_response_headers_policy_sets_strict_csp_hsts_and_no_referrer(root_cfn) -> None:
    policy = _only(resources_of_type(root_cfn, "AWS::CloudFront::ResponseHeadersPolicy"))
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = dict(
        directive.strip().split(" ", 1)
        for directive in security["ContentSecurityPolicy"]["ContentSecurityPolicy"].split(";")
        if " " in directive.strip()
    )
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    for pattern in ("/api/*",):
        assert _behaviour(root_cfn, pattern)["ResponseHeadersPolicyId"] == {
            "Ref": "SecurityHeadersPolicy"
        }
    assert _distribution(root_cfn)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "SecurityHeadersPolicy"
    }


def test_manage_connections_is_scoped_to_this_websocket_api(root_cfn, websocket_cfn) -> None:
    ws_role = resources_of_type(websocket_cfn, "AWS::IAM::Role")["WebSocketFunctionRole"]
    http_role = resources_of_type(root_cfn, "AWS::IAM::Role")["HttpFunctionRole"]
    ws_manage = [s for s in _statements(ws_role) if s["Action"] == "execute-api:ManageConnections"]
    assert [s["Resource"] for s in ws_manage] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${WebSocketApi}/${StageName}/*/@connections/*"
        }
    ]
    http_manage = [
        s for s in _statements(http_role) if s["Action"] == "execute-api:ManageConnections"
    ]
    assert [s["Resource"] for s in http_manage] == [
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                "${ApiId}/${StageName}/*/@connections/*",
                {"ApiId": {"Fn::GetAtt": ["WebSocket", "Outputs.ApiId"]}},
            ]
        }
    ]


def test_roles_grant_nothing_broad(root_cfn, websocket_cfn) -> None:
    roles = {
        **resources_of_type(root_cfn, "AWS::IAM::Role"),
        **resources_of_type(websocket_cfn, "AWS::IAM::Role"),
    }
    assert len(roles) == 2
    for name, role in roles.items():
        managed = role["Properties"]["ManagedPolicyArns"]
        arns = [m if isinstance(m, str) else m["Fn::Sub"] for m in managed]
        assert len(arns) == 1 and arns[0].endswith(
            ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ), name
        actions = sorted(s["Action"] for s in _statements(role))
        assert actions == ["execute-api:ManageConnections", "kms:Decrypt", "ssm:GetParameter"], name
        for statement in _statements(role):
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] != "*", (name, statement)
        ssm = next(s for s in _statements(role) if s["Action"] == "ssm:GetParameter")
        assert ssm["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${UpstashTokenParameterName}"
        }
        kms = next(s for s in _statements(role) if s["Action"] == "kms:Decrypt")
        assert "kms:ViaService" in kms["Condition"]["StringEquals"]


def test_upstash_token_is_never_a_parameter_value_env_value_or_output(
    root_cfn, websocket_cfn
) -> None:
    raw = load_template(TEMPLATE)
    assert "UpstashRestToken" not in raw["Parameters"]
    assert not [
        p
        for p in raw["Parameters"]
        if "token" in p.lower() and not p.endswith(("ParameterName", "KmsKeyArn"))
    ]
    assert raw["Parameters"]["UpstashTokenParameterName"]["AllowedPattern"].startswith("^/")
    for name, function in _all_functions(root_cfn, websocket_cfn).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["UPSTASH_REDIS_REST_TOKEN"] == "", name  # only env.json fills it, locally
        assert variables["UPSTASH_REDIS_REST_TOKEN_PARAMETER"] == {
            "Ref": "UpstashTokenParameterName"
        }, name
    for template in (root_cfn, websocket_cfn):
        outputs = json.dumps(template.get("Outputs", {}))
        assert "Token" not in outputs and "TOKEN" not in outputs


def test_every_function_gets_the_settings_the_code_reads(root_cfn, websocket_cfn) -> None:
    names = {
        "UPSTASH_REDIS_REST_URL",
        "UPSTASH_REDIS_REST_TOKEN",
        "UPSTASH_REDIS_REST_TOKEN_PARAMETER",
        "WEBSOCKET_MANAGEMENT_URL",
        "ROOM_TTL_SECONDS",
        "ALLOWED_ORIGINS",
        "LOG_LEVEL",
    }
    # Only the HTTP function creates rooms and sends messages: the rate limits are its own.
    rate_limits = {"RATE_LIMIT_ROOMS_PER_MINUTE", "RATE_LIMIT_MESSAGES_PER_MINUTE"}
    for name, function in _all_functions(root_cfn, websocket_cfn).items():
        expected = names | rate_limits if name == "HttpFunction" else names
        assert set(function["Properties"]["Environment"]["Variables"]) == expected, name


def test_outputs_tell_the_user_every_url(root_cfn) -> None:
    assert {
        "SiteUrl",
        "HttpApiUrl",
        "WebSocketUrl",
        "WebSocketManagementUrl",
        "SiteBucketName",
        "DistributionId",
    } <= set(root_cfn["Outputs"])
    assert root_cfn["Outputs"]["WebSocketUrl"]["Value"] == {
        "Fn::Sub": "wss://${Distribution.DomainName}/ws"
    }


def test_a_customer_managed_key_is_optional() -> None:
    with_key = transform(
        TEMPLATE,
        {
            **REQUIRED_PARAMETERS,
            "UpstashTokenKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
        },
    )
    assert "HasCustomerManagedKey" in with_key["Conditions"]


def _handlers(template_path: Path) -> list[str]:
    template = load_template(template_path)
    default = template.get("Globals", {}).get("Function", {}).get("Handler")
    return [
        r["Properties"].get("Handler", default)
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]


@pytest.mark.parametrize(
    "handler",
    [h for path in TEMPLATES for h in _handlers(path)],
    ids=lambda h: h.rsplit(".", 1)[-1],
)
def test_handler_named_in_template_imports_from_the_code_package(handler: str) -> None:
    module_name, function_name = handler.rsplit(".", 1)
    source = ROOT / "functions" / (module_name.replace(".", "/") + ".py")
    assert source.exists(), f"{handler}: no {source.relative_to(ROOT)}"
    module = importlib.import_module(module_name)
    assert Path(module.__file__).resolve() == source.resolve()
    assert callable(getattr(module, function_name, None)), f"{handler} is not a callable"


def test_both_templates_build_one_code_package() -> None:
    root = load_template(TEMPLATE)["Resources"]["HttpFunction"]["Properties"]
    child = load_template(WEBSOCKET_TEMPLATE)["Globals"]["Function"]
    assert (ROOT / root["CodeUri"]).resolve() == (
        WEBSOCKET_TEMPLATE.parent / child["CodeUri"]
    ).resolve()
    assert (ROOT / root["CodeUri"] / "requirements.txt").exists()
    for key in ("Runtime", "Architectures"):
        assert root[key] == child[key], key
