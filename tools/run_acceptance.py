"""Runs the Robot Framework acceptance suites at TRACE level against one sandbox, then proves that
no secret leaked: every credential, token and webhook secret the sandbox minted or accepts is
searched for in output.xml, log.html, the console output and the sandbox's own log.

    python tools/run_acceptance.py [robot options and suites]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from connectors_sandbox.server import SandboxProcess  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from outputs import report, run_teed  # noqa: E402


def main() -> int:
    out = ROOT / "output" / "acceptance"
    out.mkdir(parents=True, exist_ok=True)
    sandbox_log = out / "sandbox.log"
    sandbox_log.unlink(missing_ok=True)
    suites = sys.argv[1:] or [str(ROOT / "tests" / "acceptance")]
    with SandboxProcess(demo=True, log_file=sandbox_log) as sandbox:
        env = dict(
            os.environ,
            CONNECTORS_SANDBOX_URL=sandbox.url,
            SANDBOX_LOG_DIR=str(out),
            CONNECTORS_TOKEN_STORE=str(out / "tokens.json"),
        )
        console = out / "console.txt"
        command = [
            sys.executable,
            "-m",
            "robot",
            "--loglevel",
            "TRACE",
            "--outputdir",
            str(out),
            "--pythonpath",
            str(ROOT / "tests" / "acceptance" / "resources"),
            *suites,
        ]
        result = run_teed(command, console, ROOT, env)
        secrets = set(sandbox.admin("GET", "/_sandbox/secrets"))
    files = [out / "output.xml", out / "log.html", out / "report.html", console, sandbox_log]
    leaks = report(secrets, files)
    if result != 0:
        print(f"Acceptance suites failed (robot exit code {result}).")
    return 1 if (result != 0 or leaks or not secrets) else 0


if __name__ == "__main__":
    sys.exit(main())
