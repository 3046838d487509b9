"""Many workers with and without ``CONNECTORS_THROTTLE_WORKERS``, no shared store: the counter-factual of the
worker count, really run that way.

Worker processes share one credential against the strict token-bucket server of the tests (150/s, burst 200;
tests/support/strict_server.py), each with its own in-memory bucket (``CONNECTORS_THROTTLE_STORE=memory``).
Without the worker count each believes it is alone and spends the whole rate and burst; with it each takes its
1/N share. The workers are the throttle tests' own (tests/integration/test_throttle_workers.py).

    python bench/worker_count.py [--requests 3000] [--workers 4,8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _support import ROOT, print_table

sys.path.insert(0, str(ROOT / "tests" / "integration"))

from test_throttle_workers import BURST, RATE, run_workers

from support.strict_server import StrictServerProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", default="4,8")
    args = parser.parse_args()
    os.environ.pop("CONNECTORS_THROTTLE_WORKERS", None)  # the rows without it really run without it
    rows: list[list[object]] = []
    print(f"{args.requests} GET requests per row, strict server {RATE}/s burst {BURST}, memory store.", flush=True)
    with StrictServerProcess(RATE, BURST) as server:
        for workers in (int(n) for n in args.workers.split(",")):
            for told in (False, True):
                environment = {"CONNECTORS_THROTTLE_STORE": "memory"}
                if told:
                    environment["CONNECTORS_THROTTLE_WORKERS"] = str(workers)
                started = time.monotonic()
                outcomes = run_workers(server, workers, args.requests // workers, environment)
                seconds = time.monotonic() - started
                stats = server.stats()
                failed = sum(1 for _done, error, _messages in outcomes if error)
                label = "CONNECTORS_THROTTLE_WORKERS=" + (str(workers) if told else "(unset)")
                rows.append([label, workers, stats["served"], stats["refused"], failed, seconds])
                print(f"  {label}, {workers} workers: {stats['refused']} x 429", flush=True)
    print()
    print_table(["worker count", "workers", "served", "429s", "failed workers", "seconds (with start-up)"], rows)


if __name__ == "__main__":
    main()
