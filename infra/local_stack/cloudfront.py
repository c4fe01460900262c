"""What CloudFront does in front of the site and both APIs in AWS, emulated here:
the security headers of its response headers policy, and the viewer's address it
tells the origins (a client cannot choose it)."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

# One source for both: template.yaml's ResponseHeadersPolicy must say the same
# (tests/e2e/test_local_stack.py pins them equal).
SECURITY_HEADERS_FILE = Path(__file__).resolve().parents[1] / "security_headers.json"
SECURITY_HEADERS: dict[str, str] = json.loads(SECURITY_HEADERS_FILE.read_text())

# Headers CloudFront sets itself (CloudFront-Viewer-Address, CloudFront-Is-*-Viewer,
# ...): a viewer's own are never passed on.
_CLOUDFRONT_PREFIX = "cloudfront-"


def viewer_address(request: web.Request) -> str:
    """`ip:port` of the peer, as CloudFront-Viewer-Address gives it (IPv6 unbracketed)."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return f"{request.remote or '127.0.0.1'}:0"


def origin_headers(request: web.Request) -> CIMultiDict[str]:
    """The viewer's headers as an origin behind CloudFront gets them: CloudFront's
    own headers set by CloudFront, whatever the viewer sent under those names."""
    headers: CIMultiDict[str] = CIMultiDict(
        (name, value)
        for name, value in request.headers.items()
        if not name.lower().startswith(_CLOUDFRONT_PREFIX)
    )
    headers["CloudFront-Viewer-Address"] = viewer_address(request)
    return headers
