"""A user's own project, from the wheel: what CI checks that a newcomer outside this repository can do.

1. ``python -m build`` on the checkout (a fresh clone in CI): a wheel and an sdist, and not one warning;
2. a clean virtualenv with only the wheel and its ``[sandbox]`` extra installed (no ``src/`` on the path, no
   editable install), checked to import the libraries, the stubs and ``py.typed`` from its site-packages;
3. a robot of the user's own, outside the checkout: robot.yaml, conda.yaml and tasks.robot exactly as
   docs/getting-started.md shows them (conda.yaml naming the built wheel instead of the index's release), and
   ``devdata/`` written by the installed ``connectors sandbox --demo --env-file … --vault-file …``;
4. its task run as rcc runs it (tests/robots/rcc.py: the environment from conda.yaml, devdata/env.json's
   variables and nothing else) against that sandbox, and its result checked: the task passed and its summary
   line says what it read.

    python tools/user_project.py [--work DIR] [--keep]

Prints each step and, last, the user robot's summary line. The robot's environment is cached under the work
folder (a temporary one unless --work), not in ~/.cache: its conda.yaml names a wheel that exists only here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "getting-started.md"
TITLED_FENCE = re.compile(r'^```[a-z]+ title="(?P<name>[^"]+)"\n(?P<body>.*?)^```$', re.MULTILINE | re.DOTALL)
SUMMARY = re.compile(
    r"^\d+ Robaws clients, \d+ Cobot members, \d+ pending Robostack orders; Control Room run completed$"
)
TASK = "Report Open Work"


def say(text: str) -> None:
    print(text, flush=True)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result  # type: ignore[no-any-return]


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would point Python at the checkout."""
    scrubbed = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in scrubbed}


def build(dist: Path) -> Path:
    # PYTHONDONTWRITEBYTECODE makes setuptools warn that it skips byte-compiling; a user's shell has none.
    result = run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], env=clean_env())
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if re.search(r"warn|deprecat", line, re.IGNORECASE)]
    if warnings:
        raise SystemExit("python -m build warned:\n" + "\n".join(warnings))
    wheels = sorted(dist.glob("robotframework_connectors-*.whl"))
    sdists = sorted(dist.glob("robotframework_connectors-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    say(f"1. python -m build: {wheels[0].name} and {sdists[0].name}, 0 warnings")
    return wheels[0]


CHECK_INSTALL = """
import importlib.metadata, json, pathlib, Connectors, connectors_sandbox
package = pathlib.Path(Connectors.__file__).parent
sandbox = pathlib.Path(connectors_sandbox.__file__).parent
meta = importlib.metadata.metadata("robotframework-connectors")
files = [str(f) for f in importlib.metadata.files("robotframework-connectors")]
print(json.dumps({
    "package": str(package), "sandbox": str(sandbox),
    "stubs": sorted(p.name for p in package.glob("*.pyi")),
    "typed": (package / "py.typed").is_file() and (sandbox / "py.typed").is_file(),
    "license": meta.get("License-Expression"), "license_file": any(f.endswith("licenses/LICENSE") for f in files),
}))
"""


def install(wheel: Path, venv: Path) -> Path:
    run([sys.executable, "-m", "venv", str(venv)], env=clean_env())
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[sandbox]"])
    facts = json.loads(run([str(python), "-c", CHECK_INSTALL], env=clean_env(), cwd=venv).stdout)
    site = str(venv / "lib")
    problems = [
        f"{name} loads from {facts[name]}, not the virtualenv"
        for name in ("package", "sandbox")
        if not facts[name].startswith(site)
    ]
    if facts["stubs"] != ["Cobot.pyi", "ControlRoom.pyi", "Robaws.pyi", "Robostack.pyi"]:
        problems.append(f"stubs: {facts['stubs']}")
    if not facts["typed"]:
        problems.append("py.typed missing")
    if facts["license"] != "Apache-2.0" or not facts["license_file"]:
        problems.append(f"license: {facts['license']}, LICENSE file: {facts['license_file']}")
    if problems:
        raise SystemExit("the installed wheel is incomplete: " + "; ".join(problems))
    say(f"2. a clean virtualenv ({venv}): the wheel with [sandbox], stubs, py.typed and LICENSE from site-packages")
    return venv / "bin"


def scaffold(robot: Path, wheel: Path) -> None:
    files = {m.group("name"): m.group("body") for m in TITLED_FENCE.finditer(GUIDE.read_text(encoding="utf-8"))}
    missing = {"robot.yaml", "conda.yaml", "tasks.robot"} - set(files)
    if missing:
        raise SystemExit(f"{GUIDE.relative_to(ROOT)} lacks the titled blocks {sorted(missing)}")
    robot.mkdir(parents=True)
    conda = re.sub(r"(?m)^(\s*- )robotframework-connectors==\S+$", rf"\g<1>{wheel}", files["conda.yaml"])
    if str(wheel) not in conda:
        raise SystemExit("docs/getting-started.md's conda.yaml names no robotframework-connectors==<version> line")
    conda = re.sub(r"(?m)^(\s*- python=)\S+$", rf"\g<1>{sys.version_info.major}.{sys.version_info.minor}", conda)
    for name, text in {**files, "conda.yaml": conda}.items():
        (robot / name).write_text(text, encoding="utf-8")
    say(f"3. the user's robot in {robot}: {', '.join(sorted(files))} from {GUIDE.relative_to(ROOT)}")


def start_sandbox(bin_dir: Path, robot: Path) -> tuple[subprocess.Popen[str], str]:
    sys.path.insert(0, str(ROOT / "src"))
    from connectors_sandbox.server import free_port

    command = [str(bin_dir / "connectors"), "sandbox", "--demo", "--port", str(free_port())]
    command += ["--env-file", "devdata/env.json", "--vault-file", "devdata/vault.json"]
    process = subprocess.Popen(
        command, cwd=robot, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("Sandbox on ") or not (robot / "devdata" / "env.json").is_file():
        process.kill()
        raise SystemExit(
            f"the installed sandbox did not start: {line}\n{process.stderr.read() if process.stderr else ''}"
        )
    url = line.split()[2]
    deadline = time.monotonic() + 30
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=5).close()  # noqa: S310 - a local URL
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the installed sandbox does not answer on {url}") from None
            time.sleep(0.2)
    say(f"   the installed sandbox: {line}")
    return process, url


def run_task(robot_root: Path, cache: Path) -> str:
    sys.path.insert(0, str(ROOT / "tests" / "robots"))
    import rcc

    rcc.CACHE = cache  # the environment is this run's: its conda.yaml names a wheel only this run has
    robot = rcc.Robot.load(robot_root)
    bin_dir = rcc.CondaEnvironment(robot.conda_file()).ensure(lambda text: say(f"   {text}"))
    artifacts = robot.artifacts_dir()
    env = rcc.task_environment(robot, bin_dir, artifacts, rcc.read_devdata(robot_root / "devdata" / "env.json"))
    command = rcc.resolve_command(rcc.command_of(robot.tasks()[TASK]), env)
    result = subprocess.run(command, cwd=robot_root, env=env, capture_output=True, text=True, timeout=900)
    (artifacts / "console.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"4. the task {TASK!r} failed ({result.returncode}):\n{result.stdout[-3000:]}")
    from robot.api import ExecutionResult

    suite = ExecutionResult(str(artifacts / "output.xml")).suite
    summary = str(suite.metadata.get("Summary", ""))
    if suite.status != "PASS" or not SUMMARY.match(summary):
        raise SystemExit(f"4. unexpected result: {suite.status}, summary {summary!r}")
    say(f"4. rcc-like run of {TASK!r}: {suite.status} ({artifacts / 'log.html'})")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = parser.parse_args(argv)
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="user-project-"))
    if args.work:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    started = time.monotonic()
    try:
        wheel = build(work / "dist")
        bin_dir = install(wheel, work / "venv")
        robot = work / "my-robot"
        scaffold(robot, wheel)
        sandbox, _url = start_sandbox(bin_dir, robot)
        try:
            summary = run_task(robot, work / "holotree")
        finally:
            sandbox.terminate()
            sandbox.wait(10)
    finally:
        if not args.work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    say(f"User robot summary: {summary}")
    say(f"user project: PASS in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
