"""`make run`: start the sandbox with demo data, run every sample robot of robot.yaml against it, stop
the sandbox, and merge the robots' results into output/log.html and output/report.html.

    python tools/run_all.py [--port 8700]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from Connectors.sandbox.server import SandboxProcess, free_port  # noqa: E402


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8700)
    args = parser.parse_args()
    port = args.port if port_is_free(args.port) else free_port()
    output = ROOT / "output"
    robots_dir = output / "robots"
    output.mkdir(exist_ok=True)
    with SandboxProcess(demo=True, port=port, log_file=output / "sandbox.log") as sandbox:
        print(f"Sandbox running at {sandbox.url}", flush=True)
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tests" / "robots" / "run_tasks.py"),
                "--sandbox-url",
                sandbox.url,
                "--artifacts",
                str(robots_dir),
            ],
            cwd=ROOT,
        )
    outputs = sorted(str(p) for p in robots_dir.glob("*/output.xml"))
    if outputs:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "robot.rebot",
                "--name",
                "Sample robots",
                "--outputdir",
                str(output),
                "--output",
                "output.xml",
                "--log",
                "log.html",
                "--report",
                "report.html",
                *outputs,
            ],
            cwd=ROOT,
            check=False,
        )
        print(f"\nResults: {output / 'log.html'} and {output / 'report.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
