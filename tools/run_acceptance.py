"""Runs the Robot Framework acceptance suites at TRACE level against one sandbox, then proves that
no secret leaked: every credential, token and webhook secret the sandbox minted or accepts is
searched for in output.xml, log.html, the console output and the sandbox's own log.

    python tools/run_acceptance.py [robot options and suites]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from Connectors.sandbox.server import SandboxProcess  # noqa: E402


def find_leaks(secrets: set[str], files: list[Path]) -> list[str]:
    leaks = []
    for path in files:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            if secret in text:
                leaks.append(f"{path.name}: a secret of {len(secret)} characters starting {secret[:2]!r}")
    return leaks


def main() -> int:
    out = ROOT / "output" / "acceptance"
    out.mkdir(parents=True, exist_ok=True)
    sandbox_log = out / "sandbox.log"
    sandbox_log.unlink(missing_ok=True)
    suites = sys.argv[1:] or [str(ROOT / "tests" / "acceptance")]
    with SandboxProcess(demo=True, log_file=sandbox_log) as sandbox:
        env = dict(os.environ, CONNECTORS_SANDBOX_URL=sandbox.url, SANDBOX_LOG_DIR=str(out),
                   CONNECTORS_TOKEN_STORE=str(out / "tokens.json"))
        console = out / "console.txt"
        command = [sys.executable, "-m", "robot", "--loglevel", "TRACE", "--outputdir", str(out),
                   "--pythonpath", str(ROOT / "tests" / "acceptance" / "resources"), *suites]
        with console.open("w", encoding="utf-8") as handle:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            assert process.stdout
            for line in process.stdout:
                sys.stdout.write(line)
                handle.write(line)
            result = process.wait()
        secrets = set(sandbox.admin("GET", "/_sandbox/secrets"))
    files = [out / "output.xml", out / "log.html", out / "report.html", console, sandbox_log]
    leaks = find_leaks(secrets, files)
    print(f"Secret check: {len(secrets)} secret values searched in {', '.join(f.name for f in files)}: "
          f"{len(leaks)} found.")
    for leak in leaks:
        print(f"  LEAK {leak}")
    if result != 0:
        print(f"Acceptance suites failed (robot exit code {result}).")
    return 1 if (result != 0 or leaks or not secrets) else 0


if __name__ == "__main__":
    sys.exit(main())
