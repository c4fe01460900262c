"""The stdlib SigV4 signer gives botocore's signature for the same request (both
services the functions call, a session token, a path that needs encoding twice)."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from privochat.aws_sigv4 import Credentials, sign

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("service", "url", "body", "headers"),
    [
        (
            "execute-api",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw%3D",
            b'{"type":"typing"}',
            {"Content-Type": "application/json"},
        ),
        (
            "execute-api",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/a%2Fb%3D",
            b"",
            {},
        ),
        (
            "ssm",
            "https://ssm.eu-west-1.amazonaws.com/",
            b'{"Names": ["/p/x"], "WithDecryption": true}',
            {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AmazonSSM.GetParameters",
            },
        ),
    ],
)
@pytest.mark.parametrize("token", [None, "session/token=="])
def test_the_signature_is_botocores(
    service: str, url: str, body: bytes, headers: dict[str, str], token: str | None
) -> None:
    ours = sign(
        "POST",
        url,
        body,
        service=service,
        region="eu-west-1",
        credentials=Credentials("AKIDEXAMPLE", "secret/key", token),
        headers=headers,
        now=NOW,
    )
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    request.context["timestamp"] = ours["X-Amz-Date"]
    request.headers["X-Amz-Date"] = ours["X-Amz-Date"]
    if token:
        request.headers["X-Amz-Security-Token"] = token
    signer = SigV4Auth(BotoCredentials("AKIDEXAMPLE", "secret/key", token), service, "eu-west-1")
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert ours["Authorization"].endswith(f"Signature={expected}")
    assert (
        f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}"
        in ours["Authorization"]
    )
