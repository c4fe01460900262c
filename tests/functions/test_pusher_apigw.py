"""The pusher on the Management API (SigV4 over httpx), against an in-process gateway
that checks every signature with botocore's signer (tests/support/fake_aws.py)."""

from __future__ import annotations

import pytest

from privochat.aws_sigv4 import Credentials
from privochat.pusher_apigw import ApiGatewayPusher, ManagementApi
from tests.support.fake_aws import FakeAws

ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


@pytest.fixture
def aws() -> FakeAws:
    return FakeAws()


def pusher(aws: FakeAws, secret: str = "testing") -> ApiGatewayPusher:  # noqa: S107
    credentials = Credentials("testing", secret, "session-token")
    return ApiGatewayPusher(ManagementApi(ENDPOINT, aws.client(), credentials, "eu-west-1"))


def test_push_posts_the_event_as_json_to_every_connection(aws: FakeAws) -> None:
    gone = pusher(aws).push(["c1=", "c2="], {"type": "typing"})
    assert gone == set()
    assert aws.posted("c1=") == aws.posted("c2=") == [{"type": "typing"}]
    assert aws.frames["c1="] == [b'{"type":"typing"}']


def test_a_request_signed_with_other_credentials_is_refused_and_not_reported_gone(
    aws: FakeAws, caplog: pytest.LogCaptureFixture
) -> None:
    assert pusher(aws, secret="wrong").push(["c1="], {"type": "typing"}) == set()
    assert aws.frames == {}
    assert "push failed: 403" in caplog.text


def test_a_gone_connection_is_reported_and_the_others_still_get_the_push(aws: FakeAws) -> None:
    aws.status_for = lambda c: 410 if c == "dead=" else None
    gone = pusher(aws).push(["dead=", "alive="], {"type": "destroy"})
    assert gone == {"dead="}
    assert aws.attempts().count("dead=") == 1  # a 410 is final, never retried
    assert aws.posted("alive=") == [{"type": "destroy"}]


@pytest.mark.parametrize("status", [429, 500])
def test_throttling_and_server_errors_are_retried_a_bounded_number_of_times(
    aws: FakeAws, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    failures = {"flaky=": 2}

    def status_for(connection_id: str) -> int | None:
        if failures.get(connection_id, 0) > 0:
            failures[connection_id] -= 1
            return status
        return None

    aws.status_for = status_for
    assert pusher(aws).push(["flaky="], {"type": "pong", "online": 1}) == set()
    assert aws.attempts() == ["flaky="] * 3  # two failures, then delivered
    assert "push failed" not in caplog.text


def test_a_connection_that_keeps_failing_is_given_up_but_not_reported_gone(
    aws: FakeAws, caplog: pytest.LogCaptureFixture
) -> None:
    aws.status_for = lambda c: 500
    assert pusher(aws).push(["broken="], {"type": "typing"}) == set()
    assert len(aws.attempts()) == 3
    assert "push failed" in caplog.text


def test_close_deletes_connections_and_ignores_gone_ones(aws: FakeAws) -> None:
    aws.status_for = lambda c: 410 if c == "dead=" else None
    pusher(aws).close(["dead=", "alive="])  # the 410 raises nothing
    assert aws.attempts() == ["dead=", "alive="]  # each deleted once: a 410 is not retried
    assert aws.deleted == ["alive="]
