"""The compatibility matrix: the oldest and newest Python the package claims, with Robot Framework 7.4
(the oldest it supports) and the newest 7.x. Each entry gets its own virtualenv and runs the unit tests and
the library-import integration tests (the full suite runs once, in ``make test``).

    python tools/matrix.py            # every entry whose Python is installed
    python tools/matrix.py --ci       # CI: the oldest entry only, without the property suite
    python tools/matrix.py --list     # the entries and whether their Python was found

The hypothesis property suite runs with 5 examples per argument here (``HOSTILE_EXAMPLES``): the matrix checks
that the code runs on each version; ``make test`` explores the inputs (and ``--ci`` leaves the suite to it).

An entry whose interpreter is not on this machine is reported as skipped, never silently passed; with ``CI`` set
(or ``--ci``) it fails the run, since CI is where the claimed versions must really be tried.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = [
    ("3.10", "robotframework==7.4.*"),
    ("3.13", "robotframework>=7.4,<8"),
]
TESTS = ["tests/unit", "tests/integration/test_library_imports.py"]


def interpreter(version: str) -> str | None:
    # pyenv's own builds first: its shims exist for every version but run only the selected ones.
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    candidates += [found] if (found := shutil.which(f"python{version}")) else []
    for candidate in candidates:
        if subprocess.run([candidate, "--version"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def run(command: list[str], **kwargs: object) -> int:
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False, **kwargs).returncode  # type: ignore[call-overload]


def entry(version: str, robot: str, tests: list[str]) -> str:
    python = interpreter(version)
    if python is None:
        return f"Python {version} + {robot}: SKIPPED (no python{version} on this machine)"
    venv = ROOT / ".venv-matrix" / f"py{version}"
    started = time.monotonic()
    if not (venv / "bin" / "python").exists() and run([python, "-m", "venv", str(venv)]) != 0:
        return f"Python {version} + {robot}: FAILED (venv)"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    if run([*pip, "-e", ".[test]", robot]) != 0:
        return f"Python {version} + {robot}: FAILED (install)"
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import robot; print(robot.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    env = {**os.environ, "HOSTILE_EXAMPLES": os.environ.get("HOSTILE_EXAMPLES", "5")}
    # The matrix checks the library on its oldest and newest Python; the tests of the robots' own packages
    # (pinned for conda.yaml's Python, installed by make test) are deselected by marker, not skipped.
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not peers"]
    code = run([*command, *tests], env=env)
    status = "passed" if code == 0 else "FAILED"
    return f"Python {version} + Robot Framework {installed}: {status} in {time.monotonic() - started:.0f} s"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--ci", action="store_true", help="the oldest entry without the property suite (CI's time)")
    args = parser.parse_args()
    if args.list:
        for version, robot in ENTRIES:
            print(f"Python {version} + {robot}: {interpreter(version) or 'not installed'}")
        return 0
    entries = ENTRIES[:1] if args.ci else ENTRIES
    tests = [*TESTS, "--ignore=tests/unit/test_hostile_properties.py"] if args.ci else TESTS
    results = [entry(version, robot, tests) for version, robot in entries]
    print("\n".join(["", "Compatibility matrix:", *(f"  {line}" for line in results)]))
    missing = [line for line in results if "SKIPPED" in line]
    if missing and (args.ci or in_ci()):
        print(f"CI: {len(missing)} entr{'y' if len(missing) == 1 else 'ies'} without an interpreter fail CI.")
    return 1 if any("FAILED" in line for line in results) or (missing and (args.ci or in_ci())) else 0


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


if __name__ == "__main__":
    sys.exit(main())
