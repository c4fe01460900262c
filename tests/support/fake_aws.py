"""The two AWS services the functions call (the Management API's @connections and
SSM's GetParameters), answered in-process by an httpx transport: every request's
SigV4 signature is checked with botocore's own signer (infra/local_stack/sigv4.py),
and faults (410, 429, 500) can be injected per connection. Requests to any other
host (the embedded Upstash endpoint) go out as usual."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx
from botocore.credentials import ReadOnlyCredentials

from infra.local_stack.sigv4 import SigV4Verifier

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_ERROR_TYPES = {410: "GoneException", 429: "LimitExceededException", 500: "InternalServerError"}


@dataclass
class FakeAws:
    parameters: dict[str, str] = field(default_factory=dict)
    # (method, connection ID, body) of every Management API request, faulted ones included.
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    # connection ID -> the frames delivered to it (each POST answered 200).
    frames: dict[str, list[bytes]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    ssm_requests: int = 0
    status_for: Callable[[str], int | None] = lambda _: None

    def __post_init__(self) -> None:
        self._verifier = SigV4Verifier(ReadOnlyCredentials("testing", "testing", None))
        self._outside = httpx.HTTPTransport()

    def client(self, timeout: float = 3.0) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._handle), timeout=timeout)

    def posted(self, connection_id: str) -> list[dict[str, object]]:
        return [json.loads(frame) for frame in self.frames.get(connection_id, [])]

    def attempts(self) -> list[str]:
        return [connection_id for _, connection_id, _ in self.requests]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if ".execute-api." not in host and not host.startswith("ssm."):
            return self._outside.handle_request(request)
        body = request.read()
        url = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.raw_path.decode()}"
        refusal = self._verifier.refusal(request.method, url, request.headers, body)
        if refusal is not None:
            return httpx.Response(403, json={"message": refusal.message})
        if host.startswith("ssm."):
            return self._ssm(request, body)
        connection_id = unquote(request.url.raw_path.decode().rsplit("/@connections/", 1)[1])
        self.requests.append((request.method, connection_id, body))
        status = self.status_for(connection_id)
        if status is not None:
            return httpx.Response(
                status,
                json={"message": "injected"},
                headers={"x-amzn-ErrorType": _ERROR_TYPES[status]},
            )
        if request.method == "DELETE":
            self.deleted.append(connection_id)
            self.frames.pop(connection_id, None)  # as moto and the gateway: its data is gone
        else:
            self.frames.setdefault(connection_id, []).append(body)
        return httpx.Response(200)

    def _ssm(self, request: httpx.Request, body: bytes) -> httpx.Response:
        if request.headers.get("X-Amz-Target") != "AmazonSSM.GetParameters":
            return httpx.Response(400, json={"__type": "InvalidAction"})
        self.ssm_requests += 1
        names = json.loads(body)["Names"]
        found = [{"Name": n, "Value": self.parameters[n]} for n in names if n in self.parameters]
        missing = [n for n in names if n not in self.parameters]
        return httpx.Response(200, json={"Parameters": found, "InvalidParameters": missing})
