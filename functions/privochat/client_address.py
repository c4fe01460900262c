"""Who is asking, for the room-creation rate limit: the browser's address as
CloudFront saw it, when the request provably came through CloudFront.

The HTTP API's own endpoint is public, so anyone can send a made-up
`CloudFront-Viewer-Address`; CloudFront adds a secret header (`X-Origin-Verify`,
template.yaml) that only it knows, and only then is the viewer address believed.
Otherwise the address API Gateway saw is used. An IPv6 client counts as its
/64, which one subscriber usually holds whole.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

VIEWER_HEADER = "cloudfront-viewer-address"
ORIGIN_SECRET_HEADER = "x-origin-verify"  # noqa: S105 - a header name, not a secret


def client_address(headers: Mapping[str, str], peer: str, origin_secret: str) -> str:
    """`headers` with lower-case names; `peer` the address the gateway saw."""
    viewer = headers.get(VIEWER_HEADER)
    given = headers.get(ORIGIN_SECRET_HEADER, "")
    from_cloudfront = bool(origin_secret) and hmac.compare_digest(
        given.encode(), origin_secret.encode()
    )
    address = viewer.rsplit(":", 1)[0].strip("[]") if viewer and from_cloudfront else peer
    return _network(address)


def _network(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
