"""Test-only controls for the Robaws acceptance suites: the OAuth login a user would do in a browser,
the sandbox's admin routes, large files and a webhook receiver.

Nothing here returns or logs a token: tokens go straight into the token store.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from robot.api.deco import keyword, library

from Connectors.core.stores import forget_local_state
from Connectors.core.tokens import FileTokenStore

REDIRECT_URI = "http://127.0.0.1:8765/callback"


class _Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: list[dict[str, str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.deliveries.append({"body": body.decode("utf-8"), "signature": self.headers.get("Robaws-Signature", "")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@library(scope="SUITE")
class RobawsSandboxHelper:
    def __init__(self) -> None:
        self._server: http.server.ThreadingHTTPServer | None = None
        self._deliveries: list[dict[str, str]] = []

    @keyword
    def log_in_to_robaws_sandbox(self, token_store: str, scope: str = "") -> None:
        """Authorization-code login against the sandbox (which consents by itself); the token is stored."""
        base = os.environ["ROBAWS_URL"].rstrip("/")
        client_id, client_secret = os.environ["ROBAWS_CLIENT_ID"], os.environ["ROBAWS_CLIENT_SECRET"]
        params = {"client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "state": "rf"}
        if scope:
            params["scope"] = scope
        answer = requests.get(f"{base}/oauth2/authorize", params=params, allow_redirects=False, timeout=10)
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        if "code" not in query:
            raise AssertionError(f"Authorization failed: {query.get('error_description', query)}")
        token = requests.post(
            f"{base}/oauth2/tokens",
            timeout=10,
            data={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "client_secret": client_secret,
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
            },
        )
        token.raise_for_status()
        FileTokenStore(token_store).put(f"robaws:{client_id}", token.json())

    @keyword
    def write_robaws_vault_file(self, path: str, secret_name: str) -> None:
        """A FileSecrets vault with the sandbox's demo credentials, written here so they are never logged."""
        secret = {"username": os.environ["ROBAWS_USERNAME"], "password": os.environ["ROBAWS_PASSWORD"]}
        Path(path).write_text(json.dumps({secret_name: secret}), encoding="utf-8")

    @keyword
    def get_stored_token_fingerprint(self, token_store: str) -> str:
        """A short hash of the stored access and refresh tokens: changes exactly when they change."""
        token = FileTokenStore(token_store).get(f"robaws:{os.environ['ROBAWS_CLIENT_ID']}") or {}
        text = f"{token.get('access_token')}|{token.get('refresh_token')}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @keyword
    def expire_robaws_sandbox_tokens(self, sandbox_url: str) -> None:
        requests.post(f"{sandbox_url}/_sandbox/robaws/expire-tokens", json={}, timeout=10).raise_for_status()

    @keyword
    def set_robaws_sandbox_daily_quota(self, sandbox_url: str, limit: int, mode: str | None = None) -> None:
        body: dict[str, Any] = {"limit": int(limit)}
        if mode:
            body["mode"] = mode
        requests.post(f"{sandbox_url}/_sandbox/robaws/daily-quota", json=body, timeout=10).raise_for_status()
        forget_local_state()  # a day the old quota reported spent no longer is

    @keyword
    def count_robaws_sandbox_documents(self, sandbox_url: str) -> int:
        answer = requests.get(f"{sandbox_url}/_sandbox/robaws/documents", timeout=10)
        answer.raise_for_status()
        return len(answer.json())

    @keyword
    def create_file_of_size(self, path: str, size: int) -> str:
        """A file of ``size`` random bytes, written in 1 MB blocks."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        remaining = int(size)
        with target.open("wb") as handle:
            while remaining > 0:
                block = min(remaining, 1024 * 1024)
                handle.write(os.urandom(block))
                remaining -= block
        return str(target)

    @keyword
    def start_webhook_receiver(self) -> str:
        """Listen on a free loopback port; return the URL to register."""
        self._deliveries = []
        handler = type("Receiver", (_Receiver,), {"deliveries": self._deliveries})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/robaws-webhooks"

    @keyword
    def wait_for_webhook_delivery(self, timeout: float = 10) -> dict[str, str]:
        """The first delivery (raw body and ``Robaws-Signature`` header)."""
        deadline = time.monotonic() + float(timeout)
        while not self._deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._deliveries:
            raise AssertionError(f"No webhook delivery within {timeout} s.")
        return dict(self._deliveries[0])

    @keyword
    def stop_webhook_receiver(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
