"""CobotClient without a server: credentials order, space addressing, limits, error messages."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import requests

from Connectors.core.auth import BearerAuth, OAuth2Auth
from Connectors.core.errors import ConfigurationError, ValidationError
from Connectors.vendors.cobot.client import CobotClient, build_space_url, moment, space_url_template
from Connectors.vendors.cobot.profile import COBOT


def cobot_error_message(response: requests.Response) -> str:
    return COBOT.error_format.read(response)


def resolve_auth(url: str, **arguments: object) -> object:
    return CobotClient(url, **arguments).auth  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "COBOT_ACCESS_TOKEN",
        "COBOT_CLIENT_ID",
        "COBOT_CLIENT_SECRET",
        "COBOT_SPACE",
        "COBOT_URL",
        "COBOT_SPACE_URL_TEMPLATE",
        "COBOT_RATE_LIMIT",
        "COBOT_RATE_BURST",
        "COBOT_RATE_SCALE",
        "CONNECTORS_VAULT_SECRET",
        "CONNECTORS_THROTTLE_STORE",
    ):
        monkeypatch.delenv(name, raising=False)


def response(status: int, body: object) -> requests.Response:
    result = requests.Response()
    result.status_code = status
    result._content = json.dumps(body).encode()
    return result


def test_validation_errors_are_reported_field_by_field() -> None:
    body = {"errors": {"name": "can't be blank", "from": ["is invalid", "must be a date"]}}
    expected = "name: can't be blank; from: is invalid, must be a date"
    assert cobot_error_message(response(422, body)) == expected
    assert cobot_error_message(response(422, {"errors": {"base": "already booked"}})) == "already booked"
    assert cobot_error_message(response(403, {"error": "Forbidden"})) == "Forbidden"


def test_space_urls_derive_from_cobot_url() -> None:
    assert space_url_template("https://www.cobot.me") == "https://{subdomain}.cobot.me"
    assert build_space_url(space_url_template("https://www.cobot.me"), "my-space") == "https://my-space.cobot.me"
    sandbox = space_url_template("http://127.0.0.1:1/cobot")
    assert build_space_url(sandbox, "Co-Up") == "http://127.0.0.1:1/cobot/spaces/co-up"
    template = space_url_template("https://www.cobot.me", "http://127.0.0.1:1/cobot/spaces/{subdomain}/")
    assert build_space_url(template, "co-up") == "http://127.0.0.1:1/cobot/spaces/co-up"
    with pytest.raises(ConfigurationError, match="not a Cobot space subdomain"):
        build_space_url(sandbox, "evil.com/x")
    with pytest.raises(ConfigurationError, match="COBOT_SPACE"):
        build_space_url(sandbox, None)
    with pytest.raises(ConfigurationError, match="must contain"):
        space_url_template("https://www.cobot.me", "https://example.com")


def test_space_calls_follow_cobot_url_and_the_token_goes_nowhere_else() -> None:
    client = CobotClient("http://127.0.0.1:9/cobot", access_token="t0k3n-abc", space="demo")
    assert client.space_url() == "http://127.0.0.1:9/cobot/spaces/demo"
    assert client.transport.url(client.space_url() + "/api/bookings").startswith("http://127.0.0.1:9/")
    with pytest.raises(ValidationError, match="Refusing to send Cobot credentials"):
        client.transport.url("https://demo.cobot.me/api/bookings")
    production = CobotClient(access_token="t0k3n-abc", space="demo")
    assert production.transport.url("https://demo.cobot.me/api/bookings") == "https://demo.cobot.me/api/bookings"
    with pytest.raises(ValidationError, match="Refusing"):
        production.transport.url("https://evil.example/api/bookings")


def test_credentials_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="No Cobot credentials"):
        resolve_auth("https://www.cobot.me")
    monkeypatch.setenv("COBOT_CLIENT_ID", "app")
    auth = resolve_auth("https://www.cobot.me", token_store=tmp_path / "t.json")
    assert isinstance(auth, OAuth2Auth) and auth.key == COBOT.token_store_key("app") == "cobot:app"
    assert auth.token_url == "https://www.cobot.me/oauth/access_token"
    monkeypatch.setenv("COBOT_ACCESS_TOKEN", "env-token-123")
    assert isinstance(resolve_auth("https://www.cobot.me"), BearerAuth)
    # An explicit client id wins over the variable's access token.
    assert isinstance(
        resolve_auth("https://www.cobot.me", client_id="app", token_store=tmp_path / "t.json"), OAuth2Auth
    )


def test_vault_secret_with_an_access_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    vault = tmp_path / "vault.json"
    vault.write_text(json.dumps({"cobot": {"access_token": "vault-token-456"}}))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "cobot")
    auth = resolve_auth("https://www.cobot.me")
    headers: dict[str, str] = {}
    auth.apply(headers)
    assert headers["Authorization"] == "Bearer vault-token-456"


def test_default_limits_pace_requests_and_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    client = CobotClient(access_token="t0k3n-abc")
    assert client.throttle.status.rate == "60/min burst 1"
    buckets = client.throttle._buckets_for("GET", "https://demo.cobot.me/api/memberships")
    assert [bucket.spec for _label, bucket in buckets][1].limit == 6
    assert len(client.throttle._buckets_for("GET", "https://demo.cobot.me/api/memberships/abc")) == 1
    assert len(client.throttle._buckets_for("POST", "https://demo.cobot.me/api/memberships")) == 1
    monkeypatch.setenv("COBOT_RATE_SCALE", "20")
    scaled = CobotClient(access_token="t0k3n-abc")
    specs = [bucket.spec for _l, bucket in scaled.throttle._buckets_for("GET", "https://x/api/memberships")]
    assert [(s.limit, s.burst) for s in specs] == [(1200, 1), (120, 1)]
    with pytest.raises(ConfigurationError, match="rate scale"):
        CobotClient(access_token="t0k3n-abc", rate_scale="-1")


def test_moments_are_iso_8601() -> None:
    assert moment(date(2025, 3, 1)) == "2025-03-01"
    assert moment(datetime(2025, 3, 1, 10, tzinfo=timezone.utc)) == "2025-03-01T10:00:00+00:00"
    assert moment(" 2025-03-01 ") == "2025-03-01"
    assert moment(None) is None and moment("") is None


def test_check_ins_of_a_period_need_a_membership() -> None:
    client = CobotClient(access_token="t0k3n-abc", space="demo")
    with pytest.raises(ConfigurationError, match="membership_id"):
        client.list_check_ins(start="2025-01-01")


def test_identity_needs_a_stored_id_token() -> None:
    client = CobotClient(access_token="t0k3n-abc")
    with pytest.raises(Exception, match="carries no id token"):
        client.get_identity()
