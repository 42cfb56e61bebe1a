"""The kit's reading of API client revocation marks: which tokens are a client's, and a Redis
outage logged once per interval rather than once per API call."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from services.kit.revoked_clients import UncheckedLog, client_of, revoked_key


def test_only_a_client_subject_names_a_client() -> None:
    assert client_of("client:0b8e6f6e-1f0c-4d7e-9a59-3f1f2b2c9d10") == (
        "0b8e6f6e-1f0c-4d7e-9a59-3f1f2b2c9d10"
    )
    assert client_of("staff-test") is None
    assert client_of("client:") is None
    assert revoked_key("abc") == "auth:revoked-client:abc"


def test_a_redis_outage_is_logged_once_per_interval() -> None:
    unchecked = UncheckedLog(interval_seconds=60.0)
    with capture_logs() as logs:
        for _ in range(50):
            unchecked.report(RedisConnectionError("down"))
    assert [entry["event"] for entry in logs] == ["revoked_clients_unchecked"]
    assert logs[0]["error"] == "ConnectionError"
