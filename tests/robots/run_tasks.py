"""Runs every task of robot.yaml the way rcc would, against a sandbox.

rcc is a downloaded binary that cannot be installed here, so this does what it does for a task:
sets ROBOT_ROOT and ROBOT_ARTIFACTS, PYTHONPATH/PATH from robot.yaml, the variables of
devdata/env.json (with the sandbox URLs put in), and runs the task's command in the robot root.

    python tests/robots/run_tasks.py [--sandbox-url URL] [--artifacts output/robots] [TASK ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from Connectors.sandbox.server import SandboxProcess  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from outputs import report, run_teed  # noqa: E402


def task_environment(robot: dict, artifacts: Path, sandbox_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env_json = ROOT / "devdata" / "env.json"
    if env_json.exists():
        for key, value in json.loads(env_json.read_text()).items():
            env[key] = str(value).replace("${ROBOT_ROOT}", str(ROOT)).replace("${ROBOT_ARTIFACTS}", str(artifacts))
    env.update(sandbox_env)
    env["ROBOT_ROOT"] = str(ROOT)
    env["ROBOT_ARTIFACTS"] = str(artifacts)
    python_path = [str(ROOT / p) for p in robot.get("PYTHONPATH", [])]
    env["PYTHONPATH"] = os.pathsep.join([*python_path, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    path = [str(ROOT / p) for p in robot.get("PATH", [])]
    env["PATH"] = os.pathsep.join([*path, str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox-url", default=os.environ.get("CONNECTORS_SANDBOX_URL"))
    parser.add_argument("--artifacts", default=str(ROOT / "output" / "robots"))
    parser.add_argument("tasks", nargs="*")
    args = parser.parse_args()
    robot = yaml.safe_load((ROOT / "robot.yaml").read_text())
    tasks = robot.get("tasks", {})
    selected = args.tasks or list(tasks)
    sandbox = None
    if args.sandbox_url:
        url = args.sandbox_url
    else:
        sandbox = SandboxProcess(demo=True).start()
        url = sandbox.url
    failures = []
    try:
        helper = SandboxProcess(port=1)
        helper.url = url.rstrip("/")
        for name in selected:
            spec = tasks[name]
            helper.reset(demo=True)
            artifacts = Path(args.artifacts) / name.replace(" ", "_")
            shutil.rmtree(artifacts, ignore_errors=True)
            artifacts.mkdir(parents=True, exist_ok=True)
            env = task_environment(robot, artifacts, helper.environment())
            env["CONNECTORS_SANDBOX_URL"] = helper.url
            if "command" in spec:
                command = [str(part) for part in spec["command"]]
            elif "shell" in spec:
                command = shlex.split(spec["shell"])
            else:
                command = [
                    "python",
                    "-m",
                    "robot",
                    "--report",
                    "NONE",
                    "--outputdir",
                    str(artifacts),
                    "--task",
                    spec["robotTaskName"],
                    ".",
                ]
            command = [sys.executable if part == "python" else part for part in command]
            # rcc writes artifacts to artifactsDir; here each task gets its own folder.
            if "--outputdir" in command:
                command[command.index("--outputdir") + 1] = str(artifacts)
            print(f"== task {name!r}: {' '.join(command)}", flush=True)
            if run_teed(command, artifacts / "console.txt", ROOT, env) != 0:
                failures.append(name)
        secrets = set(helper.admin("GET", "/_sandbox/secrets"))
        files = [
            path
            for path in Path(args.artifacts).rglob("*")
            if path.suffix in (".xml", ".html", ".txt", ".json") and path.is_file()
        ]
        if report(secrets, files) or not secrets:
            failures.append("secret check")
    finally:
        if sandbox:
            sandbox.stop()
    print(f"{len(selected) - len([f for f in failures if f in selected])} passed, {len(failures)} failed")
    if failures:
        print("failed tasks: " + ", ".join(failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
