"""Publish static_site/ to a deployed PrivoChat stack.

    python -m infra.publish_site [--stack-name privochat] [--region eu-west-1]
    python -m infra.publish_site --empty      # before `sam delete`: empty the bucket

Reads the stack's outputs (SiteBucketName, DistributionId, WebSocketUrl, SiteUrl),
uploads every file of the site with its content type and cache headers, removes
objects the site no longer has, writes /config.json (same-origin API, the site's
own wss://<domain>/ws) and invalidates the CloudFront cache. Uses the ordinary AWS
credential chain (AWS_PROFILE, environment, SSO...)."""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

SITE_DIR = Path(__file__).resolve().parents[1] / "static_site"
DEFAULT_STACK = os.environ.get("PRIVOCHAT_STACK", "privochat")
CONFIG_KEY = "config.json"
# Pages and config.json are revalidated on every load, so a publish shows at once;
# the assets they load are not fingerprinted, so they are kept only briefly.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True)
class SiteObject:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def content_type(path: Path) -> str:
    return (
        _TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


def site_objects(site_dir: Path, ws_url: str) -> Iterator[SiteObject]:
    """Every file under site_dir (dotfiles skipped), then the generated config.json."""
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
        key = path.relative_to(site_dir).as_posix()
        if key == CONFIG_KEY or any(
            part.startswith(".") for part in path.relative_to(site_dir).parts
        ):
            continue
        cache = PAGE_CACHE if path.suffix == ".html" else ASSET_CACHE
        yield SiteObject(key, path.read_bytes(), content_type(path), cache)
    config = json.dumps({"apiBase": "", "wsUrl": ws_url}, indent=2).encode() + b"\n"
    yield SiteObject(CONFIG_KEY, config, "application/json", PAGE_CACHE)


def existing_keys(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def delete_keys(s3: Any, bucket: str, keys: Sequence[str]) -> None:
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def publish(
    s3: Any, cloudfront: Any, outputs: dict[str, str], site_dir: Path = SITE_DIR
) -> list[str]:
    """Upload the site, prune what it no longer has, invalidate; returns the keys written."""
    bucket = outputs["SiteBucketName"]
    stale = existing_keys(s3, bucket)
    written = []
    for item in site_objects(site_dir, outputs["WebSocketUrl"]):
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.body,
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )
        written.append(item.key)
        stale.discard(item.key)
    delete_keys(s3, bucket, sorted(stale))
    cloudfront.create_invalidation(
        DistributionId=outputs["DistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"publish-site-{time.time_ns()}",
        },
    )
    return written


def main(argv: Sequence[str] | None = None, session: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stack-name", default=DEFAULT_STACK, help=f"default: {DEFAULT_STACK} ($PRIVOCHAT_STACK)"
    )
    parser.add_argument("--region", help="default: the AWS CLI/SDK configuration")
    parser.add_argument("--site-dir", type=Path, default=SITE_DIR)
    parser.add_argument(
        "--empty", action="store_true", help="delete every object of the site bucket and stop"
    )
    args = parser.parse_args(argv)

    session = session or boto3.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack_name)
    s3 = session.client("s3")
    if args.empty:
        keys = sorted(existing_keys(s3, outputs["SiteBucketName"]))
        delete_keys(s3, outputs["SiteBucketName"], keys)
        print(f"Deleted {len(keys)} objects from s3://{outputs['SiteBucketName']}")
        return 0
    written = publish(s3, session.client("cloudfront"), outputs, args.site_dir)
    print(
        f"Published {len(written)} files to s3://{outputs['SiteBucketName']} and invalidated the CDN cache."
    )
    print(f"Open {outputs['SiteUrl']} (changes show within a few minutes).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
