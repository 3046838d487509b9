"""The ``Sandbox`` dev task of robot.yaml (``rcc run --dev -t Sandbox``): ``connectors sandbox --demo`` on
http://127.0.0.1:8700, the address and demo credentials devdata/ expects.

rcc gives all tasks of a robot one environment, and the robots' (conda.yaml) has no web server: the sandbox's
packages (pyproject's ``[sandbox]`` extra, pinned in tools/sandbox-requirements.txt) are installed on first use
into a folder of their own under ``~/.cache/robotframework-connectors`` and put in front of this process's
path. The robots' environment stays as conda.yaml says, and a robot run that rcc starts meanwhile (which
may restore that environment) cannot pull the sandbox's packages from under it.

    python tools/sandbox_task.py [connectors sandbox arguments]     (default: --demo)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "sandbox-requirements.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "robotframework-connectors"


def packages_dir() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}-{sys.platform}".encode())
    return CACHE / f"sandbox-packages-{digest.hexdigest()[:16]}"


def ensure_packages() -> Path:
    target = packages_dir()
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"Installing the sandbox's web server into {target} (first run only) ...", flush=True)
    # Installed next to the final folder and renamed: a run stopped half-way leaves nothing that looks complete.
    staging = Path(tempfile.mkdtemp(prefix="sandbox-packages-", dir=CACHE))
    try:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--target", str(staging), "-r", str(REQUIREMENTS)], check=True)
        try:
            staging.rename(target)
        except OSError:  # another run finished first: use its copy
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def main(argv: list[str]) -> int:
    try:
        sys.path.insert(0, str(ensure_packages()))
    except subprocess.CalledProcessError as error:
        print(f"error: could not install the sandbox's packages ({error}); see pip's output above.", file=sys.stderr)
        return 2
    from Connectors.cli import main as connectors

    return connectors(["sandbox", *(argv or ["--demo"])])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
