"""The local stack's own doors, as an attacker or a careless client finds them:
which hosts it answers, who may use its Management API, what the handlers are
told about the client, bad bytes, clients that stop reading, headers, 404s.
Real HTTP and WebSocket clients over loopback, against `python -m infra.local_stack`."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import botocore.session
import httpx
import pytest
from samtranslator.yaml_helper import yaml_parse
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.sync.client import ClientConnection

from devkit.api_client import ApiClient, greet, next_event
from devkit.credentials import PROOF, VERIFIER
from devkit.servers import ROOT, LocalStack, local_stack
from devkit.wire import wire_text

# The link key's join proof and the verifier a room is created with (see
# docs/protocol.md); any 32 bytes will do for the server.
LOCAL_SECRET = "local"  # the stack's default credentials: local / local


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(LOG_LEVEL="WARNING") as running:
        yield running


class Person(ApiClient):
    """A browser whose joins must succeed, and whose sockets have been greeted."""

    def join(self, room_id: str, proof: str = PROOF) -> httpx.Response:
        response = super().join(room_id, proof)
        assert response.status_code == 200, response.text
        return response

    def history(self, room_id: str) -> list[dict[str, Any]]:
        response = self.messages(room_id)
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    @contextmanager
    def websocket(self, room_id: str) -> Iterator[ClientConnection]:
        with super().websocket(room_id) as ws:
            greet(ws)  # $connect has returned: pushes reach it now
            yield ws


@contextmanager
def people(stack: LocalStack, count: int) -> Iterator[list[Person]]:
    crowd = [Person(stack.origin) for _ in range(count)]
    try:
        yield crowd
    finally:
        for person in crowd:
            person.close()


def joined_room(stack: LocalStack, *persons: Person) -> str:
    room_id = persons[0].create()
    for person in persons:
        person.join(room_id)
    return room_id


def connection_ids(stack: LocalStack, room_id: str) -> list[str]:
    """The room's connections, as the store keeps them (store_upstash.py's layout)."""
    conns = stack.redis("HGET", f"meta:{{{room_id}}}", "conns") or ""
    assert isinstance(conns, str)
    return [entry.split(" ", 1)[0] for entry in conns.split(",") if entry]


def management_client(stack: LocalStack, secret: str) -> Any:
    """What the handlers' pusher is: botocore, signing with the stack's credentials."""
    return botocore.session.get_session().create_client(
        "apigatewaymanagementapi",
        endpoint_url=f"{stack.origin}/_local/apigw",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key=secret,
    )


# 1. Host names ---------------------------------------------------------------


def test_only_its_own_host_names_are_answered(stack: LocalStack) -> None:
    """A DNS-rebinding page (its own name, resolved to 127.0.0.1) reaches nothing."""
    port = stack.port
    upstash = {"Authorization": f"Bearer {stack.upstash_token}"}
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert httpx.get(f"{stack.origin}/", headers={"Host": host}).status_code == 200
        answer = httpx.post(
            f"{stack.origin}/_local/upstash", json=["PING"], headers={**upstash, "Host": host}
        )
        assert answer.json() == {"result": "PONG"}
    for host in (
        f"rebind.evil.example:{port}",
        "evil.example",
        "127.0.0.1",
        f"localhost:{port + 1}",
    ):
        for method, path, extra in (
            ("POST", "/_local/upstash", upstash),
            ("POST", "/_local/apigw/@connections/abc", {}),
            ("POST", "/api/room/create", {}),
            ("GET", "/", {}),
            ("GET", "/ws?roomId=x", {"Upgrade": "websocket", "Connection": "Upgrade"}),
        ):
            refused = httpx.request(
                method,
                f"{stack.origin}{path}",
                json=["CONFIG", "GET", "dir"],
                headers={**extra, "Host": host},
            )
            assert refused.status_code == 421, (host, path, refused.text)
            assert refused.headers["content-type"].startswith("application/json")
            assert set(refused.json()) == {"error", "message"}


# 2. The Management API's authentication ----------------------------------------


def test_the_management_api_takes_only_requests_signed_with_the_local_credentials(
    stack: LocalStack,
) -> None:
    with people(stack, 1) as (ann,):
        room_id = joined_room(stack, ann)
        with ann.websocket(room_id) as ws:
            (connection_id,) = connection_ids(stack, room_id)
            url = f"{stack.origin}/_local/apigw/@connections/{quote(connection_id, safe='')}"
            forged = json.dumps({"type": "message", "forged": True})
            signature = "0" * 64
            credential = "Credential=local/20260101/us-east-1/execute-api/aws4_request"
            attempts = [
                # what a cross-origin page can send without a preflight
                {"Content-Type": "text/plain", "Origin": "https://evil.example"},
                {"Authorization": "Bearer whatever"},
                {
                    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/"
                    f"execute-api/aws4_request, SignedHeaders=host, Signature={signature}",
                },
                {
                    "Authorization": f"AWS4-HMAC-SHA256 {credential}, "
                    f"SignedHeaders=host;x-amz-date, Signature={signature}",
                    "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                },
            ]
            for headers in attempts:
                refused = httpx.post(url, content=forged, headers=headers)
                assert refused.status_code == 403, (headers, refused.text)
                assert refused.headers["x-amzn-errortype"].endswith("Exception")
            # Nor may an unsigned caller read the connection or hang up on it.
            assert httpx.get(url).status_code == 403
            assert httpx.delete(url).status_code == 403
            # Signed by botocore, but with a secret that is not the stack's.
            with pytest.raises(Exception, match=r"signature|Forbidden|403"):
                management_client(stack, secret="guessed").post_to_connection(
                    ConnectionId=connection_id, Data=forged.encode()
                )
            # What the handlers do (signed with the local credentials) still arrives,
            # and it is the first thing that does: nothing forged came before it.
            management_client(stack, LOCAL_SECRET).post_to_connection(
                ConnectionId=connection_id, Data=json.dumps({"type": "genuine"}).encode()
            )
            first = json.loads(ws.recv(timeout=5))
            assert first == {"type": "genuine"}


# 3. CloudFront's viewer address ----------------------------------------------------


@pytest.mark.parametrize("knows_the_origin_secret", [False, True])
def test_the_viewer_address_is_the_real_peer_whatever_the_client_says(
    knows_the_origin_secret: bool,
) -> None:
    """Even a client that knows the secret CloudFront proves itself with (a
    leaked X-Origin-Verify) cannot choose the address it is counted under."""
    secret = {"ORIGIN_VERIFY_SECRET": "leaked"} if knows_the_origin_secret else {}
    claimed = {"X-Origin-Verify": "leaked"} if knows_the_origin_secret else {}
    with local_stack(RATE_LIMIT_ROOMS_PER_MINUTE="2", LOG_LEVEL="WARNING", **secret) as strict:
        for _ in range(2):  # a fixed window may roll over mid-way: then once more
            with people(strict, 1) as (eve,):
                window = int(time.time()) // 60
                statuses = [
                    eve.http.post(
                        "/api/room/create",
                        json={"verifier": VERIFIER},
                        headers={**claimed, "CloudFront-Viewer-Address": f"198.51.100.{n}:443{n}"},
                    ).status_code
                    for n in range(3)
                ]
                if int(time.time()) // 60 == window:
                    break
        assert statuses[2] == 429, statuses
        # Another real address (Linux routes all of 127/8 to loopback) is another
        # client: the limit follows the peer, it is not one counter for everyone.
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(
            base_url=strict.origin, transport=transport, headers={"Origin": strict.origin}
        ) as elsewhere:
            assert (
                elsewhere.post("/api/room/create", json={"verifier": VERIFIER}).status_code == 200
            )


def test_the_stack_proves_itself_to_the_apis_with_the_templates_origin_header() -> None:
    """CloudFront's OriginCustomHeaders (template.yaml) name the header the local
    stack adds to every request it passes to the APIs."""
    from infra.local_stack.cloudfront import ORIGIN_SECRET_HEADER

    template = yaml_parse((ROOT / "template.yaml").read_text())
    (distribution,) = [
        resource["Properties"]["DistributionConfig"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudFront::Distribution"
    ]
    api_origins = [o for o in distribution["Origins"] if "CustomOriginConfig" in o]
    assert len(api_origins) == 2
    for origin in api_origins:
        names = [header["HeaderName"] for header in origin["OriginCustomHeaders"]]
        assert names == [ORIGIN_SECRET_HEADER]


# 4. Bad bytes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "\xff\xfe", "clientId": "c1"}',  # not UTF-8 at all
        b'{"text": "\xed\xa0\x80", "clientId": "c1"}',  # a UTF-16 surrogate, UTF-8 encoded
        b'{"text": "\\ud800", "clientId": "c1"}',  # a lone surrogate, JSON-escaped
        json.dumps({"text": wire_text("hi"), "clientId": "c1"}).encode("utf-16"),  # RFC 8259
    ],
    ids=["invalid-utf8", "encoded-surrogate", "escaped-surrogate", "utf-16"],
)
def test_bad_bytes_in_a_body_get_a_json_4xx_and_store_nothing(
    stack: LocalStack, body: bytes
) -> None:
    with people(stack, 1) as (ann,):
        room_id = joined_room(stack, ann)
        for path, params in (("/api/messages", {"roomId": room_id}), ("/api/room/create", {})):
            answer = ann.http.post(
                path, params=params, content=body, headers={"Content-Type": "application/json"}
            )
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["error"] == "bad-request"
        assert ann.history(room_id) == []


def raw_request(stack: LocalStack, cookie: bytes) -> tuple[bytes, dict[str, Any]]:
    """GET /api/room/ttl with this Cookie header, byte for byte (no client library
    sends a malformed one): the answer's head and its JSON body."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as raw:
        raw.sendall(
            f"GET /api/room/ttl?roomId={'A' * 21} HTTP/1.1\r\n".encode()
            + f"Host: 127.0.0.1:{stack.port}\r\nCookie: ".encode()
            + cookie
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), answer[:300]
    assert b"server:" not in head.lower()
    return head, json.loads(body)


@pytest.mark.parametrize("suffix", [b"x" * 9000, b"\x00\x01"], ids=["oversized", "control-bytes"])
def test_a_malformed_cookie_gets_the_json_error_and_no_log_has_its_token(
    stack: LocalStack, suffix: bytes
) -> None:
    """aiohttp refuses a header line it cannot parse before any handler runs: its
    answer was text/plain and its log a traceback quoting the line, token and all."""
    token = secrets.token_urlsafe(32)
    before = stack.log.read_text().count("refused an unparsable request")
    head, body = raw_request(stack, f"x-auth-token={'A' * 21}.{token}".encode() + suffix)
    assert head.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400")), head
    assert body == {"error": "bad-request", "message": "The request could not be parsed."}
    log = stack.log.read_text()
    assert log.count("refused an unparsable request") == before + 1  # the right log
    assert token not in log


def test_a_cookie_that_is_not_utf8_reaches_the_api_as_text(stack: LocalStack) -> None:
    """aiohttp keeps such bytes as lone surrogates, which no JSON string holds:
    Mangum crashed on the event (a 500 for a client's bytes)."""
    head, body = raw_request(stack, f"x-auth-token={'A' * 21}.".encode() + b"\xff" * 43)
    assert head.startswith(b"HTTP/1.1 401"), head
    assert body["error"] == "unauthorized"


def test_bodies_over_the_gateway_limit_get_the_json_error(stack: LocalStack) -> None:
    huge = b"x" * (10 * 1024 * 1024 + 1)
    with people(stack, 1) as (ann,):
        for path, headers in (
            ("/api/room/create", {"Content-Type": "application/json"}),
            ("/_local/upstash", {"Authorization": f"Bearer {stack.upstash_token}"}),
        ):
            answer = ann.http.post(path, content=huge, headers=headers)
            assert answer.status_code == 413, answer.text[:200]
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["error"] == "payload-too-large"


def test_a_binary_frame_reaches_default_and_is_answered_with_an_error(
    stack: LocalStack,
) -> None:
    with people(stack, 1) as (ann,):
        room_id = joined_room(stack, ann)
        with ann.websocket(room_id) as ws:
            ws.send(b"\x00\xff binary")
            ws.send(json.dumps({"action": "ping"}))
            # In order: the binary frame's answer comes before the ping's pong.
            first = json.loads(ws.recv(timeout=5))
            assert first["type"] == "error" and first["error"] == "bad-request", first


# 5. Clients that stop reading ----------------------------------------------------------


def stalled_websocket(stack: LocalStack, room_id: str, cookie: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads (a
    tiny receive buffer, so the server's writes back up quickly)."""
    raw = raw_websocket(stack, room_id, cookie, receive_buffer=4096)
    # Tell it we are here (as the browser's ping does), then never read again.
    raw.sendall(client_frame(0x1, json.dumps({"action": "ping"}).encode()))
    return raw


def client_frame(opcode: int, payload: bytes, masked: bool = True) -> bytes:
    """One final frame of less than 64 KB, masked as a client must (RFC 6455, 5.3)."""
    mask = os.urandom(4) if masked else b""
    body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)) if masked else payload
    bit = 0x80 if masked else 0
    if len(payload) < 126:
        length = bytes([bit | len(payload)])
    else:
        length = bytes([bit | 126]) + len(payload).to_bytes(2)
    return bytes([0x80 | opcode]) + length + mask + body


def raw_websocket(
    stack: LocalStack, room_id: str, cookie: str, receive_buffer: int | None = None
) -> socket.socket:
    """A WebSocket over a plain socket, just past its handshake: frames are the
    caller's to write and read, byte for byte."""
    raw = socket.socket()
    if receive_buffer is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    raw.settimeout(5)
    raw.connect(("127.0.0.1", stack.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /ws?roomId={room_id} HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {stack.origin}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = raw.recv(1)
        assert chunk, "the server hung up during the handshake"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return raw


def read_frame(raw: socket.socket) -> tuple[int, bytes]:
    """The next frame from the server (never masked, at most 64 KB): opcode, payload."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = raw.recv(count - len(data))
            assert chunk, "the server hung up mid-frame"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2))
    return first & 0x0F, exactly(length)


PING = json.dumps({"action": "ping"}).encode()
LONG_PING = PING.ljust(300)  # a 16-bit extended length


@pytest.mark.parametrize(
    ("frames", "pongs"),
    [
        ([client_frame(0x1, PING)], 1),
        ([client_frame(0x1, LONG_PING) + client_frame(0x1, PING)], 2),
        ([client_frame(0x1, PING, masked=False)], None),
        ([client_frame(0x1, LONG_PING) + client_frame(0x1, PING, masked=False)], None),
    ],
    ids=["masked", "long-then-short", "unmasked", "unmasked-after-long"],
)
def test_an_unmasked_client_frame_closes_the_connection(
    stack: LocalStack, frames: list[bytes], pongs: int | None
) -> None:
    """RFC 6455 (5.1): a server must close the connection on an unmasked frame
    from a client (aiohttp answered it); masked frames (the controls) are answered."""
    with people(stack, 1) as (ann,):
        room_id = joined_room(stack, ann)
        with raw_websocket(stack, room_id, f"x-auth-token={ann.token}") as raw:
            for frame in frames:
                raw.sendall(frame)
            answered = 0
            while answered != pongs:
                opcode, data = read_frame(raw)
                if opcode == 0x8:
                    assert pongs is None and int.from_bytes(data[:2]) == 1002  # protocol error
                    raw.sendall(client_frame(0x8, data[:2]))
                    assert hung_up(raw, time.monotonic() + 5)
                    return
                assert (opcode, json.loads(data)["type"]) == (0x1, "pong")
                answered += 1


def hung_up(raw: socket.socket, deadline: float) -> bool:
    """Whether the server has closed this connection by `deadline` (what it had
    buffered for it is read and thrown away)."""
    while (left := deadline - time.monotonic()) > 0:
        raw.settimeout(left)
        try:
            if not raw.recv(1 << 16):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def send_and_push_seconds(author: Person, reader: ClientConnection, room_id: str) -> float:
    """From a send until the push reaches the other person's socket."""
    text = wire_text(secrets.token_urlsafe(8))
    started = time.perf_counter()
    assert author.send(room_id, text).status_code == 200
    while next_event(reader, "message", timeout=30)["message"]["text"] != text:
        pass
    return time.perf_counter() - started


def test_sockets_that_never_read_do_not_slow_other_rooms(stack: LocalStack) -> None:
    with people(stack, 4) as (ann, bob, carol, dan):
        flooded = joined_room(stack, ann, bob)
        quiet = joined_room(stack, carol, dan)
        with dan.websocket(quiet) as dan_ws:
            baseline = [send_and_push_seconds(carol, dan_ws, quiet) for _ in range(5)]
            # Eight: as many as the pusher's threads (four per participant at most).
            stalled = [
                stalled_websocket(stack, flooded, f"x-auth-token={person.token}")
                for person in (ann, bob)
                for _ in range(4)
            ]
            # Pushes fill the kernel's buffers of a socket (up to 4 MB here) before a
            # write to it can wait: flood each with more than that.
            enough = 4_500_000 // 11_000 + 60
            stop = threading.Event()
            sent = [0]

            def flood() -> None:
                with httpx.Client(
                    base_url=stack.origin, cookies=ann.http.cookies, timeout=10
                ) as client:
                    while not stop.is_set() and sent[0] < 2 * enough:
                        try:
                            client.post(
                                "/api/messages",
                                params={"roomId": flooded},
                                headers={"Origin": stack.origin},
                                json={
                                    "text": wire_text("z", 10_999),
                                    "clientId": secrets.token_urlsafe(9),
                                },
                            )
                        except httpx.HTTPError:
                            continue  # a send that times out is a slow one; go on
                        sent[0] += 1

            flooders = [threading.Thread(target=flood) for _ in range(2)]
            for thread in flooders:
                thread.start()
            under_flood: list[float] = []
            try:
                # Samples all along: writes that wait come in bursts (each time
                # aiohttp's writer has buffered 64 KiB for a socket).
                while sent[0] < enough and len(under_flood) < 3000:
                    assert all(thread.is_alive() for thread in flooders)
                    under_flood.append(send_and_push_seconds(carol, dan_ws, quiet))
            finally:
                stop.set()
                for thread in flooders:
                    thread.join(30)
            deadline = time.monotonic() + 10
            closed = [hung_up(raw, deadline) for raw in stalled]
            for raw in stalled:
                raw.close()
    typical = statistics.median(baseline)
    # A held pool makes pushes wait for botocore's read timeout (a second), again
    # and again; the flood itself, on two shared CPUs, may slow one by a few tenths.
    bound = max(30 * typical, typical + 0.75)
    slow = [seconds for seconds in under_flood if seconds > bound]
    assert len(under_flood) >= 50
    assert len(slow) <= 1, (typical, len(under_flood), sorted(under_flood)[-8:])
    assert all(closed), "a client that never reads is hung up on"


def test_a_destroy_still_tells_every_socket_before_hanging_up(stack: LocalStack) -> None:
    """Posts are queued per connection now: DeleteConnection must not overtake them."""
    with people(stack, 2) as (ann, bob):
        room_id = joined_room(stack, ann, bob)
        with ann.websocket(room_id) as ann_ws, bob.websocket(room_id) as bob_ws:
            assert bob.http.delete("/api/room", params={"roomId": room_id}).status_code == 200
            for ws in (ann_ws, bob_ws):
                next_event(ws, "destroy")
                closed = closing_frame(ws)
                assert closed is not None and closed.code == 1000


def closing_frame(ws: ClientConnection) -> Close | None:
    """The close frame the server ends with (frames before it are skipped)."""
    for _ in range(100):
        try:
            ws.recv(timeout=5)
        except ConnectionClosed as closed:
            return closed.rcvd
    raise AssertionError("the server never hung up")


# 6. Headers --------------------------------------------------------------------------


def template_security_headers() -> dict[str, str]:
    """What CloudFront sends with template.yaml's response headers policy."""
    template = yaml_parse((ROOT / "template.yaml").read_text())
    (policy,) = [
        resource["Properties"]["ResponseHeadersPolicyConfig"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    ]
    security = policy["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    headers = {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
        + ("; preload" if hsts.get("Preload") else ""),
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
    }
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    for item in policy.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers


def test_the_local_security_headers_are_the_templates() -> None:
    """infra/security_headers.json (what the local stack sends) is the template's policy."""
    local = json.loads((ROOT / "infra" / "security_headers.json").read_text())
    assert template_security_headers() == local


def test_over_https_the_policy_upgrades_insecure_requests() -> None:
    """CloudFront serves https only: there the CSP keeps upgrade-insecure-requests."""
    directives = template_security_headers()["Content-Security-Policy"].split("; ")
    assert "upgrade-insecure-requests" in directives


@pytest.mark.parametrize("path", ["/", "/room/abcdefghijklmnopqrstu", "/css/app.css", "/nope"])
def test_the_site_is_served_with_the_templates_security_headers_but_over_plain_http(
    stack: LocalStack, path: str
) -> None:
    """Every header of the template's policy, but for one directive: over plain http on loopback
    the CSP does not ask to upgrade requests (WebKit would upgrade loopback ones to an https
    nothing serves, and load nothing)."""
    answer = httpx.get(f"{stack.origin}{path}")
    expected = template_security_headers()
    directives = expected["Content-Security-Policy"].split("; ")
    expected["Content-Security-Policy"] = "; ".join(
        d for d in directives if d != "upgrade-insecure-requests"
    )
    assert len(expected["Content-Security-Policy"]) < len(" ".join(directives))
    assert {name: answer.headers.get(name) for name in expected} == expected


def test_no_response_names_the_server_software(stack: LocalStack) -> None:
    answers = [
        httpx.get(f"{stack.origin}/"),
        httpx.get(f"{stack.origin}/nope"),
        httpx.post(f"{stack.origin}/"),  # 405
        httpx.get(f"{stack.origin}/api/room/ttl", params={"roomId": "a" * 21}),
        httpx.post(f"{stack.origin}/_local/upstash", json=["PING"]),  # 401
        httpx.post(f"{stack.origin}/_local/apigw/@connections/abc"),  # 403
        httpx.get(f"{stack.origin}/", headers={"Host": "evil.example"}),  # 421
    ]
    for answer in answers:
        assert "server" not in answer.headers, (answer.url, answer.headers["server"])
    with people(stack, 1) as (ann,):
        room_id = joined_room(stack, ann)
        with ann.websocket(room_id) as ws:
            assert ws.response is not None
            assert "server" not in ws.response.headers


# 7. Not found ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/css/nope.css", "/room/abc/deeper"])
def test_an_unknown_path_of_the_site_is_the_404_page(stack: LocalStack, path: str) -> None:
    answer = httpx.get(f"{stack.origin}{path}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text == (ROOT / "static_site" / "404.html").read_text()
    assert '<link rel="stylesheet" href="/css/app.css">' in answer.text
    # Nothing inline (the CSP allows scripts and styles from the site only): its one
    # script is the site's own module that puts its words in the page's language.
    scripts = re.findall(r"<script[^>]*>", answer.text)
    assert scripts == ['<script type="module" src="/js/not-found.js">'], scripts
    assert "<style" not in answer.text


def test_other_refusals_of_the_stack_are_the_json_error(stack: LocalStack) -> None:
    not_allowed = httpx.post(f"{stack.origin}/")
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"] == "method-not-allowed"
    assert "GET" in not_allowed.headers["allow"]
    unknown_api = httpx.get(f"{stack.origin}/api/nope")
    assert unknown_api.status_code == 404 and unknown_api.json()["error"] == "not-found"


def test_a_setting_the_functions_cannot_use_stops_the_stack_at_once_naming_it() -> None:
    """`ROOM_TTL_SECONDS=10min make run` used to serve, and fail every request."""
    started = subprocess.run(
        [sys.executable, "-m", "infra.local_stack"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT / "functions"),
            "PORT": "0",
            "ROOM_TTL_SECONDS": "10min",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 1
    assert started.stderr.strip().endswith(
        "PrivoChat local stack: ROOM_TTL_SECONDS must be a whole number above 0, not '10min'"
    )
