"""conda.yaml (the sample robots' environment) and tools/sandbox-requirements.txt (the Sandbox dev task's
web server), pinned from pyproject.toml.

    python tools/pins.py              # rewrite both with the versions installed in this interpreter
    python tools/pins.py --check      # list where they disagree with pyproject.toml (exit 1 if they do)
    python tools/pins.py --requirements   # conda.yaml's pip list, one per line (for pip install -r)

conda.yaml holds pyproject's dependencies with its ``[redis]`` and ``[robots]`` extras, each pinned (``==``) to
a version the pyproject specifier allows; never the ``[sandbox]`` extra, which only the dev task installs. To
move a pin: ``pip install -U <package>`` in .venv, run this script, commit both files.
"""

from __future__ import annotations

import argparse
import re
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONDA = ROOT / "conda.yaml"
SANDBOX = ROOT / "tools" / "sandbox-requirements.txt"
ROBOT_EXTRAS = ("redis", "robots")
SANDBOX_EXTRA = "sandbox"

CONDA_HEAD = """\
# The sample robots' environment, as rcc builds it for `rcc run -t "<task>"` and for Control Room.
# robot.yaml puts src/ on PYTHONPATH, so the connectors load from this folder; the pip list is
# pyproject.toml's dependencies with its [redis] and [robots] extras, pinned. Written by tools/pins.py
# (tests check it agrees with pyproject.toml). The sandbox's web server ([sandbox] extra) is not here:
# the Sandbox dev task installs it for itself (tools/sandbox_task.py).
channels:
  - conda-forge

dependencies:
  - python=3.11
  - pip=24
  - pip:
"""


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _expand(requirements: list[str], project: dict, seen: set[str] | None = None) -> dict[str, Requirement]:
    """Requirements by canonical name; ``<this project>[extra]`` entries are replaced by that extra's."""
    seen = seen if seen is not None else set()
    own = canonicalize_name(project["name"])
    result: dict[str, Requirement] = {}
    for text in requirements:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == own:
            for extra in sorted(requirement.extras - seen):
                seen.add(extra)
                result.update(_expand(project["optional-dependencies"][extra], project, seen))
            continue
        result[canonicalize_name(requirement.name)] = requirement
    return result


def robot_requirements(project: dict | None = None) -> dict[str, Requirement]:
    project = project or pyproject()
    texts = list(project["dependencies"])
    for extra in ROBOT_EXTRAS:
        texts += project["optional-dependencies"][extra]
    return _expand(texts, project)


def sandbox_requirements(project: dict | None = None) -> dict[str, Requirement]:
    project = project or pyproject()
    return _expand(project["optional-dependencies"][SANDBOX_EXTRA], project)


def parse_pins(lines: list[str]) -> dict[str, tuple[str, str]]:
    """``name==version`` lines by canonical name: (the line, the pinned version or "" if not pinned)."""
    pins = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        versions = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        pins[canonicalize_name(requirement.name)] = (text, versions[0] if len(versions) == 1 else "")
    return pins


def conda_pins(text: str | None = None) -> dict[str, tuple[str, str]]:
    import yaml  # type: ignore[import-untyped]

    spec = yaml.safe_load(CONDA.read_text(encoding="utf-8") if text is None else text) or {}
    pip: list[str] = []
    for entry in spec.get("dependencies") or []:
        if isinstance(entry, dict) and "pip" in entry:
            pip = [str(item) for item in entry["pip"]]
    return parse_pins(pip)


def conda_python(text: str | None = None) -> str:
    match = re.search(r"^\s*-\s*python\s*=+\s*([\d.]+)", CONDA.read_text() if text is None else text, re.M)
    return match.group(1) if match else ""


def _check(pins: dict[str, tuple[str, str]], wanted: dict[str, Requirement], where: str) -> list[str]:
    problems = []
    for name, requirement in sorted(wanted.items()):
        if name not in pins:
            problems.append(f"{where}: {requirement} is in pyproject.toml but missing here")
            continue
        line, version = pins[name]
        if not version:
            problems.append(f"{where}: {line!r} is not pinned with ==")
        elif not requirement.specifier.contains(Version(version), prereleases=True):
            problems.append(f"{where}: {line!r} is outside pyproject.toml's {requirement}")
        if requirement.extras and not Requirement(line).extras >= requirement.extras:
            problems.append(f"{where}: {line!r} lacks the extras of pyproject.toml's {requirement}")
    return problems


def disagreements(conda_text: str | None = None, sandbox_text: str | None = None) -> list[str]:
    """Every way conda.yaml and tools/sandbox-requirements.txt disagree with pyproject.toml."""
    project = pyproject()
    robots, sandbox = robot_requirements(project), sandbox_requirements(project)
    pins = conda_pins(conda_text)
    problems = _check(pins, robots, "conda.yaml")
    problems += [
        f"conda.yaml: {pins[name][0]!r} is not in pyproject.toml's dependencies or {ROBOT_EXTRAS} extras"
        + (" (the sandbox's packages belong to the Sandbox dev task only)" if name in sandbox else "")
        for name in sorted(set(pins) - set(robots))
    ]
    python = conda_python(conda_text)
    if not python or not Requirement(f"python{project['requires-python']}").specifier.contains(python + ".0"):
        problems.append(f"conda.yaml: python={python} is outside requires-python {project['requires-python']}")
    text = SANDBOX.read_text(encoding="utf-8") if sandbox_text is None else sandbox_text
    sandbox_pins = parse_pins(text.splitlines())
    problems += _check(sandbox_pins, sandbox, SANDBOX.name)
    problems += [
        f"{SANDBOX.name}: {line!r} is not pinned with ==" for line, version in sandbox_pins.values() if not version
    ]
    return problems


def _installed(name: str) -> str:
    return metadata.version(name)


def _closure(requirements: dict[str, Requirement]) -> dict[str, Requirement]:
    """The requirements with everything they need, as installed in this interpreter."""
    environment = default_environment()
    result = dict(requirements)
    todo = list(requirements.values())
    while todo:
        requirement = todo.pop()
        for text in metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            markers = [dict(environment, extra=extra) for extra in requirement.extras or {""}]
            if dependency.marker and not any(dependency.marker.evaluate(m) for m in markers):
                continue
            name = canonicalize_name(dependency.name)
            if name not in result:
                result[name] = dependency
                todo.append(dependency)
    return result


def _pin(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}=={_installed(requirement.name)}"


def write() -> None:
    project = pyproject()
    robots = robot_requirements(project)
    lines = [f"      - {_pin(robots[name])}" for name in robots]
    CONDA.write_text(CONDA_HEAD + "\n".join(lines) + "\n", encoding="utf-8")
    direct = sandbox_requirements(project)
    closure = _closure(direct)
    SANDBOX.write_text(
        "# The Sandbox dev task's packages (pyproject's [sandbox] extra and what they need), pinned by tools/pins.py.\n"
        + "".join(f"{_pin(closure[name])}\n" for name in sorted(closure)),
        encoding="utf-8",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--requirements", action="store_true")
    args = parser.parse_args()
    if args.requirements:
        print("\n".join(line for line, _ in conda_pins().values()))
        return 0
    if not args.check:
        write()
    problems = disagreements()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
