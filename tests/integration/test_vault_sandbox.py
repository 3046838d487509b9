"""The sandbox's Control Room Vault API, spoken by the vendor's unmodified clients: rpaframework's
``RPA.Robocorp.Vault`` (RobocorpVault) and robocorp-vault. Each runs in its own process, configured only by
the variables a Control Room run gets (``RC_API_SECRET_HOST``, ``RC_API_SECRET_TOKEN``, ``RC_WORKSPACE_ID``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from connectors_sandbox.server import SandboxProcess

pytest.importorskip("RPA.Robocorp.Vault", reason="rpaframework is not installed")
pytest.importorskip("robocorp.vault", reason="robocorp-vault is not installed")
pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
VAULT_VARIABLES = ("RC_API_SECRET_HOST", "RC_API_SECRET_TOKEN", "RC_WORKSPACE_ID")

RPA_GET_SET = """
import json
from RPA.Robocorp.Vault import Vault
vault = Vault()
secret = vault.get_secret("robaws")
print(json.dumps(dict(secret)))
secret["password"] = "rotated-by-rpa-0001"
vault.set_secret(secret)
print(json.dumps(dict(Vault().get_secret("robaws"))))
"""

ROBOCORP_GET_SET = """
import json
from robocorp import vault
print(json.dumps(dict(vault.get_secret("robaws"))))
created = vault.create_secret("made_by_robocorp", {"api_key": "made-key-0001"}, description="from a robot")
secret = vault.get_secret("made_by_robocorp")
print(json.dumps([secret.description, dict(secret)]))
secret["api_key"] = "changed-key-0002"
vault.set_secret(secret)
print(json.dumps(dict(vault.get_secret("made_by_robocorp"))))
"""


def run_client(code: str, sandbox: SandboxProcess, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("RPA_", "RC_"))}
    facts = sandbox.environment()
    env.update({name: facts[name] for name in VAULT_VARIABLES}, **overrides)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[object]:
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_the_sandbox_config_lists_the_vault_variables(sandbox: SandboxProcess) -> None:
    facts = sandbox.admin("GET", "/_sandbox/config")["vendors"]["controlroom"]
    assert facts["env"]["RC_API_SECRET_HOST"] == sandbox.url + "/controlroom"
    assert facts["env"]["RC_WORKSPACE_ID"] == facts["env"]["CONTROLROOM_WORKSPACE_ID"]
    assert facts["env"]["RC_API_SECRET_TOKEN"] and facts["env"]["CONTROLROOM_VAULT_READONLY_TOKEN"]
    # The demo secrets are devdata's file vault: a sample robot reads the same either way.
    devdata = json.loads((ROOT / "devdata" / "vault.json").read_text())
    assert facts["vault"]["secrets"] == sorted(devdata)


def test_rpaframework_vault_gets_and_sets(sandbox: SandboxProcess) -> None:
    before, after = lines(run_client(RPA_GET_SET, sandbox))
    devdata = json.loads((ROOT / "devdata" / "vault.json").read_text())
    assert before == devdata["robaws"]
    assert after == {**devdata["robaws"], "password": "rotated-by-rpa-0001"}
    # What one client wrote, the other reads.
    (seen,) = lines(
        run_client(
            'import json; from robocorp import vault; print(json.dumps(dict(vault.get_secret("robaws"))))', sandbox
        )
    )
    assert seen == after


def test_robocorp_vault_gets_creates_and_sets(sandbox: SandboxProcess) -> None:
    robaws, created, changed = lines(run_client(ROBOCORP_GET_SET, sandbox))
    assert robaws == json.loads((ROOT / "devdata" / "vault.json").read_text())["robaws"]
    assert created == ["from a robot", {"api_key": "made-key-0001"}]
    assert changed == {"api_key": "changed-key-0002"}


def test_a_token_without_write_access_gets_403_in_both_clients(sandbox: SandboxProcess) -> None:
    read_only = sandbox.environment()["CONTROLROOM_VAULT_READONLY_TOKEN"]
    rpa = run_client(RPA_GET_SET, sandbox, RC_API_SECRET_TOKEN=read_only)
    assert rpa.returncode == 1 and "Does your token have write access?" in rpa.stderr
    robocorp = run_client(ROBOCORP_GET_SET, sandbox, RC_API_SECRET_TOKEN=read_only)
    assert robocorp.returncode == 1 and "Not authorized to write secret" in robocorp.stderr
    # The reads before the refused writes worked, and nothing changed.
    assert (
        json.loads(rpa.stdout.splitlines()[0])["password"]
        == json.loads((ROOT / "devdata" / "vault.json").read_text())["robaws"]["password"]
    )


def test_missing_secrets_and_other_workspaces_are_refused(sandbox: SandboxProcess) -> None:
    missing = run_client('from robocorp import vault; vault.get_secret("nope")', sandbox)
    assert "No secret with name 'nope' available" in missing.stderr
    other = sandbox.environment()["CONTROLROOM_OTHER_WORKSPACE_ID"]
    foreign = run_client('from robocorp import vault; vault.get_secret("robaws")', sandbox, RC_WORKSPACE_ID=other)
    assert "Not authorized to read secret" in foreign.stderr


def test_the_protocol_refuses_what_the_clients_never_send(sandbox: SandboxProcess) -> None:
    env = sandbox.environment()
    base = f"{env['RC_API_SECRET_HOST']}/secrets-v1/workspaces/{env['RC_WORKSPACE_ID']}/secrets"
    auth = {"Authorization": f"Bearer {env['RC_API_SECRET_TOKEN']}"}
    unknown = requests.get(f"{base}/robaws", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "unauthorized"
    plain = requests.get(f"{base}/robaws", headers=auth, timeout=10)
    assert plain.status_code == 400 and "encryptionScheme" in plain.json()["error"]["message"]
    forged = requests.put(
        f"{base}/robaws",
        headers=auth,
        json={"name": "robaws", "description": "", "value": "AAAA", "encryption": {"encryptionScheme": "plain"}},
        timeout=10,
    )
    assert forged.status_code == 400
    key = requests.get(f"{base}/publicKey", headers=auth, timeout=10)
    assert key.status_code == 200 and key.text.startswith("MII")
