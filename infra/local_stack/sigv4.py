"""Signature Version 4, checked as API Gateway checks the Management API's callers:
botocore signs every `post_to_connection`; here the signature is computed again
with botocore's own signer and the credentials the stack's handlers use, and a
request without it, with other credentials or a stale date is refused (403)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[^/\s,]+)/"
    r"(?P<service>[^/\s,]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
# API Gateway refuses a request signed more than 5 minutes before or after its clock.
_MAX_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Refusal:
    """What API Gateway answers then: 403, its error type and message."""

    error_type: str
    message: str


_MISSING = Refusal("MissingAuthenticationTokenException", "Missing Authentication Token")
_UNKNOWN_KEY = Refusal(
    "UnrecognizedClientException", "The security token included in the request is invalid."
)
_EXPIRED = Refusal("InvalidSignatureException", "Signature expired.")
_MISMATCH = Refusal(
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided.",
)


class SigV4Verifier:
    def __init__(self, credentials: ReadOnlyCredentials | None) -> None:
        # None (no credentials at all): every request is refused.
        self._credentials = credentials

    def refusal(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> Refusal | None:
        """None when the request is signed with the stack's credentials. `url` is
        the scheme, the Host and the path exactly as sent (still percent-encoded)."""
        match = _AUTHORIZATION.match(headers.get("Authorization", ""))
        if match is None:
            return _MISSING
        credentials = self._credentials
        if credentials is None or not hmac.compare_digest(
            match["key"].encode(), (credentials.access_key or "").encode()
        ):
            return _UNKNOWN_KEY
        token = credentials.token
        if token and not hmac.compare_digest(
            headers.get("X-Amz-Security-Token", "").encode(), token.encode()
        ):
            return _UNKNOWN_KEY
        amz_date = headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
        except ValueError:
            return _MISSING
        if abs((now or datetime.now(UTC)) - signed_at) > _MAX_SKEW or not amz_date.startswith(
            match["date"]
        ):
            return _EXPIRED
        signed = match["signed"].split(";")
        if "host" not in signed or any(name not in headers for name in signed):
            return _MISMATCH
        # Only the headers the caller signed, with the values that arrived.
        request = AWSRequest(
            method=method, url=url, headers={name: headers[name] for name in signed}, data=body
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(credentials, match["service"], match["region"])
        expected = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        if not hmac.compare_digest(expected.encode(), match["signature"].encode()):
            return _MISMATCH
        return None
