"""Runs the tasks of robot.yaml as rcc runs them (see rcc.py beside this file), as a newcomer would:

1. the robots' environment from conda.yaml (built once per conda.yaml content, then reused);
2. robot.yaml's ``Sandbox`` dev task started first, in that environment, on the port devdata/env.json names;
3. every task (or those named), each with devdata/env.json's variables and nothing injected, the sandbox
   reset to its demo data before each one and its request counts read after;
4. everything the runs wrote searched for the sandbox's secrets and devdata/vault.json's, in every form
   (tools/check_secrets.py).

    python tests/robots/run_tasks.py [--artifacts output/robots] [--port N] [TASK ...]

Each task's artifacts go to <artifacts>/<task name with _ for spaces>/ (its ``ROBOT_ARTIFACTS``, and the value
of a Robot Framework command's ``--outputdir``) so that their logs can be merged; otherwise each command is
robot.yaml's. The sandbox listens where devdata/env.json points (127.0.0.1:8700), so devdata is used as it is.
Only when that port is taken (a developer's own sandbox, a parallel run) does the sandbox move to a free port,
and the tasks then get a copy of env.json with that port in its URLs (<artifacts>/env.json); the run says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import check_secrets  # noqa: E402
from outputs import find_leaks, run_files, run_teed  # noqa: E402
from rcc import CondaEnvironment, Robot, command_of, read_devdata, resolve_command  # noqa: E402
from rcc import task_environment as rcc_environment  # noqa: E402

from connectors_sandbox.server import SandboxProcess, free_port  # noqa: E402
from support import skip_guard  # noqa: E402

DEV_SANDBOX_TASK = "Sandbox"
URL_PORT = re.compile(r"^(https?://(?:127\.0\.0\.1|localhost)):(\d+)(/.*)?$")
# Vault keys whose values identify rather than authenticate (the rest are searched for in the outputs).
IDENTIFIERS = {"url", "username", "user", "email", "client_id", "workspace_id", "app_uuid", "process_id", "space"}


@dataclass
class TaskResult:
    name: str
    returncode: int
    artifacts: str
    requests: dict[str, int] = field(default_factory=dict)
    summary: str = ""
    seconds: float = 0.0
    replays: int = 0

    @property
    def status(self) -> str:
        return "PASS" if self.returncode == 0 else "FAIL"

    @property
    def failed(self) -> bool:
        return self.returncode != 0


@dataclass
class Run:
    results: list[TaskResult]
    port: int
    env_json: str
    leaks: list[str]
    devdata_changed: bool
    skipped_in_ci: list[str] = field(default_factory=list)  # Robot Framework skips CI refuses (skip_guard)

    @property
    def failures(self) -> list[str]:
        names = [r.name for r in self.results if r.failed]
        if self.leaks:
            names.append("secret check")
        if self.skipped_in_ci:
            names.append("no skips in CI")
        if self.devdata_changed:
            names.append("devdata unchanged")
        return names


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def devdata_port(devdata: dict[str, Any]) -> int:
    """The sandbox port devdata/env.json's URLs point at (they must all agree)."""
    ports = {int(m.group(2)) for value in devdata.values() if (m := URL_PORT.match(str(value)))}
    if len(ports) != 1:
        raise SystemExit(f"devdata/env.json should point every URL at one local sandbox port, found {sorted(ports)}")
    return ports.pop()


def moved(devdata: dict[str, Any], port: int) -> dict[str, Any]:
    """A copy of env.json's variables with every local sandbox URL on ``port``."""
    return {
        name: URL_PORT.sub(lambda m: f"{m.group(1)}:{port}{m.group(3) or ''}", value)
        if isinstance(value, str)
        else value
        for name, value in devdata.items()
    }


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def secret_values(
    sandbox: SandboxProcess, devdata: dict[str, Any], vault: dict[str, Any]
) -> tuple[set[str], list[tuple[str, str]]]:
    """Every secret the sandbox minted or accepts, the vault's and env.json's; and the Basic ``user:password``
    pairs among them (tools/check_secrets.py searches each in every form, short ones as whole tokens)."""
    secrets = set(sandbox.admin("GET", "/_sandbox/secrets") or [])
    pairs = check_secrets.basic_pairs(sandbox.environment())
    for values in vault.values():
        if isinstance(values, dict):
            secrets |= {str(v) for k, v in values.items() if k.lower() not in IDENTIFIERS and v}
            pairs += check_secrets.basic_pairs({str(k).upper(): str(v) for k, v in values.items() if v})
    secrets |= {
        str(v) for k, v in devdata.items() if re.search(r"(TOKEN|KEY|SECRET|PASSWORD)$", k) and isinstance(v, str)
    }
    return secrets, sorted(set(pairs))


class DevSandbox(SandboxProcess):
    """robot.yaml's Sandbox dev task, run like ``rcc run --dev -t Sandbox`` (plus ``--port`` when moved): a
    SandboxProcess (admin calls, stop) whose process is the dev task's command in the task's environment."""

    def __init__(self, robot: Robot, env: dict[str, str], port: int, moved_port: bool, console: Path) -> None:
        super().__init__(port=port)
        task = robot.tasks(dev=True).get(DEV_SANDBOX_TASK)
        if not task:
            raise SystemExit(f"robot.yaml has no dev task {DEV_SANDBOX_TASK!r} to start the sandbox with")
        self.args = resolve_command(command_of(task), env) + (["--port", str(port)] if moved_port else [])
        self.env, self.root, self.console = env, robot.root, console

    def start(self, timeout: float = 600.0) -> DevSandbox:
        # The first start installs the sandbox's packages (a few seconds); later ones only start it.
        with self.console.open("wb") as handle:
            self.process = subprocess.Popen(self.args, cwd=self.root, env=self.env, stdout=handle, stderr=handle)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"The Sandbox dev task did not start: {self.console.read_text(errors='replace')}")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            self.stats()
        except OSError:
            return False
        return True


def rewrite_outputdir(command: list[str], artifacts: Path) -> list[str]:
    command = list(command)
    for flag in ("--outputdir", "-d"):
        if flag in command[:-1]:
            command[command.index(flag) + 1] = str(artifacts)
    return command


def robot_summary(artifacts: Path, console: Path) -> str:
    """The robot's summary line: its suite's ``Summary`` metadata (Robot Framework), or the console line a
    Python task prints as ``Summary: ...``."""
    output = artifacts / "output.xml"
    if output.is_file():
        from robot.api import ExecutionResult

        return str(ExecutionResult(str(output)).suite.metadata.get("Summary", ""))
    found = [line for line in console.read_text(errors="replace").splitlines() if line.startswith("Summary: ")]
    return found[-1][len("Summary: ") :] if found else ""


def task_environment(robot: dict[str, Any], artifacts: Path, sandbox_env: dict[str, str]) -> dict[str, str]:
    """For tests that run one robot with this interpreter against their own sandbox: rcc's variables and
    devdata/env.json, with the sandbox's ``<VENDOR>_*`` variables over them."""
    env = rcc_environment(
        Robot(ROOT, robot), Path(sys.executable).parent, artifacts, read_devdata(ROOT / "devdata" / "env.json")
    )
    env.update(sandbox_env)
    return env


def one_task(name: str, artifacts: Path, sandbox_env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """For tests and benches that run one task of robot.yaml with this interpreter against their own sandbox:
    its command (artifacts in ``artifacts``) and environment (``task_environment``). Run it in ``ROOT``."""
    robot = Robot.load(ROOT)
    env = task_environment(robot.spec, artifacts, sandbox_env)
    return rewrite_outputdir(resolve_command(command_of(robot.tasks()[name]), env), artifacts), env


def run(
    tasks: Iterable[str] = (),
    artifacts: Path = ROOT / "output" / "robots",
    port: int | None = None,
    say: Callable[[str], None] = print,
    reset: bool = True,
    made_from: Callable[[list[TaskResult]], list[Path]] | None = None,
) -> Run:
    """Run ``tasks`` (default: all), each after a reset of the sandbox to its demo data unless ``reset`` is
    false (then each task finds what the ones before it did, as on a second run). ``made_from`` makes more
    files from the results (the merged log and report of tools/run_all.py), searched for secrets with the rest."""
    robot = Robot.load(ROOT)
    all_tasks = robot.tasks()
    selected = list(tasks) or list(all_tasks)
    unknown = [name for name in selected if name not in all_tasks]
    if unknown:
        raise SystemExit(f"robot.yaml has no task {unknown[0]!r}; its tasks: {', '.join(all_tasks)}")
    artifacts = artifacts.resolve()
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    bin_dir = CondaEnvironment(robot.conda_file()).ensure(say)

    env_json = ROOT / "devdata" / "env.json"
    devdata = read_devdata(env_json)
    vault = read_devdata(ROOT / "devdata" / "vault.json")
    expected = devdata_port(devdata)
    why = f"--port {port}" if port else f"Port {expected} is taken"
    port = port or (expected if port_is_free(expected) else free_port())
    if port != expected:
        devdata = moved(devdata, port)
        env_json = artifacts / "env.json"
        env_json.write_text(json.dumps(devdata, indent=2))
        say(
            f"{why}: the sandbox runs on {port}, the tasks read {env_json} (devdata/env.json "
            f"with port {port} in its URLs)."
        )
    else:
        say(f"The sandbox runs on port {port}, where devdata/env.json points; the tasks read it as it is.")
    devdata_before = tree_digest(ROOT / "devdata")

    sandbox = DevSandbox(
        robot, rcc_environment(robot, bin_dir, artifacts, devdata), port, port != expected, artifacts / "sandbox.txt"
    ).start()
    # What `rcc run --dev -t Sandbox` shows a newcomer (pip's lines aside).
    say(next((line for line in sandbox.console.read_text(errors="replace").splitlines() if "Sandbox" in line), ""))
    results = []
    try:
        for name in selected:
            if reset or not results:
                sandbox.reset(demo=True)
            counted = sandbox.stats()
            folder = artifacts / name.replace(" ", "_")
            folder.mkdir()
            env = rcc_environment(robot, bin_dir, folder, devdata)
            command = rewrite_outputdir(resolve_command(command_of(all_tasks[name]), env), folder)
            say(f"== task {name!r}: {' '.join(command)}")
            started = time.monotonic()
            code = run_teed(command, folder / "console.txt", robot.root, env)
            seconds = time.monotonic() - started
            stats = sandbox.stats()
            requests = {
                vendor: int(counts["requests"]) - int(counted[vendor]["requests"])
                for vendor, counts in stats.items()
                if isinstance(counts, dict) and counts.get("requests", 0) > counted[vendor].get("requests", 0)
            }
            replays = sum(int(c.get("idempotent_replays", 0)) for c in stats.values() if isinstance(c, dict)) - sum(
                int(c.get("idempotent_replays", 0)) for c in counted.values() if isinstance(c, dict)
            )
            results.append(
                TaskResult(
                    name,
                    code,
                    str(folder),
                    requests,
                    robot_summary(folder, folder / "console.txt"),
                    seconds,
                    replays,
                )
            )
        secrets, pairs = secret_values(sandbox, devdata, vault)
    finally:
        sandbox.stop()
    # Every file the runs left (env.json, vault and token files excepted by name: holding credentials is their job).
    files = [p for p in run_files(artifacts) if p != env_json] + (made_from(results) if made_from else [])
    leaks = find_leaks(secrets, files, pairs)
    say(
        f"Secret check: {len(secrets)} secret values and {len(pairs)} Basic pairs searched in every form "
        f"in {len(files)} files: {len(leaks)} found."
    )
    for leak in leaks:
        say(f"  LEAK {leak}")
    outputs = [Path(task.artifacts) / "output.xml" for task in results]
    skips = [skip for xml in outputs if xml.is_file() for skip in skip_guard.robot_skips(xml)]
    refused = skip_guard.unexpected(skips, skip_guard.load_allowed()) if skip_guard.in_ci() else []
    for line in skip_guard.describe(skips, refused, skip_guard.in_ci()):
        say(line)
    devdata_changed = tree_digest(ROOT / "devdata") != devdata_before
    result = Run(results, port, str(env_json), leaks, devdata_changed, [skip.test for skip in refused])
    (artifacts / "results.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def report(result: Run, say: Callable[[str], None] = print) -> None:
    say("")
    for task in result.results:
        counts = ", ".join(f"{n} {vendor}" for vendor, n in sorted(task.requests.items())) or "no"
        say(f"{task.status:5} {task.name}: {task.summary or '(no summary line)'} [sandbox: {counts} requests]")
    if result.devdata_changed:
        say("FAIL  a task changed files under devdata/")
    passed = sum(1 for t in result.results if t.status == "PASS")
    say(f"{passed} passed, {len(result.failures)} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=ROOT / "output" / "robots")
    parser.add_argument("--port", type=int, default=None, help="default: devdata's (8700), or a free one if taken")
    parser.add_argument("tasks", nargs="*")
    args = parser.parse_args()
    result = run(args.tasks, args.artifacts, args.port, say=lambda line: print(line, flush=True))
    report(result)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
