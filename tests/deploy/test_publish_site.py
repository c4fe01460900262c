"""infra/publish_site.py against moto's S3 and CloudFront, with the stack's outputs
stubbed (describe_stacks), on the real static_site/ and on a small site of our own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, Unpack, overload

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber
from moto import mock_aws

from infra.publish_site import ASSET_CACHE, PAGE_CACHE, main

REGION = "eu-west-1"
STACK = "privochat-test"
SITE_DOMAIN = "d111111abcdef8.cloudfront.net"


class _Bucket(TypedDict):
    Bucket: str


class _Object(TypedDict):
    Bucket: str
    Key: str


class _Distribution(TypedDict):
    DistributionId: str


class _S3(Protocol):
    """The S3 calls these tests read the bucket with (mypy-boto3-s3's S3Client, were it installed)."""

    def list_objects_v2(self, **request: Unpack[_Bucket]) -> dict[str, Any]: ...

    def get_object(self, **request: Unpack[_Object]) -> dict[str, Any]: ...


class _CloudFront(Protocol):
    """The CloudFront call these tests check the distribution with (mypy-boto3-cloudfront's
    CloudFrontClient, were it installed)."""

    def list_invalidations(self, **request: Unpack[_Distribution]) -> dict[str, Any]: ...


class _Session:
    """A boto3 session whose CloudFormation answers describe_stacks for our stack only
    (moto's CloudFormation would pull in every service's extras)."""

    def __init__(self, session: boto3.Session, distribution_id: str) -> None:
        self._session = session
        self.cloudformation: BaseClient = session.client("cloudformation")
        stubber = Stubber(self.cloudformation)
        outputs = {
            "SiteBucketName": "privochat-site-bucket",
            "DistributionId": distribution_id,
            "WebSocketUrl": f"wss://{SITE_DOMAIN}/ws",
            "SiteUrl": f"https://{SITE_DOMAIN}",
            "HttpApiUrl": "https://abcd987654.execute-api.eu-west-1.amazonaws.com",
        }
        stack = {
            "StackName": STACK,
            "CreationTime": "2026-11-25T08:00:00Z",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        }
        for _ in range(5):
            stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
        stubber.activate()

    @overload
    def client(self, name: Literal["cloudformation"]) -> BaseClient: ...
    @overload
    def client(self, name: Literal["s3"]) -> _S3: ...
    @overload
    def client(self, name: Literal["cloudfront"]) -> _CloudFront: ...
    def client(
        self, name: Literal["cloudformation", "s3", "cloudfront"]
    ) -> BaseClient | _S3 | _CloudFront:
        return self.cloudformation if name == "cloudformation" else self._session.client(name)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[_Session, str]]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket="privochat-site-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        distribution = session.client("cloudfront").create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "site",
                            "DomainName": "privochat-site-bucket.s3.eu-west-1.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )["Distribution"]
        yield _Session(session, distribution["Id"]), distribution["Id"]


def _objects(session: _Session) -> dict[str, dict[str, Any]]:
    s3 = session.client("s3")
    keys: list[str] = [
        o["Key"] for o in s3.list_objects_v2(Bucket="privochat-site-bucket").get("Contents", [])
    ]
    return {key: s3.get_object(Bucket="privochat-site-bucket", Key=key) for key in keys}


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "js").mkdir(parents=True)
    (site / "css").mkdir()
    (site / "index.html").write_text("<!doctype html><title>lobby</title>")
    (site / "room.html").write_text("<!doctype html><title>room</title>")
    (site / "js" / "room.js").write_text("export {};")
    (site / "css" / "app.css").write_text("body{}")
    (site / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (site / ".DS_Store").write_bytes(b"\0")
    (site / "config.json").write_text('{"wsUrl": "ws://127.0.0.1:3000/ws"}')
    return site


def test_publish_uploads_the_site_with_types_and_cache_headers(
    aws: tuple[_Session, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session, _ = aws
    assert main(["--stack-name", STACK, "--site-dir", str(_site(tmp_path))], session=session) == 0
    objects = _objects(session)
    assert sorted(objects) == [
        "config.json",
        "css/app.css",
        "favicon.svg",
        "index.html",
        "js/room.js",
        "room.html",
    ]
    expected = {
        "index.html": ("text/html; charset=utf-8", PAGE_CACHE),
        "room.html": ("text/html; charset=utf-8", PAGE_CACHE),
        "js/room.js": ("text/javascript; charset=utf-8", ASSET_CACHE),
        "css/app.css": ("text/css; charset=utf-8", ASSET_CACHE),
        "favicon.svg": ("image/svg+xml", ASSET_CACHE),
        "config.json": ("application/json", PAGE_CACHE),
    }
    for key, (content_type, cache) in expected.items():
        assert (objects[key]["ContentType"], objects[key]["CacheControl"]) == (
            content_type,
            cache,
        ), key
    assert f"https://{SITE_DOMAIN}" in capsys.readouterr().out


def test_config_json_points_at_the_sites_own_domain(
    aws: tuple[_Session, str], tmp_path: Path
) -> None:
    session, _ = aws
    main(["--stack-name", STACK, "--site-dir", str(_site(tmp_path))], session=session)
    config = json.loads(_objects(session)["config.json"]["Body"].read())
    assert config == {"apiBase": "", "wsUrl": f"wss://{SITE_DOMAIN}/ws"}


def test_publish_invalidates_the_distribution(aws: tuple[_Session, str], tmp_path: Path) -> None:
    session, distribution_id = aws
    site = _site(tmp_path)
    main(["--stack-name", STACK, "--site-dir", str(site)], session=session)
    main(["--stack-name", STACK, "--site-dir", str(site)], session=session)
    invalidations = session.client("cloudfront").list_invalidations(DistributionId=distribution_id)
    assert invalidations["InvalidationList"]["Quantity"] == 2


def test_republish_removes_files_the_site_no_longer_has(
    aws: tuple[_Session, str], tmp_path: Path
) -> None:
    session, _ = aws
    site = _site(tmp_path)
    main(["--stack-name", STACK, "--site-dir", str(site)], session=session)
    (site / "favicon.svg").unlink()
    main(["--stack-name", STACK, "--site-dir", str(site)], session=session)
    assert "favicon.svg" not in _objects(session)


def test_empty_deletes_every_object(aws: tuple[_Session, str], tmp_path: Path) -> None:
    session, _ = aws
    main(["--stack-name", STACK, "--site-dir", str(_site(tmp_path))], session=session)
    assert main(["--stack-name", STACK, "--empty"], session=session) == 0
    assert _objects(session) == {}


def test_the_real_site_publishes_with_known_content_types(aws: tuple[_Session, str]) -> None:
    session, _ = aws
    main(["--stack-name", STACK], session=session)
    objects = _objects(session)
    assert {"index.html", "room.html", "config.json"} <= set(objects)
    unknown = [k for k, o in objects.items() if o["ContentType"] == "application/octet-stream"]
    assert not unknown
