"""The pusher on boto3's apigatewaymanagementapi client, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from privochat.pusher_apigw import ApiGatewayPusher, management_client
from tests.support.gateway_faults import inject_faults

ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield management_client(ENDPOINT)


def posted(connection_id: str) -> bytes:
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    # moto keys connections by the ID as it appears in the URL path.
    return bytes(backend.connections[quote(connection_id, safe="")].data)


def test_push_posts_the_event_as_json_to_every_connection(client: Any) -> None:
    gone = ApiGatewayPusher(client).push(["c1=", "c2="], {"type": "typing"})
    assert gone == set()
    assert json.loads(posted("c1=")) == {"type": "typing"}
    assert json.loads(posted("c2=")) == {"type": "typing"}


def test_a_gone_connection_is_reported_and_the_others_still_get_the_push(client: Any) -> None:
    attempts = inject_faults(client, lambda c: 410 if c == "dead=" else None)
    gone = ApiGatewayPusher(client).push(["dead=", "alive="], {"type": "destroy"})
    assert gone == {"dead="}
    assert attempts.count("dead=") == 1  # a 410 is final, never retried
    assert json.loads(posted("alive=")) == {"type": "destroy"}


@pytest.mark.parametrize("status", [429, 500])
def test_throttling_and_server_errors_are_retried_a_bounded_number_of_times(
    client: Any, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    failures = {"flaky=": 2}

    def status_for(connection_id: str) -> int | None:
        if failures.get(connection_id, 0) > 0:
            failures[connection_id] -= 1
            return status
        return None

    attempts = inject_faults(client, status_for)
    assert ApiGatewayPusher(client).push(["flaky="], {"type": "pong", "online": 1}) == set()
    assert attempts == ["flaky="] * 3  # two failures, then delivered
    assert "push failed" not in caplog.text


def test_a_connection_that_keeps_failing_is_given_up_but_not_reported_gone(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = inject_faults(client, lambda c: 500)
    assert ApiGatewayPusher(client).push(["broken="], {"type": "typing"}) == set()
    assert len(attempts) == 3
    assert "push failed" in caplog.text


def test_close_deletes_connections_and_ignores_gone_ones(client: Any) -> None:
    attempts = inject_faults(client, lambda c: 410 if c == "dead=" else None)
    ApiGatewayPusher(client).close(["dead=", "alive="])  # the 410 raises nothing
    assert attempts == ["dead=", "alive="]  # each deleted once: a 410 is not retried
