"""Every figure docs/figures.md publishes, re-measured: runs the command printed beside each figure (the cheap
ones; ``--all`` adds those that take many minutes or the robots' environment) and prints its table under the
page's heading, so a published table can be set beside what this machine prints today.

    python bench/figures.py [--all] [--list] [NAME ...]     (make figures)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _support import ROOT

# (name, heading in docs/figures.md, command, cheap, environment). The command is the one the page prints beside
# the figure; the figures that take many minutes (or the robots' environment) run with --all.
Figure = tuple[str, str, list[str], bool, dict[str, str]]
KILL_LOOP = {
    "RECEIVER_KILL_EVENTS": "2000",
    "RECEIVER_KILL_EVENTS_PROCESS": "500",
    "RECEIVER_FAULT_EVENTS": "150",
    "RECEIVER_KILLS": "40",
}
PYTEST = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "no:timeout"]
FIGURES: list[Figure] = [
    ("throughput", "Throughput against the Robaws limit", ["bench/throughput.py", "--requests", "3000"], True, {}),
    ("overhead", "Overhead per request", ["bench/overhead.py"], True, {}),
    ("memory", "Memory while paging", ["bench/memory.py"], True, {}),
    ("controlroom-wait", "Waiting for a Control Room run", ["bench/controlroom_wait.py"], True, {}),
    (
        "cobot-memberships",
        "Cobot memberships under 6/min",
        ["bench/cobot_memberships.py", "--calls", "60", "--rate-scale", "20"],
        True,
        {},
    ),
    ("fault-matrices", "Exactly once under faults", ["bench/fault_matrices.py"], True, {}),
    ("exactly-once", "Against an independent server", ["bench/exactly_once.py"], True, {}),
    ("worker-count", "Without the worker count", ["bench/worker_count.py", "--workers", "4"], True, {}),
    ("fanout-store", "Fan-out without the shared store", ["bench/fanout_store.py", "--invoices", "40"], False, {}),
    ("scale", "Many workers, one budget", ["bench/scale.py", "--sections", "scale"], False, {}),
    ("economy", "Requests per business object", ["bench/scale.py", "--sections", "economy"], False, {}),
    (
        "receiver-kill-loops",
        "Webhook receiver: kill loops",
        [*PYTEST, "tests/integration/test_webhook_receiver_killloop.py"],
        False,
        KILL_LOOP,
    ),
    (
        "receiver-memory",
        "Webhook receiver: memory under huge bodies",
        [*PYTEST, "tests/integration/test_webhook_receiver_hardening.py", "-k", "memory"],
        False,
        {},
    ),
]


def shown(figure: Figure) -> str:
    _name, _heading, command, _cheap, environment = figure
    return " ".join([*(f"{k}={v}" for k, v in environment.items()), "python", *command])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only these figures (see --list)")
    parser.add_argument("--all", action="store_true", help="also the figures that take many minutes")
    parser.add_argument("--list", action="store_true", help="each figure's name and command")
    args = parser.parse_args()
    known = {figure[0] for figure in FIGURES}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        print(f"figures: unknown {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        return 2
    if args.list:
        for figure in FIGURES:
            print(f"{figure[0]:<20} {shown(figure)}{'' if figure[3] else '   (--all)'}")
        return 0
    if args.names:
        chosen = [figure for figure in FIGURES if figure[0] in args.names]
    else:
        chosen = [figure for figure in FIGURES if figure[3] or args.all]
    failed = []
    for figure in chosen:
        name, heading, command, _cheap, environment = figure
        print(f"\n## {heading}\n\n$ {shown(figure)}    (load average {os.getloadavg()[0]:.2f})", flush=True)
        started = time.monotonic()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **environment}
        code = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, check=False).returncode
        # The machine's load says how far its timings can be trusted (the counts do not depend on it).
        load = os.getloadavg()[0]
        outcome = "" if code == 0 else f", exit code {code}"
        print(f"({name}: {time.monotonic() - started:.0f} s, load average {load:.2f} after it{outcome})", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nFigures that failed to print: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
