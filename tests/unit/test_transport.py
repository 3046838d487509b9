"""The transport against a scripted local HTTP server: retries, idempotency keys, errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from Connectors.core.auth import BasicAuth
from Connectors.core.config import RateSpec
from Connectors.core.errors import (
    AuthenticationError,
    NotFound,
    TransportError,
    UncertainOutcome,
    ValidationError,
)
from Connectors.core.retry import RetryPolicy
from Connectors.core.throttle import Throttle
from Connectors.core.transport import Transport, TransportConfig
from support.strict_server import send_json


class Script:
    def __init__(self) -> None:
        self.replies: list[tuple[int, dict, dict | None]] = []
        self.seen: list[dict] = []

    def add(self, status: int, body: dict | None = None, headers: dict | None = None) -> Script:
        self.replies.append((status, body or {}, headers))
        return self


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
            if not script.replies:
                status, payload, headers = 200, {"ok": True}, None
            else:
                status, payload, headers = script.replies.pop(0)
            if status == 0:  # drop the connection without an answer
                self.connection.close()
                return
            send_json(self, status, payload, headers)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _reply

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()


FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05)


def transport(url: str, **kwargs: object) -> Transport:
    config = TransportConfig(
        vendor="Acme", base_url=url, auth=BasicAuth("user", "pa55word-xyz"), retry=FAST, read_timeout=5, **kwargs
    )  # type: ignore[arg-type]
    return Transport(config)


def test_get_is_retried_on_503_and_each_retry_is_logged(server, caplog) -> None:
    url, script = server
    script.add(503).add(502).add(200, {"id": 1})
    with caplog.at_level(logging.INFO, logger="Connectors"):
        response = transport(url).request("GET", "/things/1")
    assert response.json() == {"id": 1}
    assert len(script.seen) == 3
    assert caplog.text.count("retrying in") == 2
    assert "pa55word-xyz" not in caplog.text


def test_post_with_idempotency_key_reuses_the_key_on_every_attempt(server) -> None:
    url, script = server
    script.add(502).add(0).add(201, {"id": 7})
    response = transport(url, idempotency_header="Idempotency-Key").request(
        "POST", "/things", json={"a": 1}, idempotency_key="order-42"
    )
    assert response.status_code == 201
    keys = [seen["headers"]["Idempotency-Key"] for seen in script.seen]
    assert keys == ["order-42"] * 3


def test_generated_key_is_the_same_across_retries(server) -> None:
    url, script = server
    script.add(504).add(201)
    transport(url, idempotency_header="Idempotency-Key").request("POST", "/things", json={})
    first, second = (seen["headers"]["Idempotency-Key"] for seen in script.seen)
    assert first == second and len(first) >= 32


def test_post_without_key_is_not_repeated_after_a_server_error(server) -> None:
    url, script = server
    script.add(502, {"message": "bad gateway"})
    with pytest.raises(UncertainOutcome, match="may or may not have been applied"):
        transport(url).request("POST", "/things", json={})
    assert len(script.seen) == 1


def test_refused_429_is_retried_even_for_posts_after_retry_after(server) -> None:
    url, script = server
    script.add(429, {"message": "slow down"}, {"Retry-After": "0"}).add(201)
    assert transport(url).request("POST", "/things", json={}).status_code == 201
    assert len(script.seen) == 2


def test_dropped_connection_on_non_idempotent_request_is_uncertain(server) -> None:
    url, script = server
    script.add(0)
    with pytest.raises(UncertainOutcome, match="may or may not have been applied"):
        transport(url).request("PUT", "/things", json=[{}], idempotent=False)
    assert len(script.seen) == 1


def test_status_codes_map_to_typed_one_line_errors(server) -> None:
    url, script = server
    script.add(401, {"message": "Bad credentials"}).add(404, {"message": "No such thing"})
    script.add(422, {"errors": {"name": ["can't be blank"]}})
    t = transport(url)
    with pytest.raises(AuthenticationError) as auth_error:
        t.request("GET", "/things")
    assert str(auth_error.value).startswith("Acme GET /things: HTTP 401: Bad credentials")
    with pytest.raises(NotFound, match="No such thing"):
        t.request("GET", "/things/9")
    with pytest.raises(ValidationError, match="can't be blank"):
        t.request("POST", "/things", json={})


def test_unreachable_server_is_a_transport_error() -> None:
    from connectors_sandbox.server import free_port

    t = transport(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransportError, match="could not connect"):
        t.request("GET", "/x")


def test_query_string_tokens_never_reach_errors(server) -> None:
    url, script = server
    script.add(400, {"message": "nope"})
    with pytest.raises(ValidationError) as error:
        transport(url).request("POST", "/hook?token=very-secret-token", json={})
    assert "very-secret-token" not in str(error.value)


def test_throttle_is_applied_to_every_attempt(server) -> None:
    url, _script = server
    throttle = Throttle("transport-test", RateSpec(20, 1, burst=1))
    t = transport(url, throttle=throttle)
    for _ in range(5):
        t.request("GET", "/x")
    # burst 1 at ~20/s: each call after the first waits for its token (about 0.05 s each)
    assert throttle.status.waits >= 3
    assert throttle.status.waited_seconds >= 0.12
