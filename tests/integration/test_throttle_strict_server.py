"""Throttling holds against any server that enforces the documented limit, not only our sandbox.

The server (tests/support/strict_server.py) is written independently of the sandbox and of the
throttle: a classic token bucket with Robaws's documented 15/s and burst 20, a little random
latency, and a hard 429 the moment the bucket is empty.
"""

from __future__ import annotations

import time

import pytest

from Connectors import RobawsClient
from support.strict_server import serve_in_thread


def test_lone_client_at_the_vendor_limit_gets_no_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTORS_THROTTLE_STORE", raising=False)
    monkeypatch.delenv("CONNECTORS_THROTTLE_WORKERS", raising=False)
    with serve_in_thread(15, 20) as (url, bucket):
        client = RobawsClient(url, username="u", password="p-strict-server", rate_limit="15/s", burst=20)
        started = time.monotonic()
        for _ in range(80):
            client.get("clients", 1001)
        elapsed = time.monotonic() - started
        assert bucket.refused == 0
        assert bucket.served == 80
    # (80 - 20) / 15 = 4 s is the server's minimum; the client stays close to it.
    assert elapsed >= 3.9


def test_the_servers_daily_count_fails_the_next_call_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTORS_THROTTLE_STORE", raising=False)
    monkeypatch.setenv("ROBAWS_DAILY_QUOTA", "none")
    with serve_in_thread(1000, 100, daily_limit=5) as (url, bucket):
        client = RobawsClient(url, username="u", password="p-strict-server")
        for _ in range(5):
            client.get("clients", 1001)
        assert client.rate_limit_status()["daily"]["live"]["remaining"] == 0
        with pytest.raises(Exception, match=r"daily request quota \(live mode\) is used up; it resets in \d+ s"):
            client.get("clients", 1001)
        assert bucket.stats()["served"] + bucket.stats()["daily_refused"] == 5  # not one more request
