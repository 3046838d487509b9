"""The loopback login without a provider: the redirect is played by the test's "browser"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from Connectors.core.errors import AuthenticationError, ConfigurationError
from Connectors.core.login import LoginSettings, run_login
from Connectors.core.tokens import FileTokenStore


def settings(**overrides: object) -> LoginSettings:
    values: dict[str, object] = {
        "authorize_url": "http://127.0.0.1:9/oauth/authorize",
        "token_url": "http://127.0.0.1:9/oauth/token",
        "client_id": "app",
        "client_secret": "app-secret-123",
        "store_key": "vendor:app",
        "scopes": ["openid", "read"],
        "timeout": 10.0,
    }
    values.update(overrides)
    return LoginSettings(**values)  # type: ignore[arg-type]


def redirect_with(**params: str) -> Callable[[str], None]:
    """A fake browser: the provider redirects to the loopback URI with ``params``."""
    seen: dict[str, list[str]] = {}

    def browser(url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        seen.update(query)
        state = params.pop("state", query["state"][0])
        target = query["redirect_uri"][0] + "?" + urlencode({**params, "state": state})
        answer = requests.get(target, timeout=5)
        seen["status"] = [str(answer.status_code)]

    browser.seen = seen  # type: ignore[attr-defined]
    return browser


def test_the_authorize_url_carries_pkce_state_and_nonce(tmp_path: Path) -> None:
    browser = redirect_with(error="access_denied", error_description="The user said no")
    with pytest.raises(AuthenticationError, match=r"refused the login: access_denied \(The user said no\)"):
        run_login(settings(), FileTokenStore(tmp_path / "t.json"), open_url=browser, out=lambda _t: None)
    seen = browser.seen  # type: ignore[attr-defined]
    assert seen["code_challenge_method"] == ["S256"] and len(seen["code_challenge"][0]) == 43
    assert seen["response_type"] == ["code"] and seen["client_id"] == ["app"]
    assert seen["scope"] == ["openid read"] and seen["nonce"] and len(seen["state"][0]) >= 32
    assert seen["redirect_uri"][0].startswith("http://127.0.0.1:") and seen["status"] == ["400"]
    assert not (tmp_path / "t.json").exists()


def test_a_redirect_with_another_state_is_rejected(tmp_path: Path) -> None:
    browser = redirect_with(code="stolen-code", state="forged-state")
    with pytest.raises(AuthenticationError, match="different state"):
        run_login(settings(), FileTokenStore(tmp_path / "t.json"), open_url=browser, out=lambda _t: None)
    assert not (tmp_path / "t.json").exists()


def test_no_redirect_times_out_with_advice(tmp_path: Path) -> None:
    printed: list[str] = []
    with pytest.raises(AuthenticationError, match="No redirect arrived"):
        run_login(settings(timeout=0.3), FileTokenStore(tmp_path / "t.json"), open_url=None, out=printed.append)
    assert "http://127.0.0.1:9/oauth/authorize?" in printed[0]


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not use HTTPS"):
        run_login(settings(authorize_url="http://id.example.com/authorize"), FileTokenStore(tmp_path / "t.json"))


def test_a_busy_port_is_explained(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigurationError, match="--port"):
            run_login(settings(port=port), FileTokenStore(tmp_path / "t.json"))
