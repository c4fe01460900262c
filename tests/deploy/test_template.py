"""The SAM templates lint clean, transform to CloudFormation, and the result keeps
the security properties issues 7 and 12 ask for. Offline: no AWS, no Docker."""

from __future__ import annotations

import importlib
import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from devkit.servers import find_program
from privochat.client_address import ORIGIN_SECRET_HEADER, VIEWER_HEADER
from privochat.config import ENVIRONMENT
from privochat.cookies import COOKIE_NAME, SECURE_COOKIE_NAME
from tests.deploy.sam_templates import (
    ROOT,
    TEMPLATE,
    TEMPLATES,
    WEBSOCKET_TEMPLATE,
    deployed,
    load_template,
    resources_of_type,
    rules_hold,
)

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Managed-AllViewerExceptHostHeader: forwards the viewer's headers (allExcept Host) and no
# header CloudFront adds, such as CloudFront-Viewer-Address.
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_HEADER = [{"HeaderName": "X-Origin-Verify", "HeaderValue": {"Ref": "OriginVerifySecret"}}]
DOMAIN = {
    "DomainName": "chat.example.com",
    "AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
}


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.values()))


def _distribution(root_cfn: dict[str, Any]) -> dict[str, Any]:
    distribution = _only(resources_of_type(root_cfn, "AWS::CloudFront::Distribution"))
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


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


def _env(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def _ssm_arn(parameter: str) -> dict[str, str]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${"
        + parameter
        + "}"
    }


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_finds_no_errors_or_warnings(path: Path) -> None:
    # Warnings too: `sam validate --lint` fails on them.
    errors = [m for m in lint_file(path) if m.rule.id.startswith(("E", "W"))]
    assert not errors, "\n".join(str(m) for m in errors)


def test_sam_transform_gives_cloudformation_only(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    for template in (root_cfn, websocket_cfn):
        assert "Transform" not in template
        assert not [
            r["Type"]
            for r in template["Resources"].values()
            if r["Type"].startswith("AWS::Serverless::")
        ]


def test_websocket_api_has_its_routes_integrations_permissions_and_throttled_stage(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    assert not resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Api")
    websocket_apis = {
        name: r
        for name, r in resources_of_type(root_cfn, "AWS::ApiGatewayV2::Api").items()
        if r["Properties"].get("ProtocolType") == "WEBSOCKET"
    }
    api = _only(websocket_apis)
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == [
        "$connect",
        "$default",
        "$disconnect",
        "ping",
    ]
    assert len(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Integration")) == 3
    stage = _only(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    # The heartbeat has a throttle of its own: typing never throttles it (issue 24).
    assert stage["RouteSettings"]["ping"]["ThrottlingRateLimit"] == {
        "Ref": "PingThrottlingRateLimit"
    }
    permissions = resources_of_type(websocket_cfn, "AWS::Lambda::Permission")
    assert {p["Properties"]["Principal"] for p in permissions.values()} == {
        "apigateway.amazonaws.com"
    }
    assert len(permissions) == 4
    child = root_cfn["Resources"]["WebSocket"]["Properties"]["Parameters"]
    assert child["ApiId"] == {"Ref": "WebSocketApi"}
    assert {
        child[f"{n}FunctionArn"]["Fn::GetAtt"][0] for n in ("Connect", "Disconnect", "Default")
    } == {
        "ConnectFunction",
        "DisconnectFunction",
        "DefaultFunction",
    }


def test_websocket_stage_auto_deploys_every_route_and_integration_change(
    websocket_cfn: dict[str, Any],
) -> None:
    """An AWS::ApiGatewayV2::Deployment is made once: later route or integration changes
    would never reach the stage. AutoDeploy redeploys on each; the stage waits for the routes."""
    assert not resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Deployment")
    stage = _only(resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Stage"))
    assert stage["Properties"]["AutoDeploy"] is True
    assert "DeploymentId" not in stage["Properties"]
    routes = resources_of_type(websocket_cfn, "AWS::ApiGatewayV2::Route")
    assert sorted(stage["DependsOn"]) == sorted(routes)


def test_default_throttles_serve_500_active_rooms_with_twice_the_headroom(
    root_cfn: dict[str, Any],
) -> None:
    """README, "Sizing": an active room makes 0.2 HTTP requests/s, 0.4 $default frames/s
    (typing) and 0.1 pings/s."""
    defaults = {name: p.get("Default") for name, p in root_cfn["Parameters"].items()}
    rooms = 500
    assert defaults["HttpThrottlingRateLimit"] >= 2 * 0.2 * rooms
    assert defaults["WebSocketThrottlingRateLimit"] >= 2 * 0.4 * rooms
    assert defaults["PingThrottlingRateLimit"] >= 2 * 0.1 * rooms
    for kind in ("Http", "WebSocket", "Ping"):
        assert defaults[f"{kind}ThrottlingBurstLimit"] >= defaults[f"{kind}ThrottlingRateLimit"]


def test_http_api_serves_api_paths_and_is_throttled(root_cfn: dict[str, Any]) -> None:
    stage = _only(resources_of_type(root_cfn, "AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["StageName"] == "$default"
    assert "ThrottlingRateLimit" in stage["DefaultRouteSettings"]
    body = resources_of_type(root_cfn, "AWS::ApiGatewayV2::Api")["HttpApi"]["Properties"]["Body"]
    assert list(body["paths"]) == ["/api/{proxy+}"]


def test_functions_are_arm64_python312_with_limits_and_log_retention(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
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


def test_bucket_is_private_and_read_only_by_this_distribution_through_oac(
    root_cfn: dict[str, Any],
) -> None:
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


def test_cloudfront_serves_https_only_from_one_domain(root_cfn: dict[str, Any]) -> None:
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
        assert behaviour["OriginRequestPolicyId"] == {"Ref": "ApiOriginRequestPolicy"}, pattern
    assert "POST" in _behaviour(root_cfn, "/api/*")["AllowedMethods"]
    assert "DELETE" in _behaviour(root_cfn, "/api/*")["AllowedMethods"]


def _function_code(root_cfn: dict[str, Any], name: str) -> str:
    """A CloudFront function's code, its ${SitePaths} filled from the template's Mappings."""
    code, names = resources_of_type(root_cfn, "AWS::CloudFront::Function")[name]["Properties"][
        "FunctionCode"
    ]["Fn::Sub"]
    assert names == {"SitePaths": {"Fn::FindInMap": ["Site", "Paths", "Pattern"]}}
    pattern = root_cfn["Mappings"]["Site"]["Paths"]["Pattern"]
    return str(code).replace("${SitePaths}", pattern)


def _run_functions(root_cfn: dict[str, Any], paths: list[str]) -> dict[str, list[Any]]:
    """Each path through the viewer-request function, then the viewer-response one
    (shown the rewritten request, and the viewer's), in Node as CloudFront runs them."""
    request = _function_code(root_cfn, "RoomRewriteFunction")
    response = _function_code(root_cfn, "NotFoundStatusFunction")
    script = f"""
    const request = (() => {{ {request}; return handler; }})();
    const response = (() => {{ {response}; return handler; }})();
    const out = {{}};
    for (const uri of {json.dumps(paths)}) {{
      const rewritten = request({{ request: {{ uri }} }}).uri;
      const status = (seen) => response({{ request: {{ uri: seen }}, response: {{ statusCode: 200 }} }}).statusCode;
      out[uri] = [rewritten, status(rewritten), status(uri)];
    }}
    console.log(JSON.stringify(out));
    """
    node = find_program("node")
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_every_file_of_the_site_is_served_and_anything_else_is_the_404_page(
    root_cfn: dict[str, Any],
) -> None:
    files = sorted(
        "/" + str(path.relative_to(ROOT / "static_site"))
        for path in (ROOT / "static_site").rglob("*")
        if path.is_file()
    )
    assert "/js/room.js" in files and "/404.html" in files
    served = _run_functions(root_cfn, ["/", "/config.json", *files])
    for path, (rewritten, status, status_seen_raw) in served.items():
        if path == "/404.html":
            continue
        assert (rewritten, status, status_seen_raw) == (path, 200, 200), path
    unknown = ["/nope", "/css/nope.txt", "/room/abc/deeper", "/.env", "/js/../../etc"]
    for path, (rewritten, status, status_seen_raw) in _run_functions(root_cfn, unknown).items():
        assert (rewritten, status, status_seen_raw) == ("/404.html", 404, 404), path
    [(rewritten, status, raw)] = _run_functions(root_cfn, ["/room/AbC_-123"]).values()
    assert (rewritten, status, raw) == ("/room.html", 200, 200)


def test_cloudfront_functions_rewrite_room_and_ws_paths(root_cfn: dict[str, Any]) -> None:
    functions = resources_of_type(root_cfn, "AWS::CloudFront::Function")
    ws = functions["WebSocketPathFunction"]["Properties"]["FunctionCode"]["Fn::Sub"]
    assert "request.uri = '/${StageName}'" in ws
    default = _distribution(root_cfn)["DefaultCacheBehavior"]["FunctionAssociations"]
    assert [(each["EventType"], each["FunctionARN"]) for each in default] == [
        (
            "viewer-request",
            {"Fn::GetAtt": ["RoomRewriteFunction", "FunctionMetadata.FunctionARN"]},
        ),
        (
            "viewer-response",
            {"Fn::GetAtt": ["NotFoundStatusFunction", "FunctionMetadata.FunctionARN"]},
        ),
    ]
    ws_assoc = _behaviour(root_cfn, "/ws")["FunctionAssociations"]
    assert ws_assoc[0]["FunctionARN"] == {
        "Fn::GetAtt": ["WebSocketPathFunction", "FunctionMetadata.FunctionARN"]
    }


def test_both_apis_get_the_viewer_address_and_what_the_functions_read_never_the_host(
    root_cfn: dict[str, Any],
) -> None:
    """Without CloudFront-Viewer-Address the room-creation limit keys on CloudFront's edge
    address. A whitelist names it (CloudFront API reference: allExcept and allViewer pass
    viewer headers only; allViewer* would pass the viewer's Host, which API Gateway
    refuses), with the cookie and headers the functions read and the WebSocket handshake's
    two (CloudFront's WebSockets guide)."""
    policy = _only(resources_of_type(root_cfn, "AWS::CloudFront::OriginRequestPolicy"))
    config = policy["Properties"]["OriginRequestPolicyConfig"]
    headers = config["HeadersConfig"]
    assert headers["HeaderBehavior"] == "whitelist"
    forwarded = {name.lower() for name in headers["Headers"]}
    assert {VIEWER_HEADER, "origin", "content-type"} <= forwarded
    assert {"sec-websocket-key", "sec-websocket-version"} <= forwarded
    assert "host" not in forwarded
    assert config["CookiesConfig"] == {
        "CookieBehavior": "whitelist",
        "Cookies": sorted([SECURE_COOKIE_NAME, COOKIE_NAME]),
    }
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}  # roomId, id
    for pattern in ("/api/*", "/ws"):
        policy_id = _behaviour(root_cfn, pattern)["OriginRequestPolicyId"]
        assert policy_id == {"Ref": "ApiOriginRequestPolicy"}, pattern
        assert policy_id != ALL_VIEWER_EXCEPT_HOST


def _request_headers_the_code_reads() -> set[str]:
    """Header names read in functions/privochat: headers.get("x"), .get(b"x"),
    _header(event, "x"), and client_address's two."""
    pattern = re.compile(r'(?:headers\.get\(|\.get\(b|_header\(event, )"([A-Za-z0-9-]+)"')
    found = {VIEWER_HEADER, ORIGIN_SECRET_HEADER}
    for source in (ROOT / "functions" / "privochat").rglob("*.py"):
        found |= {name.lower() for name in pattern.findall(source.read_text())}
    return found


def test_every_request_header_the_functions_read_reaches_them(root_cfn: dict[str, Any]) -> None:
    """Through the whitelist, the cookies' own setting, CloudFront's custom origin header,
    or what CloudFront always sends (Content-Length)."""
    policy = _only(resources_of_type(root_cfn, "AWS::CloudFront::OriginRequestPolicy"))
    config = policy["Properties"]["OriginRequestPolicyConfig"]
    forwarded = {name.lower() for name in config["HeadersConfig"]["Headers"]}
    forwarded |= {"cookie", "content-length", ORIGIN_SECRET_HEADER}
    read = _request_headers_the_code_reads()
    assert {"origin", "cookie", "content-length", VIEWER_HEADER} <= read  # the scan works
    assert read <= forwarded, sorted(read - forwarded)


def test_response_headers_policy_sets_strict_csp_hsts_and_no_referrer(
    root_cfn: dict[str, Any],
) -> None:
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


def test_one_role_and_one_environment_serve_all_four_functions(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    """The four functions need the same settings and permissions: one Globals block and
    one role in template.yaml, none of either in the nested stack, nothing written twice."""
    raw_root, raw_child = load_template(TEMPLATE), load_template(WEBSOCKET_TEMPLATE)
    sam_functions = {
        n: r["Properties"]
        for n, r in raw_root["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert sorted(sam_functions) == [
        "ConnectFunction",
        "DefaultFunction",
        "DisconnectFunction",
        "HttpFunction",
    ]
    for name, props in sam_functions.items():
        assert "Environment" not in props and "Policies" not in props, name
        assert props["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}, name
    assert "Environment" in raw_root["Globals"]["Function"]
    assert "Globals" not in raw_child
    assert not [
        n
        for n, r in raw_child["Resources"].items()
        if r["Type"].startswith(("AWS::Serverless::", "AWS::Lambda::Function", "AWS::IAM::"))
    ]
    roles = {
        **resources_of_type(root_cfn, "AWS::IAM::Role"),
        **resources_of_type(websocket_cfn, "AWS::IAM::Role"),
    }
    assert list(roles) == ["FunctionRole"]
    functions = _all_functions(root_cfn, websocket_cfn)
    assert len(functions) == 4
    environments = [_env(f) for f in functions.values()]
    assert all(e == environments[0] for e in environments)


def test_manage_connections_is_scoped_to_this_websocket_api(root_cfn: dict[str, Any]) -> None:
    role = resources_of_type(root_cfn, "AWS::IAM::Role")["FunctionRole"]
    manage = [s for s in _statements(role) if s["Action"] == "execute-api:ManageConnections"]
    assert [s["Resource"] for s in manage] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${WebSocketApi}/${StageName}/*/@connections/*"
        }
    ]


def _ssm_calls_in_the_code() -> set[str]:
    """The SSM API actions the functions' code calls (boto method name -> IAM action)."""
    found: set[str] = set()
    for source in (ROOT / "functions" / "privochat").rglob("*.py"):
        for method in re.findall(
            r"\.(get_parameters_by_path|get_parameters|get_parameter)\(", source.read_text()
        ):
            found.add("ssm:" + "".join(part.title() for part in method.split("_")))
        # A signed request of our own (aws_sigv4.py): its X-Amz-Target names the action.
        found |= {"ssm:" + action for action in re.findall(r"AmazonSSM\.(\w+)", source.read_text())}
    return found


def test_the_role_grants_only_what_the_code_calls_on_named_resources(
    root_cfn: dict[str, Any],
) -> None:
    role = resources_of_type(root_cfn, "AWS::IAM::Role")["FunctionRole"]
    managed = role["Properties"]["ManagedPolicyArns"]
    arns = [m if isinstance(m, str) else m["Fn::Sub"] for m in managed]
    assert len(arns) == 1 and arns[0].endswith(
        ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    statements = _statements(role)
    actions = sorted(
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    ssm_actions = {a for a in actions if a.startswith("ssm:")}
    assert ssm_actions == _ssm_calls_in_the_code() != set()
    assert sorted(a for a in actions if not a.startswith("ssm:")) == [
        "execute-api:ManageConnections",
        "kms:Decrypt",
    ]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] != "*", statement
        assert "*" not in json.dumps(statement.get("Action")), statement
    ssm = next(s for s in statements if str(s["Action"]).startswith("ssm:"))
    assert ssm["Resource"] == [
        _ssm_arn("UpstashTokenParameterName"),
        _ssm_arn("AppSecretParameterName"),
    ]
    kms = next(s for s in statements if s["Action"] == "kms:Decrypt")
    assert kms["Resource"] == {"Ref": "SecretsKmsKeyArn"}
    assert "kms:ViaService" in kms["Condition"]["StringEquals"]


def test_a_customer_managed_key_is_optional() -> None:
    without = deployed(TEMPLATE, {})
    with_key = deployed(
        TEMPLATE, {"SecretsKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc-123"}
    )
    kms = [
        [s for s in _statements(t["Resources"]["FunctionRole"]) if s["Action"] == "kms:Decrypt"]
        for t in (without, with_key)
    ]
    assert kms[0] == [] and len(kms[1]) == 1


def test_upstash_token_and_app_secret_are_never_a_parameter_value_env_value_or_output(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    raw = load_template(TEMPLATE)
    assert "UpstashRestToken" not in raw["Parameters"]
    assert not [
        p
        for p in raw["Parameters"]
        if ("token" in p.lower() or "appsecret" in p.lower()) and not p.endswith("ParameterName")
    ]
    for name in ("UpstashTokenParameterName", "AppSecretParameterName"):
        assert raw["Parameters"][name]["AllowedPattern"].startswith("^/")
    assert raw["Parameters"]["AppSecretParameterName"]["Default"] == "/privochat/app-secret"
    for name, function in _all_functions(root_cfn, websocket_cfn).items():
        variables = _env(function)
        # only env.json fills these, for sam local
        assert variables["UPSTASH_REDIS_REST_TOKEN"] == "", name
        assert variables["APP_SECRET"] == "", name
        assert variables["UPSTASH_REDIS_REST_TOKEN_PARAMETER"] == {
            "Ref": "UpstashTokenParameterName"
        }, name
        assert variables["APP_SECRET_PARAMETER"] == {"Ref": "AppSecretParameterName"}, name
    for template in (root_cfn, websocket_cfn):
        outputs = json.dumps(template.get("Outputs", {}))
        assert "Token" not in outputs and "TOKEN" not in outputs and "Secret" not in outputs


def test_cloudfront_sends_the_origin_secret_to_both_apis_and_the_functions_get_it(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    origins = {o["Id"]: o for o in _distribution(root_cfn)["Origins"]}
    assert origins["http-api"]["OriginCustomHeaders"] == ORIGIN_HEADER
    assert origins["websocket-api"]["OriginCustomHeaders"] == ORIGIN_HEADER
    assert "OriginCustomHeaders" not in origins["site"]
    for name, function in _all_functions(root_cfn, websocket_cfn).items():
        assert _env(function)["ORIGIN_VERIFY_SECRET"] == {"Ref": "OriginVerifySecret"}, name
    # Those two headers and the functions' setting are the only places it goes.
    uses = json.dumps([root_cfn["Resources"], root_cfn["Outputs"], websocket_cfn])
    assert uses.count('{"Ref": "OriginVerifySecret"}') == 2 + 4


def test_origin_secret_is_a_required_no_echo_parameter() -> None:
    spec = load_template(TEMPLATE)["Parameters"]["OriginVerifySecret"]
    assert spec["NoEcho"] is True  # hidden in the console, describe-stacks, samconfig.toml
    assert "Default" not in spec  # no plain value in the template: each deploy brings its own
    assert spec["MinLength"] >= 32
    pattern = re.compile(spec["AllowedPattern"])
    for made in (secrets.token_hex(32), secrets.token_urlsafe(32)):
        assert pattern.fullmatch(made) and spec["MinLength"] <= len(made) <= spec["MaxLength"]
    assert not pattern.fullmatch("two words") and not pattern.fullmatch('quote"d')


def test_without_a_domain_the_default_certificate_and_cloudfront_name_serve() -> None:
    template = deployed(TEMPLATE, {})
    config = _distribution(template)
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in config
    outputs = template["Outputs"]
    assert outputs["SiteUrl"]["Value"] == {"Fn::Sub": "https://${Distribution.DomainName}"}
    assert outputs["WebSocketUrl"]["Value"] == {"Fn::Sub": "wss://${Distribution.DomainName}/ws"}
    http = template["Resources"]["HttpFunction"]
    assert _env(http)["ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}


def test_a_custom_domain_gets_its_certificate_sni_and_tls_1_2_at_least() -> None:
    template = deployed(TEMPLATE, DOMAIN)
    config = _distribution(template)
    assert config["Aliases"] == [{"Ref": "DomainName"}]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": "AcmCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    outputs = template["Outputs"]
    assert outputs["SiteUrl"]["Value"] == {"Fn::Sub": "https://${DomainName}"}
    assert outputs["WebSocketUrl"]["Value"] == {"Fn::Sub": "wss://${DomainName}/ws"}
    assert outputs["DistributionDomainName"]["Value"] == {
        "Fn::GetAtt": ["Distribution", "DomainName"]
    }
    # The site's origin is known before the first deploy: it is the allowed one...
    http = template["Resources"]["HttpFunction"]
    assert _env(http)["ALLOWED_ORIGINS"] == {"Fn::Sub": "https://${DomainName}"}
    # ...unless the deployer names others.
    named = deployed(TEMPLATE, {**DOMAIN, "AllowedOrigins": "https://a.example"})
    assert _env(named["Resources"]["HttpFunction"])["ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}


def test_domain_and_certificate_come_together_and_the_certificate_from_us_east_1() -> None:
    assert rules_hold(TEMPLATE, {}) == {"DomainNeedsItsCertificate": True}
    assert rules_hold(TEMPLATE, DOMAIN) == {"DomainNeedsItsCertificate": True}
    for only in ("DomainName", "AcmCertificateArn"):
        assert rules_hold(TEMPLATE, {only: DOMAIN[only]}) == {"DomainNeedsItsCertificate": False}
    parameters = load_template(TEMPLATE)["Parameters"]
    certificate = re.compile(parameters["AcmCertificateArn"]["AllowedPattern"])
    assert certificate.fullmatch(DOMAIN["AcmCertificateArn"])
    assert certificate.fullmatch("")
    assert not certificate.fullmatch(DOMAIN["AcmCertificateArn"].replace("us-east-1", "eu-west-1"))
    domain = re.compile(parameters["DomainName"]["AllowedPattern"])
    assert domain.fullmatch("chat.example.com") and domain.fullmatch("")
    assert not domain.fullmatch("https://chat.example.com") and not domain.fullmatch(
        "Chat.Example.com"
    )


def test_every_function_gets_the_settings_the_code_reads(
    root_cfn: dict[str, Any], websocket_cfn: dict[str, Any]
) -> None:
    names = {
        "UPSTASH_REDIS_REST_URL",
        "UPSTASH_REDIS_REST_TOKEN",
        "UPSTASH_REDIS_REST_TOKEN_PARAMETER",
        "APP_SECRET",
        "APP_SECRET_PARAMETER",
        "ORIGIN_VERIFY_SECRET",
        "WEBSOCKET_MANAGEMENT_URL",
        "ROOM_TTL_SECONDS",
        "ALLOWED_ORIGINS",
        "RATE_LIMIT_ROOMS_PER_MINUTE",
        "RATE_LIMIT_MESSAGES_PER_MINUTE",
        "LOG_LEVEL",
    }
    # The rest of ENVIRONMENT (the body limit, the Redis timeout) keeps its defaults in AWS.
    assert names <= set(ENVIRONMENT)
    for name, function in _all_functions(root_cfn, websocket_cfn).items():
        assert set(_env(function)) == names, name
        assert _env(function)["WEBSOCKET_MANAGEMENT_URL"] == {
            "Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}"
        }


def test_outputs_tell_the_user_every_url(root_cfn: dict[str, Any]) -> None:
    assert {
        "SiteUrl",
        "DistributionDomainName",
        "HttpApiUrl",
        "WebSocketUrl",
        "WebSocketApiUrl",
        "WebSocketManagementUrl",
        "SiteBucketName",
        "DistributionId",
    } <= set(root_cfn["Outputs"])


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
    assert module.__file__ is not None, f"{module_name} has no file"
    assert Path(module.__file__).resolve() == source.resolve()
    assert callable(getattr(module, function_name, None)), f"{handler} is not a callable"


def test_all_functions_build_from_one_code_package_and_one_layer() -> None:
    template = load_template(TEMPLATE)
    common = template["Globals"]["Function"]
    assert (ROOT / common["CodeUri"] / "requirements.txt").exists()
    assert common["Runtime"] == "python3.12" and common["Architectures"] == ["arm64"]
    assert common["Layers"] == [{"Ref": "DependenciesLayer"}]
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for key in ("CodeUri", "Runtime", "Architectures", "Layers"):
                assert key not in resource["Properties"], (name, key)
            assert resource["Metadata"] == {"BuildMethod": "makefile"}, name


def test_the_dependencies_layer_is_built_once_for_python312_on_arm64_and_not_kept() -> None:
    """SAM CLI never groups makefile functions into one build (each is built on its own):
    the pip install is the layer's, built once from the same folder (functions/Makefile)."""
    layers = resources_of_type(load_template(TEMPLATE), "AWS::Serverless::LayerVersion")
    assert list(layers) == ["DependenciesLayer"]
    layer = layers["DependenciesLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    properties = layer["Properties"]
    assert properties["ContentUri"] == "functions/"
    assert properties["CompatibleRuntimes"] == ["python3.12"]
    assert properties["CompatibleArchitectures"] == ["arm64"]
    assert properties["RetentionPolicy"] == "Delete"  # old versions go with each deploy
    makefile = (ROOT / "functions" / "Makefile").read_text()
    assert "build-DependenciesLayer:" in makefile


# CloudFormation's longest stack name, and a stack ID of it as CloudFormation makes one.
LONGEST_STACK_NAME = "p" * 128
STACK_ID = (
    f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{LONGEST_STACK_NAME}"
    "/5f3c2b1a-7d6e-11ef-9a8b-0a1b2c3d4e5f"
)


def _resolve(node: Any, stack_id: str = STACK_ID) -> Any:
    """The value of a name's expression (Ref of the stack's pseudo parameters, Fn::Sub,
    Fn::Select, Fn::Split) for this stack."""
    if isinstance(node, str):
        return node
    ((function, argument),) = node.items()
    if function == "Ref":
        return {"AWS::StackId": stack_id, "AWS::StackName": stack_id.split("/")[1]}[argument]
    if function == "Fn::Select":
        return _resolve(argument[1], stack_id)[int(argument[0])]
    if function == "Fn::Split":
        return _resolve(argument[1], stack_id).split(argument[0])
    if function == "Fn::Sub":
        text, names = (argument, {}) if isinstance(argument, str) else argument
        values = {k: _resolve(v, stack_id) for k, v in names.items()}
        values |= {
            f"AWS::{k}": _resolve({"Ref": f"AWS::{k}"}, stack_id) for k in ("StackId", "StackName")
        }
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)
    raise ValueError(f"no evaluator for {function}")


def _named(root_cfn: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    """Every name or comment the template derives, with the most characters it may hold
    (CloudFront API reference: a function's and an OAC's name 64; a distribution's
    comment 128); 64 for the others too. (The HTTP API's, which SAM sets to the stack's
    name, fits the 128 characters of an API's name.)"""
    named: dict[str, tuple[Any, int]] = {}
    for name, resource in root_cfn["Resources"].items():
        properties = resource["Properties"]
        if resource["Type"] == "AWS::CloudFront::Function" or "Name" in properties:
            named[name] = (properties["Name"], 64)
        elif resource["Type"] == "AWS::CloudFront::OriginAccessControl":
            named[name] = (properties["OriginAccessControlConfig"]["Name"], 64)
        elif resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy":
            named[name] = (properties["ResponseHeadersPolicyConfig"]["Name"], 64)
        elif resource["Type"] == "AWS::CloudFront::OriginRequestPolicy":
            named[name] = (properties["OriginRequestPolicyConfig"]["Name"], 64)
        elif resource["Type"] == "AWS::CloudFront::Distribution":
            named[name] = (properties["DistributionConfig"]["Comment"], 128)
    return named


def test_the_longest_stack_name_breaks_no_name_the_stack_derives(root_cfn: dict[str, Any]) -> None:
    """A stack name over ~53 characters made `<stack>-site-paths` overflow the 64 characters
    of a CloudFront Function's name: names come from the stack's ID instead."""
    named = _named(root_cfn)
    assert len(named) == 8, sorted(named)
    values = {name: _resolve(expression) for name, (expression, _) in named.items()}
    for name, (_, limit) in named.items():
        assert len(values[name]) <= limit, (name, values[name])
    for name in resources_of_type(root_cfn, "AWS::CloudFront::Function"):
        assert re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", values[name]), values[name]
    assert values["RoomRewriteFunction"] == "privochat-5f3c2b1a-site-paths"
    assert "AWS::StackName" not in TEMPLATE.read_text()


def test_names_differ_between_stacks_and_between_resources(root_cfn: dict[str, Any]) -> None:
    """CloudFront Functions' names are global to the account: two stacks of one name (in two
    regions, say) get different ones."""
    named = _named(root_cfn)
    other = STACK_ID.replace("5f3c2b1a", "0e9d8c7b").replace("eu-west-1", "us-east-1")
    first = {name: _resolve(expression) for name, (expression, _) in named.items()}
    second = {name: _resolve(expression, other) for name, (expression, _) in named.items()}
    assert len(set(first.values())) == len(first)
    assert not set(first.values()) & set(second.values())


def test_the_browser_deletes_a_rooms_keys_by_the_longest_life_the_template_allows() -> None:
    """static_site/js/room-keys.js caps what rests at MAX_ROOM_LIFE_S, whatever ttl a server
    claims: it must be the template's largest RoomTtlSeconds."""
    largest = load_template(TEMPLATE)["Parameters"]["RoomTtlSeconds"]["MaxValue"]
    source = (TEMPLATE.parent / "static_site/js/room-keys.js").read_text()
    match = re.search(r"export const MAX_ROOM_LIFE_S = (\d+);", source)
    assert match is not None
    assert int(match[1]) == largest
