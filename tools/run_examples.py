"""Runs every Robot Framework and Python example of the documentation site (docs/*.md) and the README against
a sandbox, and counts them.

    python tools/run_examples.py [--output output/examples] [PAGE.md ...]

A fenced block is an example when its language is ``robotframework`` or ``python``. A Robot Framework block
with a ``*** Section ***`` is a suite as it stands; any other is a fragment of keyword calls, run as the body
of one task with the four libraries imported. Variables a fragment uses without defining them (``${rows}``,
``${invoice}`` …) come from tools/examples_prelude.py, made from the sandbox's demo data; Python blocks start
with ``from examples_prelude import *``. The sandbox is the installed ``connectors sandbox --demo``, and the
examples read the ``devdata/env.json`` and ``devdata/vault.json`` its ``--env-file``/``--vault-file`` write,
as a user's robot would. Prints one line per failure and the count:

    examples: 20 run (14 Robot Framework, 6 Python) from 8 pages; 20 passed, 0 failed
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[A-Za-z0-9_+-]*)(?P<attrs>[^\n`]*)$")
LANGUAGES = {"robotframework": "robot", "python": "python"}
LIBRARIES = ("Robaws", "Cobot", "ControlRoom", "Robostack")
SCRUBBED = ("ROBAWS_", "COBOT_", "CONTROLROOM_", "ROBOSTACK_", "CONNECTORS_", "RPA_", "RC_")


@dataclass
class Example:
    page: str
    line: int
    language: str  # robot | python
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "_", self.name)


def site_pages() -> list[Path]:
    return [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def extract(path: Path) -> list[Example]:
    """The page's examples, in order (fences nested in list items are dedented)."""
    examples: list[Example] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match or not match.group("lang"):
            index += 1
            continue
        indent, start, body = match.group("indent"), index + 1, []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
            index += 1
        index += 1
        language = LANGUAGES.get(match.group("lang").lower())
        if language:
            name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            examples.append(Example(name, start, language, "\n".join(body) + "\n"))
    return examples


def robot_suite(example: Example) -> str:
    if re.search(r"(?m)^\*\*\*", example.code):
        return example.code
    body = textwrap.indent(example.code.rstrip("\n"), "    ")
    imports = "\n".join(f"Library    Connectors.{name}" for name in LIBRARIES)
    return f"*** Settings ***\n{imports}\nLibrary    Collections\n\n*** Tasks ***\nExample\n{body}\n"


def _start_sandbox(folder: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    sys.path.insert(0, str(ROOT / "src"))
    from connectors_sandbox.server import free_port

    port = free_port()
    log = (folder / "sandbox.log").open("wb")
    command = [sys.executable, "-m", "Connectors", "sandbox", "--demo", "--port", str(port), "--run-seconds", "2"]
    command += ["--env-file", "devdata/env.json", "--vault-file", "devdata/vault.json"]
    process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    env_file = folder / "devdata" / "env.json"
    while not env_file.is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"The sandbox did not start: {(folder / 'sandbox.log').read_text(errors='replace')}")
        time.sleep(0.1)
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/stats", timeout=5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env.update(json.loads(env_file.read_text(encoding="utf-8")))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tools"), str(ROOT / "src")])
    return process, env


def run(examples: list[Example], output: Path) -> list[tuple[Example, str]]:
    """Run them all; the failures with their first lines of error."""
    shutil.rmtree(output, ignore_errors=True)
    (output / "devdata").mkdir(parents=True)
    sandbox, env = _start_sandbox(output)
    failures: list[tuple[Example, str]] = []
    try:
        # Each example in a process of its own, as a reader would run it: one example's Connect To … must not
        # carry over into the next (the libraries keep one connection per process).
        for example in (e for e in examples if e.language == "robot"):
            suite = output / f"{example.slug}.robot"
            suite.write_text(robot_suite(example), encoding="utf-8")
            xml = output / f"{example.slug}.xml"
            command = [sys.executable, "-m", "robot", "--rpa", "--output", str(xml), "--log", "NONE"]
            command += ["--report", "NONE", "--variablefile", str(ROOT / "tools" / "examples_prelude.py")]
            subprocess.run([*command, str(suite)], cwd=output, env=env, capture_output=True, check=False, timeout=300)
            message = _robot_failure(xml)
            if message is not None:
                failures.append((example, message))
        for example in (e for e in examples if e.language == "python"):
            script = output / f"{example.slug}.py"
            script.write_text("from examples_prelude import *  # noqa: F403\n" + example.code, encoding="utf-8")
            result = subprocess.run(
                [sys.executable, str(script)], cwd=output, env=env, capture_output=True, text=True, timeout=300
            )
            if result.returncode != 0:
                failures.append((example, (result.stderr.strip().splitlines() or ["exit code"])[-1]))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    return failures


def _robot_failure(output_xml: Path) -> str | None:
    """The first line of the example's failure, or ``None`` when it passed."""
    from robot.api import ExecutionResult

    if not output_xml.is_file():
        return "Robot Framework wrote no output.xml (a syntax error?)"
    suite = ExecutionResult(str(output_xml)).suite
    if suite.status == "PASS" and suite.tests:
        return None
    failed = [test for test in suite.all_tests if not test.passed]
    message = failed[0].message if failed else suite.message or "no task ran"
    return (message.splitlines() or [suite.status])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "output" / "examples")
    parser.add_argument("pages", nargs="*", type=Path)
    args = parser.parse_args(argv)
    pages = [p.resolve() for p in args.pages] or site_pages()
    examples = [example for page in pages for example in extract(page)]
    failures = run(examples, args.output.resolve())
    for example, message in failures:
        print(f"FAIL {example.name} ({example.language}): {message}")
    robots = sum(1 for e in examples if e.language == "robot")
    print(
        f"examples: {len(examples)} run ({robots} Robot Framework, {len(examples) - robots} Python) from "
        f"{len({e.page for e in examples})} pages; {len(examples) - len(failures)} passed, {len(failures)} failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
