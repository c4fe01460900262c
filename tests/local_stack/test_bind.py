"""Where the local stack listens: 127.0.0.1, and only when asked (LOCAL_EXTRA_BIND_ADDRESSES)
another address of this machine too, such as Docker's bridge gateway for `sam local` on
Linux (README: Develop with `sam local`). Other loopback addresses (127.0.0.2, 127.0.0.3)
stand in for the bridge: Linux answers the whole of 127.0.0.0/8 on `lo`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

from devkit.servers import ROOT, local_stack
from infra.local_stack.server import StackConfig, extra_bind_addresses
from privochat.config import SettingsError

ASKED = "127.0.0.2"
NOT_ASKED = "127.0.0.3"


def _listens(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except ConnectionRefusedError:
        return False


def test_by_default_it_listens_on_127_0_0_1_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_EXTRA_BIND_ADDRESSES", raising=False)
    assert StackConfig.from_env().bind_addresses == ("127.0.0.1",)


def test_it_listens_where_asked_and_nowhere_else_with_the_host_check_kept() -> None:
    with local_stack(LOCAL_EXTRA_BIND_ADDRESSES=ASKED) as stack:
        assert _listens("127.0.0.1", stack.port)
        assert _listens(ASKED, stack.port)
        assert not _listens(NOT_ASKED, stack.port)
        url = f"http://{ASKED}:{stack.port}/"
        # What a sam local container sends (events/env.json names the host so).
        answered = httpx.get(url, headers={"Host": f"host.docker.internal:{stack.port}"})
        assert answered.status_code == 200, answered.text
        for foreign in (f"{ASKED}:{stack.port}", "evil.example", f"evil.example:{stack.port}"):
            refused = httpx.get(url, headers={"Host": foreign})
            assert refused.status_code == 421, (foreign, refused.text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.0.0.0", "would listen on every interface"),  # noqa: S104 - the value refused
        ("::", "would listen on every interface"),
        ("docker0", "takes IP addresses, not 'docker0'"),
    ],
)
def test_an_address_of_every_interface_or_a_name_is_refused(value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        extra_bind_addresses(value)


def test_a_refused_address_stops_the_stack_at_once_naming_it() -> None:
    started = subprocess.run(
        [sys.executable, "-m", "infra.local_stack"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT / "functions"),
            "PORT": "0",
            "LOCAL_EXTRA_BIND_ADDRESSES": "0.0.0.0",  # noqa: S104 - the value refused
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 1
    assert "LOCAL_EXTRA_BIND_ADDRESSES: 0.0.0.0 would listen on every interface" in started.stderr


def test_several_addresses_are_read_and_127_0_0_1_is_always_there() -> None:
    config = StackConfig(extra_bind_addresses=extra_bind_addresses(f" {ASKED}, 127.0.0.1 ,::1"))
    assert config.bind_addresses == ("127.0.0.1", ASKED, "::1")
