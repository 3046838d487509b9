"""tools/check_secrets.py --sandbox: the secrets a running sandbox minted or accepts, and its Basic pairs."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]


def test_a_basic_header_of_the_sandbox_credentials_is_found(sandbox: SandboxProcess, tmp_path: Path) -> None:
    env = sandbox.environment()
    pair = f"{env['ROBAWS_USERNAME']}:{env['ROBAWS_PASSWORD']}".encode()
    (tmp_path / "console.txt").write_text(f"> Authorization: Basic {base64.b64encode(pair).decode()}\n")
    (tmp_path / "sandbox.log").write_text("GET /robaws/api/v2/clients 200\n")
    command = [sys.executable, str(ROOT / "tools" / "check_secrets.py"), str(tmp_path), "--sandbox", sandbox.url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stdout
    assert "console.txt" in result.stdout and "as a Basic user:password pair in base64" in result.stdout
    assert "sandbox.log" not in result.stdout
    assert env["ROBAWS_PASSWORD"] not in result.stdout
    (tmp_path / "console.txt").write_text("> Authorization: Basic ********\n")
    assert subprocess.run(command, capture_output=True, text=True, timeout=60, check=False).returncode == 0
