"""What rcc does to run a task of robot.yaml, for CI and `make run` (rcc is a downloaded binary that this
project cannot install on a CI machine).

- The environment comes from conda.yaml alone: a virtualenv with the Python version and the pip list it
  names, built once per conda.yaml content (the key is a hash of the file, as rcc's holotree keys its
  environments) under ``~/.cache/robotframework-connectors`` and reused by every later run and clone.
- A task runs in the robot's root with rcc's variables: ``ROBOT_ROOT``, ``ROBOT_ARTIFACTS``, ``PATH`` with
  robot.yaml's entries and the environment's ``bin`` first, ``PYTHONPATH`` with robot.yaml's entries only,
  ``PYTHONNOUSERSITE=1``, and the variables of ``devdata/env.json``.
- Nothing else reaches the robot: variables that would configure a connector, the Vault or work items
  (``ROBAWS_*``, ``CONNECTORS_*``, ``RPA_*``, ``RC_*`` ...) are removed from the inherited environment, so a
  robot passes only if ``devdata/`` is enough, as it must be for a newcomer's ``rcc run``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "robotframework-connectors"

# Inherited variables that would configure what devdata/ must configure by itself.
SCRUBBED_PREFIXES = ("ROBAWS_", "COBOT_", "CONTROLROOM_", "ROBOSTACK_", "CONNECTORS_", "RPA_", "RC_", "ROBOT_")
SCRUBBED = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "VIRTUAL_ENV", "DISPATCHER_PROCESS"}


@dataclass
class Robot:
    """robot.yaml of a robot root."""

    root: Path
    spec: dict[str, Any]

    @classmethod
    def load(cls, root: Path, name: str = "robot.yaml") -> Robot:
        return cls(root.resolve(), yaml.safe_load((root / name).read_text(encoding="utf-8")) or {})

    def tasks(self, dev: bool = False) -> dict[str, dict[str, Any]]:
        return dict(self.spec.get("devTasks" if dev else "tasks") or {})

    def conda_file(self) -> Path:
        """The first existing entry of ``environmentConfigs`` that fits this machine, else ``condaConfigFile``."""
        system, machine = (
            platform.system().lower(),
            {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine().lower()),
        )
        for name in self.spec.get("environmentConfigs") or []:
            words = set(Path(name).stem.lower().replace("-", "_").split("_"))
            other_os = words & {"windows", "darwin", "linux"} - {system}
            other_arch = words & {"amd64", "arm64"} - {machine}
            if (self.root / name).is_file() and not other_os and not other_arch:
                return self.root / name
        if self.spec.get("condaConfigFile"):
            return self.root / self.spec["condaConfigFile"]
        raise FileNotFoundError(f"{self.root / 'robot.yaml'} names no conda.yaml that exists here.")

    def artifacts_dir(self) -> Path:
        return self.root / str(self.spec.get("artifactsDir", "output"))

    def entries(self, key: str) -> list[str]:
        return [str(self.root / entry) for entry in self.spec.get(key) or []]


def command_of(task: Mapping[str, Any]) -> list[str]:
    """The command line of a task, in rcc's order of precedence: robotTaskName, shell, command."""
    if task.get("robotTaskName"):
        name = str(task["robotTaskName"])
        robot = ["python", "-m", "robot", "--report", "NONE", "--outputdir", "output", "--logtitle", "Task log"]
        return [*robot, "--task", name, "."]
    if task.get("shell"):
        return shlex.split(str(task["shell"]))
    return [str(part) for part in task.get("command") or []]


@dataclass
class CondaEnvironment:
    """The virtualenv standing in for rcc's environment of one conda.yaml."""

    conda_file: Path
    spec: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.spec = yaml.safe_load(self.conda_file.read_text(encoding="utf-8")) or {}

    def _conda(self, name: str) -> str | None:
        for entry in self.spec.get("dependencies") or []:
            if isinstance(entry, str) and entry.split("=")[0].strip() == name:
                return entry.split("=", 1)[1].strip("= ") if "=" in entry else ""
        return None

    @property
    def python_version(self) -> str:
        return self._conda("python") or f"{sys.version_info.major}.{sys.version_info.minor}"

    @property
    def pip_packages(self) -> list[str]:
        for entry in self.spec.get("dependencies") or []:
            if isinstance(entry, dict) and "pip" in entry:
                return [str(item) for item in entry["pip"]]
        return []

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.conda_file.read_bytes())
        digest.update(f"{sys.platform}-{platform.machine()}".encode())
        return digest.hexdigest()[:16]

    @property
    def path(self) -> Path:
        return CACHE / f"robot-env-{self.key}"

    @property
    def bin_dir(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    def interpreter(self) -> str:
        """A Python of the version conda.yaml names (rcc would download it; here it must be installed)."""
        wanted = self.python_version
        if wanted == f"{sys.version_info.major}.{sys.version_info.minor}" or not wanted:
            return sys.executable
        found = shutil.which(f"python{wanted}")
        if not found:
            raise RuntimeError(
                f"{self.conda_file.name} asks for Python {wanted} and there is no python{wanted} on PATH. "
                f"Install Python {wanted} (or run the robots with rcc, which brings its own)."
            )
        return found

    def ensure(self, say: Any = print) -> Path:
        """Build the environment unless a complete one exists; returns its ``bin`` folder."""
        stamp = self.path / ".complete"
        if stamp.is_file():
            return self.bin_dir
        import filelock

        CACHE.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(self.path) + ".lock", timeout=1800):
            if stamp.is_file():
                return self.bin_dir
            shutil.rmtree(self.path, ignore_errors=True)
            say(f"Building the robots' environment from {self.conda_file.name} in {self.path} (once per content)")
            subprocess.run([self.interpreter(), "-m", "venv", str(self.path)], check=True)
            python = str(self.bin_dir / "python")
            pip = self._conda("pip")
            if pip:
                self._pip(python, [f"pip=={pip}.*" if pip.count(".") == 0 else f"pip=={pip}"])
            self._pip(python, self.pip_packages)
            stamp.write_text(json.dumps({"conda": str(self.conda_file), "packages": self.pip_packages}))
        return self.bin_dir

    @staticmethod
    def _pip(python: str, requirements: list[str]) -> None:
        if requirements:
            subprocess.run(
                [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements], check=True
            )


def expand(value: str, root: Path, artifacts: Path) -> str:
    return value.replace("${ROBOT_ROOT}", str(root)).replace("${ROBOT_ARTIFACTS}", str(artifacts))


def task_environment(
    robot: Robot, bin_dir: Path, artifacts: Path, devdata: Mapping[str, Any], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables rcc gives a task: the inherited ones (scrubbed, see the module's doc), then
    ``devdata/env.json``, then rcc's own, which env.json cannot override."""
    inherited = dict(os.environ if base is None else base)
    env = {
        name: value
        for name, value in inherited.items()
        if name not in SCRUBBED and not name.startswith(SCRUBBED_PREFIXES)
    }
    env.update({name: expand(str(value), robot.root, artifacts) for name, value in devdata.items()})
    env.update(
        {
            "ROBOT_ROOT": str(robot.root),
            "ROBOT_ARTIFACTS": str(artifacts),
            "PATH": os.pathsep.join([*robot.entries("PATH"), str(bin_dir), inherited.get("PATH", os.defpath)]),
            "PYTHONPATH": os.pathsep.join(robot.entries("PYTHONPATH")),
            "PYTHONNOUSERSITE": "1",
        }
    )
    return env


def resolve_command(command: list[str], env: Mapping[str, str]) -> list[str]:
    """rcc looks the command's program up on the task's PATH (so ``python`` is the environment's)."""
    found = shutil.which(command[0], path=env.get("PATH"))
    if not found:
        raise RuntimeError(f"Cannot find command: {command[0]}")
    return [found, *command[1:]]


def read_devdata(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}
