"""Whose rate limit a room creation counts against: a made-up viewer address
header is ignored unless CloudFront's origin secret came with it."""

from __future__ import annotations

import hashlib

import pytest

from privochat.client_address import client_address
from privochat.domain import hashed

SECRET = "cloudfront-origin-secret-for-tests"


def test_a_viewer_address_without_the_origin_secret_is_ignored() -> None:
    forged = {"cloudfront-viewer-address": "198.51.100.9:4431"}
    assert client_address(forged, "203.0.113.7", SECRET) == "203.0.113.7"
    wrong = {**forged, "x-origin-verify": "guess"}
    assert client_address(wrong, "203.0.113.7", SECRET) == "203.0.113.7"


def test_without_a_configured_secret_the_header_is_never_believed() -> None:
    sent = {"cloudfront-viewer-address": "198.51.100.9:4431", "x-origin-verify": ""}
    assert client_address(sent, "203.0.113.7", "") == "203.0.113.7"


def test_through_cloudfront_the_viewer_address_counts() -> None:
    headers = {"cloudfront-viewer-address": "198.51.100.9:4431", "x-origin-verify": SECRET}
    assert client_address(headers, "130.176.0.1", SECRET) == "198.51.100.9"


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd:443", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::7:51000", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::7]:51000", "2001:db8:1:2::/64"),
    ],
)
def test_an_ipv6_client_counts_as_its_slash_64(viewer: str, expected: str) -> None:
    headers = {"cloudfront-viewer-address": viewer, "x-origin-verify": SECRET}
    assert client_address(headers, "130.176.0.1", SECRET) == expected
    assert client_address({}, viewer.rsplit(":", 1)[0].strip("[]"), SECRET) == expected


def test_the_stored_identifier_is_keyed_and_not_a_plain_hash() -> None:
    one, other = hashed("198.51.100.9", b"a" * 32), hashed("198.51.100.9", b"b" * 32)
    assert one != other
    assert one != hashlib.sha256(b"198.51.100.9").hexdigest()[:32]
