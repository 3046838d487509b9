"""``connectors sandbox`` as a newcomer meets it: one line at start saying where it is and where the demo
credentials are, one line and a non-zero exit on a busy port, one line naming the pip command when the
``[sandbox]`` extra is missing; never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from connectors_sandbox.server import free_port

pytestmark = pytest.mark.timeout(120)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "Connectors", "sandbox", *args]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


def test_it_says_where_it_runs_and_where_the_demo_credentials_are() -> None:
    port = free_port()
    with subprocess.Popen(
        _command("--demo", "--port", str(port)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline().strip()
            url = f"http://127.0.0.1:{port}"
            assert first.startswith(f"Sandbox on {url} ")
            # No file of this checkout is named: a user of the wheel has none (--env-file writes them).
            assert f"{url}/_sandbox/config" in first and "--env-file" in first and "devdata" not in first
            # The line comes once the port is ours: the sandbox answers right after.
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert requests.get(f"{url}/_sandbox/stats", timeout=5).status_code == 200
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "the sandbox did not answer after announcing itself"
                    time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(10)


def test_a_busy_port_is_one_line_and_a_non_zero_exit() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = _run(_command("--demo", "--port", str(port)))
    assert result.returncode != 0
    assert result.stdout == ""  # it never claims to be running
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: cannot start the sandbox on 127.0.0.1:{port}: the port is in use (another sandbox?). "
        "Stop the other process or choose another port with --port."
    ]


def test_a_missing_sandbox_extra_names_the_pip_command(tmp_path: Path) -> None:
    # A sitecustomize that hides starlette, as if the [sandbox] extra were not installed.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['starlette'] = None\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    check = _run([sys.executable, "-c", "import starlette"], env)
    assert check.returncode != 0, "the hook must hide starlette"
    result = _run(_command("--demo", "--port", str(free_port())), env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: the sandbox needs the [sandbox] extra (starlette is not installed): "
        "pip install 'robotframework-connectors[sandbox]'"
    ]


def test_bad_faults_are_a_usage_error() -> None:
    result = _run(_command("--faults", "5xx=lots", "--port", str(free_port())))
    assert result.returncode == 2
    assert "5xx=lots is not valid" in result.stderr and "Traceback" not in result.stderr
