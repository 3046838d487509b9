"""What a newcomer reads when the URL is wrong: the URL tried, the setting that set it, and a short,
stated time instead of a minute of retries."""

from __future__ import annotations

import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from Connectors import CobotClient, RobawsClient
from Connectors.core.errors import TransportError, UnexpectedResponse


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ROBAWS_", "COBOT_", "CONNECTORS_")):
            monkeypatch.delenv(name)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_url_names_the_url_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}/robaws"
    monkeypatch.setenv("ROBAWS_URL", url)
    client = RobawsClient(username="api", password="pw-123456", rate_limit="none", daily_quota="none")
    with pytest.raises(TransportError) as caught:
        client.get("clients", 1)
    text = str(caught.value)
    assert "could not connect to http://127.0.0.1" in text and f"ROBAWS_URL (now {url})" in text
    assert "3 attempts over" in text and " s)" in text and "\n" not in text
    assert client.transport.stats["requests"] == 3  # refused: three quick attempts, not six with back-off


def test_the_url_argument_is_named_when_it_set_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/cobot"
    client = CobotClient(url, access_token="t0k3n-abcdef", rate_limit="none", api="1")
    with pytest.raises(TransportError, match=r"Check the url argument \(now http://127\.0\.0\.1:\d+/cobot\)"):
        client.get_user()


def test_the_production_default_is_named_in_the_connection_line_and_in_errors() -> None:
    client = RobawsClient(username="api", password="pw-123456")
    assert "Connected to Robaws at https://app.robaws.com (the production default)" in client.connection_line()
    assert client.describe_url() == "ROBAWS_URL (not set, so the production default https://app.robaws.com)"


def test_a_url_that_is_not_the_api_says_so() -> None:
    class Html(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>a web site, not the API</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = RobawsClient(url, username="api", password="pw-123456", rate_limit="none", daily_quota="none")
        with pytest.raises(UnexpectedResponse) as caught:
            client.get("clients", 1)
    finally:
        server.shutdown()
    assert "answered 200 with text/html instead of JSON" in str(caught.value)
    assert f"Check the url argument (now {url})" in str(caught.value)
