"""`make run`: every task of robot.yaml run as rcc runs it (tests/robots/run_tasks.py: the robots' environment
from conda.yaml, the Sandbox dev task first, devdata/ and nothing else), then one output/log.html and
output/report.html with a suite per task, named as in robot.yaml.

    python tools/run_all.py [--port N] [TASK ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "robots"))
sys.path.insert(0, str(ROOT / "tools"))

from outputs import python_task_output  # noqa: E402
from run_tasks import report, run  # noqa: E402


def merge(results: list, output: Path) -> None:
    """One log and report over every task: Robot Framework tasks' own output.xml, and for any other task
    (the Python one) a stand-in with its status, summary line and a link to its own log."""
    outputs, metadata = [], []
    for task in results:
        folder = Path(task.artifacts)
        xml = folder / "output.xml"
        if not xml.is_file():
            own_log = next((p for p in sorted(folder.glob("*.html"))), folder / "console.txt")
            xml = python_task_output(
                task.name,
                task.returncode == 0,
                task.summary,
                str(own_log.relative_to(output)),
                folder / "task.xml",
                task.seconds,
            )
        outputs.append(str(xml))
        # Every robot's summary line at the top of the merged log and report.
        metadata += ["--metadata", f"{task.name}:{task.summary or task.status}"]
    command = [sys.executable, "-m", "robot.rebot", "--name", "Sample robots", "--outputdir", str(output), *metadata]
    command += ["--output", "output.xml", "--log", "log.html", "--report", "report.html", *outputs]
    subprocess.run(command, cwd=ROOT, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=None, help="default: devdata's (8700), or a free one if taken")
    parser.add_argument("tasks", nargs="*")
    args = parser.parse_args()
    output = ROOT / "output"

    def merged(results: list) -> list[Path]:
        """The merged log, report and output.xml, searched for secrets with each task's own files."""
        if not results:
            return []
        merge(results, output)
        return [output / name for name in ("output.xml", "log.html", "report.html")]

    result = run(args.tasks, output / "robots", args.port, say=lambda line: print(line, flush=True), made_from=merged)
    report(result)
    print(f"\nResults: {output / 'log.html'} and {output / 'report.html'}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
