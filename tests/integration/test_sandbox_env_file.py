"""``connectors sandbox --demo --env-file PATH [--vault-file PATH]``: what a user of the wheel points their own
robot at. The files carry every URL and demo setting the sandbox publishes (read from its own config, so a
vendor's later settings appear without a change here), the work-item adapters, and a vault named by the path
as given; the start line names the files; a robot's settings resolve from them alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connectors_sandbox.server import free_port

pytestmark = pytest.mark.timeout(120)


class Started:
    def __init__(self, process: subprocess.Popen[str], line: str, url: str) -> None:
        self.process, self.line, self.url = process, line, url


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Started]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--demo", "--port", str(port), "--env-file", "devdata/env.json", "--vault-file", "devdata/vault.json"]
    command = [sys.executable, "-m", "Connectors", "sandbox", *args]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{url}/_sandbox/stats", timeout=5)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, process.stderr.read() if process.stderr else ""
                    time.sleep(0.1)
            yield Started(process, line, url)
        finally:
            process.terminate()
            process.wait(10)


def test_the_start_line_names_the_files_written(started: Started) -> None:
    assert started.line.startswith(f"Sandbox on {started.url} ")
    assert "written for your robot: devdata/vault.json and devdata/env.json" in started.line


def test_env_json_has_every_url_and_demo_setting_of_the_sandboxs_config(started: Started, tmp_path: Path) -> None:
    env = json.loads((tmp_path / "devdata" / "env.json").read_text())
    config = requests.get(f"{started.url}/_sandbox/config", timeout=5).json()
    assert set(config["vendors"]) == {"robaws", "cobot", "controlroom", "robostack"}
    for vendor, facts in config["vendors"].items():
        assert env[f"{vendor.upper()}_URL"] == f"{started.url}/{vendor}"
        for name, value in facts["env"].items():  # whatever a vendor publishes, later settings included
            assert env[name] == str(value), name
    # The adapters a robot's work-item library needs, and the vault by the path as given (rcc's cwd is the robot).
    assert env["RPA_WORKITEMS_ADAPTER"] == "RPA.Robocorp.WorkItems.FileAdapter"
    assert env["RC_WORKITEM_ADAPTER"] == "FileAdapter"
    assert env["RPA_SECRET_FILE"] == env["RC_VAULT_SECRETS_FILE"] == "devdata/vault.json"
    assert env["RPA_SECRET_MANAGER"] == "RPA.Robocorp.Vault.FileSecrets"
    assert env["RC_VAULT_SECRET_MANAGER"] == "FileSecrets"


def test_the_vault_holds_each_vendors_settings_by_name(started: Started, tmp_path: Path) -> None:
    vault = json.loads((tmp_path / "devdata" / "vault.json").read_text())
    env = json.loads((tmp_path / "devdata" / "env.json").read_text())
    assert vault["robaws"]["username"] == env["ROBAWS_USERNAME"]
    assert vault["robaws"]["password"] == env["ROBAWS_PASSWORD"]
    assert vault["robostack"]["api_secret"] == env["ROBOSTACK_API_SECRET"]
    assert vault["controlroom"]["api_key"] == env["CONTROLROOM_API_KEY"]
    assert vault["cobot"]["access_token"] == env["COBOT_ACCESS_TOKEN"]
    assert vault["cobot"]["url"] == f"{started.url}/cobot"


def test_a_robot_reads_its_settings_from_the_files_alone(started: Started, tmp_path: Path) -> None:
    """In the robot's folder with env.json's variables only: the vault secret and the variables both reach the
    sandbox (one call each through the vault secret and through the plain variables)."""
    env_json = json.loads((tmp_path / "devdata" / "env.json").read_text())
    scrubbed = ("ROBAWS_", "COBOT_", "CONTROLROOM_", "ROBOSTACK_", "CONNECTORS_", "RPA_", "RC_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(scrubbed)}
    env.update(env_json)
    script = (
        "from Connectors.vendors.robaws.client import RobawsClient\n"
        "from Connectors.vendors.robostack.client import RobostackClient\n"
        "print(len(list(RobawsClient(vault_secret='robaws').list('clients', limit=1))))\n"
        "print(len(RobostackClient().find('orders')) > 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]


def test_the_files_need_demo_data(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "Connectors", "sandbox", "--port", str(free_port()), "--env-file", "env.json"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --env-file and --vault-file write the demo credentials: add --demo."
    assert not (tmp_path / "env.json").exists()


def test_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file, not a folder")
    command = [sys.executable, "-m", "Connectors", "sandbox", "--demo", "--port", str(free_port())]
    result = subprocess.run(
        [*command, "--env-file", "blocked/env.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot write ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
