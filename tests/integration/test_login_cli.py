"""``connectors login cobot|robaws`` end to end against the sandbox, as a person would run it
(with the authorize URL followed over HTTP instead of a browser; the sandbox consents automatically)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from Connectors import CobotClient, RobawsClient
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(180)


def login(*args: str, store: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "Connectors",
        "login",
        *args,
        "--fetch-authorize-url",
        "--token-store",
        str(store),
        "--timeout",
        "30",
    ]
    return subprocess.run(command, env=env or dict(os.environ), capture_output=True, text=True, timeout=120)


def test_login_cobot_stores_a_verified_token(sandbox: SandboxProcess, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    result = login("cobot", store=store)
    assert result.returncode == 0, result.stderr
    assert "code_challenge_method=S256" in result.stdout and "state=" in result.stdout
    assert "Identity verified (OpenID Connect): alice.admin@example.com" in result.stdout
    assert "does not expire" in result.stdout
    saved = json.loads(store.read_text())
    token = saved["cobot:" + os.environ["COBOT_CLIENT_ID"]]
    assert token["id_token"] and "openid" in token["scope"]
    # Nothing secret on the terminal.
    for secret in (token["access_token"], token["id_token"], os.environ["COBOT_CLIENT_SECRET"]):
        assert secret not in result.stdout + result.stderr
    client = CobotClient(client_id=os.environ["COBOT_CLIENT_ID"], token_store=store)
    assert client.get_identity()["sub"] == client.get_user()["id"]


def test_login_robaws_stores_a_refreshable_token(sandbox: SandboxProcess, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    result = login("robaws", "--scope", "clients profile", store=store)
    assert result.returncode == 0, result.stderr
    assert "Scopes: clients profile" in result.stdout and "refreshed automatically" in result.stdout
    token = json.loads(store.read_text())["robaws:" + os.environ["ROBAWS_CLIENT_ID"]]
    assert token["refresh_token"] and token["expires_at"]
    client = RobawsClient(
        client_id=os.environ["ROBAWS_CLIENT_ID"],
        client_secret=os.environ["ROBAWS_CLIENT_SECRET"],
        token_store=store,
    )
    assert client.auth.describe().startswith("OAuth2 token 'robaws:")
    assert client.transport.request("GET", "/clients", params={"size": 1}).status_code == 200


def test_a_wrong_client_secret_fails_in_one_line(sandbox: SandboxProcess, tmp_path: Path) -> None:
    env = dict(os.environ, COBOT_CLIENT_SECRET="not-the-secret-000")
    result = login("cobot", store=tmp_path / "tokens.json", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: The code exchange failed: invalid_client")
    assert len(result.stderr.strip().splitlines()) == 1 and "not-the-secret-000" not in result.stderr
    assert not (tmp_path / "tokens.json").exists()


def test_an_unknown_scope_is_refused_by_the_provider(sandbox: SandboxProcess, tmp_path: Path) -> None:
    result = login("cobot", "--scope", "read_user,launch_rockets", store=tmp_path / "tokens.json")
    assert result.returncode == 2 and "invalid_scope" in result.stderr and "launch_rockets" in result.stderr


def login_into(
    store: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "Connectors", "login", *args, "--fetch-authorize-url", "--token-store", store]
    return subprocess.run(
        [*command, "--timeout", "30"], env=env or dict(os.environ), cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_login_robaws_into_the_control_room_vault(sandbox: SandboxProcess) -> None:
    result = login_into("vault:robaws_oauth", "robaws")
    assert result.returncode == 0, result.stderr
    assert f"in Vault secret 'robaws_oauth' (the Vault at {sandbox.url}/controlroom)" in result.stdout
    # A robot elsewhere, with nothing but the Vault's variables, finds it there.
    check = (
        "import os; from Connectors import RobawsClient; "
        "c = RobawsClient(client_id=os.environ['ROBAWS_CLIENT_ID'], "
        "client_secret=os.environ['ROBAWS_CLIENT_SECRET'], token_store='vault:robaws_oauth'); "
        "print(c.transport.request('GET', '/clients', params={'size': 1}).status_code)"
    )
    used = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert used.stdout.strip() == "200", used.stderr


def test_login_cobot_into_redis(sandbox: SandboxProcess) -> None:
    from support.redis_server import redis_or_skip

    with redis_or_skip() as server:
        result = login_into(server.url, "cobot")
        assert result.returncode == 0, result.stderr
        assert f"in {server.url} (does not expire)" in result.stdout
        client = CobotClient(client_id=os.environ["COBOT_CLIENT_ID"], token_store=server.url)
        assert client.get_identity()["sub"] == client.get_user()["id"]


def test_a_vault_token_without_write_access_fails_the_login_in_one_line(sandbox: SandboxProcess) -> None:
    env = dict(os.environ, RC_API_SECRET_TOKEN=os.environ["CONTROLROOM_VAULT_READONLY_TOKEN"])
    result = login_into("vault:robaws_oauth", "robaws", env=env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Vault secret 'robaws_oauth' could not be written (HTTP 403" in result.stderr
    assert "write access" in result.stderr


def test_an_unknown_token_store_fails_before_the_login_in_one_line(sandbox: SandboxProcess, tmp_path: Path) -> None:
    result = login_into("sqlite:///tmp/tokens.db", "robaws", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: Unknown token store 'sqlite:///tmp/tokens.db'")
    assert "Open this URL" not in result.stdout and list(tmp_path.iterdir()) == []
