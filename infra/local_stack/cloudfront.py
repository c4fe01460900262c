"""What CloudFront does in front of the site and both APIs in AWS, emulated here:
the security headers of its response headers policy; the viewer's address it
tells the APIs (a client cannot choose it) and the secret header that proves to
them the request came through CloudFront (template.yaml's OriginCustomHeaders)."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

# One source for both: template.yaml's ResponseHeadersPolicy must say the same
# (tests/local_stack/test_doors.py pins them equal).
SECURITY_HEADERS_FILE = Path(__file__).resolve().parents[1] / "security_headers.json"
SECURITY_HEADERS: dict[str, str] = json.loads(SECURITY_HEADERS_FILE.read_text())

# The one header the local stack changes: it serves plain http on loopback, and WebKit, unlike
# Chromium and Firefox, upgrades even loopback requests when the policy says
# upgrade-insecure-requests, so it would load nothing. Over https (CloudFront) the directive stays.
UPGRADE_DIRECTIVE = "upgrade-insecure-requests"


def over_plain_http(headers: dict[str, str]) -> dict[str, str]:
    """The security headers as sent over plain http: the CSP without upgrade-insecure-requests."""
    directives = [d.strip() for d in headers["Content-Security-Policy"].split(";")]
    csp = "; ".join(d for d in directives if d and d != UPGRADE_DIRECTIVE)
    return {**headers, "Content-Security-Policy": csp}


LOCAL_SECURITY_HEADERS = over_plain_http(SECURITY_HEADERS)

# Headers CloudFront sets itself (CloudFront-Viewer-Address, CloudFront-Is-*-Viewer,
# ...): a viewer's own are never passed on.
_CLOUDFRONT_PREFIX = "cloudfront-"
# An origin custom header replaces a viewer's header of the same name.
ORIGIN_SECRET_HEADER = "X-Origin-Verify"  # noqa: S105 - a header name, not a secret


def viewer_address(request: web.Request) -> str:
    """`ip:port` of the peer, as CloudFront-Viewer-Address gives it (IPv6 unbracketed)."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return f"{request.remote or '127.0.0.1'}:0"


def origin_headers(request: web.Request, origin_secret: str) -> CIMultiDict[str]:
    """The viewer's headers as an API behind CloudFront gets them: CloudFront's own
    headers and the origin secret set by CloudFront, whatever the viewer sent
    under those names."""
    headers: CIMultiDict[str] = CIMultiDict(
        (name, value)
        for name, value in request.headers.items()
        if not name.lower().startswith(_CLOUDFRONT_PREFIX)
        and name.lower() != ORIGIN_SECRET_HEADER.lower()
    )
    headers["CloudFront-Viewer-Address"] = viewer_address(request)
    headers[ORIGIN_SECRET_HEADER] = origin_secret
    return headers
