"""The newcomer's path, in the parts that need no robot run (tests/robots runs the robots themselves):
conda.yaml agrees with pyproject.toml, the sandbox's packages stay out of the robots' environment, a task
gets devdata's variables and nothing else, devdata works whether or not the runner expands variables, and
robot.yaml names each Robot Framework suite after its task."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pins = _load("pins", ROOT / "tools" / "pins.py")
rcc = _load("rcc", ROOT / "tests" / "robots" / "rcc.py")
DEVDATA = json.loads((ROOT / "devdata" / "env.json").read_text())
ROBOT = yaml.safe_load((ROOT / "robot.yaml").read_text())


# -- conda.yaml and pyproject.toml --------------------------------------------------------------------------
def test_conda_yaml_and_the_sandbox_pins_agree_with_pyproject() -> None:
    assert pins.disagreements() == []


def test_every_kind_of_disagreement_is_named() -> None:
    conda = (ROOT / "conda.yaml").read_text()
    doctored = (
        conda.replace("- redis==", "- redis>=")  # not pinned
        .replace("      - filelock==", "      - not-filelock==")  # one missing, one unknown
        .replace("- robotframework==7.", "- robotframework==6.")  # outside pyproject's >=7.4
        .replace("- PyJWT[crypto]==", "- PyJWT==")  # the extra dropped
        .replace("python=3.11", "python=3.9")
        + "      - starlette==1.0\n"  # a sandbox package in the robots' environment
    )
    problems = "\n".join(pins.disagreements(conda_text=doctored))
    for expected in (
        "'redis>=",
        "filelock>=3.12 is in pyproject.toml but missing here",
        "'not-filelock==",
        "robotframework==6.",
        "lacks the extras of pyproject.toml's PyJWT[crypto]",
        "python=3.9 is outside requires-python",
        "'starlette==1.0' is not in pyproject.toml's dependencies",
        "the sandbox's packages belong to the Sandbox dev task only",
    ):
        assert expected in problems, problems
    sandbox = "starlette>=0.37\nuvicorn==0.1\n"
    problems = "\n".join(pins.disagreements(sandbox_text=sandbox))
    assert "'starlette>=0.37' is not pinned" in problems
    assert "uvicorn==0.1' is outside" in problems
    assert "python-multipart>=0.0.9 is in pyproject.toml but missing here" in problems


def test_the_sandbox_runs_from_a_dev_task_with_its_own_packages() -> None:
    conda = set(pins.conda_pins())
    assert not conda & set(pins.sandbox_requirements()), "the robots' environment holds the sandbox's packages"
    assert ROBOT["devTasks"]["Sandbox"]["command"][:2] == ["python", "tools/sandbox_task.py"]
    assert set(pins.sandbox_requirements()) <= set(
        pins.parse_pins((ROOT / "tools/sandbox-requirements.txt").read_text().splitlines())
    )


# -- the environment a task gets --------------------------------------------------------------------------
def test_a_task_gets_devdata_and_rccs_variables_and_nothing_injected(tmp_path: Path) -> None:
    robot = rcc.Robot.load(ROOT)
    parent = {
        "PATH": "/usr/bin",
        "HOME": "/home/someone",
        "ROBAWS_PASSWORD": "from-the-developers-shell",
        "ROBAWS_URL": "https://app.robaws.com",
        "CONNECTORS_SANDBOX_URL": "http://127.0.0.1:1",
        "CONTROLROOM_API_KEY": "minted-by-a-test",
        "RPA_SECRET_FILE": "/elsewhere/vault.json",
        "RC_WORKITEM_INPUT_PATH": "/elsewhere/items.json",
        "PYTHONPATH": "/elsewhere",
        "VIRTUAL_ENV": "/elsewhere/.venv",
        "ROBOT_OPTIONS": "--dryrun",
    }
    bin_dir = tmp_path / "env" / "bin"
    env = rcc.task_environment(robot, bin_dir, tmp_path / "artifacts", DEVDATA, base=parent)
    for name in ("ROBAWS_PASSWORD", "ROBAWS_URL", "CONNECTORS_SANDBOX_URL", "CONTROLROOM_API_KEY", "RPA_SECRET_FILE"):
        assert env.get(name) == DEVDATA.get(name)  # devdata's value, or none at all: never the parent's
    assert "RC_WORKITEM_INPUT_PATH" not in env and "ROBAWS_PASSWORD" not in env
    assert "VIRTUAL_ENV" not in env and "ROBOT_OPTIONS" not in env
    assert {k: env[k] for k in DEVDATA} == DEVDATA  # devdata as it is, the URL over the parent's
    assert env["HOME"] == "/home/someone"
    assert env["ROBOT_ROOT"] == str(ROOT) and env["ROBOT_ARTIFACTS"] == str(tmp_path / "artifacts")
    assert env["PYTHONPATH"] == os.pathsep.join(str(ROOT / p) for p in ROBOT["PYTHONPATH"])
    assert env["PATH"].split(os.pathsep) == [*(str(ROOT / p) for p in ROBOT["PATH"]), str(bin_dir), "/usr/bin"]
    assert env["PYTHONNOUSERSITE"] == "1"


def test_env_json_cannot_override_rccs_own_variables(tmp_path: Path) -> None:
    robot = rcc.Robot.load(ROOT)
    env = rcc.task_environment(
        robot, tmp_path, tmp_path / "a", {"PYTHONPATH": "/x", "ROBOT_ROOT": "/x", "A": "${ROBOT_ARTIFACTS}/f"}, base={}
    )
    assert env["PYTHONPATH"] != "/x" and env["ROBOT_ROOT"] == str(ROOT)
    assert env["A"] == f"{tmp_path / 'a'}/f"


def test_devdata_needs_no_variable_expansion() -> None:
    # rcc runs a task in the robot's root: relative paths work there whether or not ${...} would be expanded.
    assert [k for k, v in DEVDATA.items() if "${" in str(v) or str(v).startswith("/")] == []
    assert (ROOT / DEVDATA["RPA_SECRET_FILE"]).is_file() and (ROOT / DEVDATA["RC_VAULT_SECRETS_FILE"]).is_file()


def test_every_url_of_devdata_points_at_the_sandboxs_default_port() -> None:
    run_tasks = _load("run_tasks", ROOT / "tests" / "robots" / "run_tasks.py")
    assert run_tasks.devdata_port(DEVDATA) == 8700
    moved = run_tasks.moved(DEVDATA, 8123)
    assert moved["ROBAWS_URL"] == "http://127.0.0.1:8123/robaws"
    assert all(":8700" not in str(v) for v in moved.values())
    assert {k: v for k, v in moved.items() if "8123" not in str(v)} == {
        k: v for k, v in DEVDATA.items() if "8700" not in str(v)
    }


def test_commands_as_rcc_reads_them() -> None:
    assert rcc.command_of({"shell": 'python -m robot --name "A b" x.robot'}) == [
        "python",
        "-m",
        "robot",
        "--name",
        "A b",
        "x.robot",
    ]
    assert rcc.command_of({"robotTaskName": "T", "shell": "ignored"})[-3:] == ["--task", "T", "."]
    assert rcc.Robot.load(ROOT).conda_file() == ROOT / "conda.yaml"


@pytest.mark.parametrize("name", [n for n, t in ROBOT["tasks"].items() if "robot" in t.get("command", [])])
def test_each_robot_framework_task_names_its_suite_after_itself(name: str) -> None:
    command = ROBOT["tasks"][name]["command"]
    assert command[command.index("--name") + 1] == name
