"""Many workers, one budget: 1 to 16 processes on one credential, in each throttle store.

Starts the strict server of the tests (tests/support/strict_server.py: a token bucket we did not
write for the sandbox, 150/s burst 200 = Robaws' 15/s burst 20 x 10, a hard 429 when empty, Robaws'
daily headers on every answer) and runs worker processes that each send their part of N reads
through ``RobawsClient`` with ``CONNECTORS_THROTTLE_WORKERS`` set to the number of processes, with:
  memory   each worker alone, taking 1/N of the rate and burst;
  sqlite   one SQLite file shared by the workers;
  redis    one Redis shared by the workers;
  redis, stopped mid-run   Redis killed after a third of the run and started again after two
           thirds: the workers fall back to their share and come back to the shared bucket.
For each: seconds, efficiency = theoretical minimum ((N - burst) / rate) / measured seconds,
the 429s the server counted and the workers that failed.

Then, in the same run, the requests per business object of each sample robot, counted from the
sandbox's stats (bench/request_economy.py), the fan-out sample with 8 consumers included.

    python bench/scale.py [--requests 3000] [--workers 1,4,8,16] [--stores memory,sqlite,redis]
                          [--fanout-invoices 200] [--sections scale,economy]

A starved CPU (many more workers than cores, each booked slot possibly spent late) must still see 0 x 429:
    python bench/scale.py --workers 128 --stores redis --no-outage --sections scale --requests 1500

More sections are added to SECTIONS.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _support import print_table
from request_economy import economy_section
from support.redis_server import RedisServer
from support.strict_server import StrictServerProcess

RATE, BURST = 150, 200


@dataclass
class Outcome:
    seconds: float
    refused: int
    served: int
    failed: int
    errors: list[str]


def _worker(url: str, store: str, workers: int, count: int, barrier: Any, results: Any) -> None:
    os.environ["CONNECTORS_THROTTLE_WORKERS"] = str(workers)
    from Connectors import RobawsClient

    client = RobawsClient(url, username="bench", password="bench-password", rate_limit=f"{RATE}/s", burst=BURST)
    client.get("clients", 1001)  # connects, loads what the first request needs, opens the store
    error = ""
    barrier.wait()  # all warmed up: the server is reset
    barrier.wait()
    started = time.time()
    try:
        for _ in range(count):
            client.get("clients", 1001)
    except Exception as problem:  # a failed worker is what the bench counts
        error = f"{type(problem).__name__}: {problem}"[:200]
    results.put((started, time.time(), error))


def run(
    server: StrictServerProcess, store: str, workers: int, total: int, during: Callable[[], None] | None
) -> Outcome:
    os.environ["CONNECTORS_THROTTLE_STORE"] = store
    barrier = multiprocessing.Barrier(workers + 1)
    results: multiprocessing.Queue = multiprocessing.Queue()
    counts = [total // workers + (1 if index < total % workers else 0) for index in range(workers)]
    processes = [
        multiprocessing.Process(target=_worker, args=(server.url, store, workers, count, barrier, results))
        for count in counts
    ]
    for process in processes:
        process.start()
    barrier.wait()
    server.reset()
    barrier.wait()
    side = threading.Thread(target=during, daemon=True) if during else None
    if side:
        side.start()
    spans = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join(30)
    if side:
        side.join()
    stats = server.stats()
    errors = [error for _s, _e, error in spans if error]
    crashed = sum(1 for process in processes if process.exitcode != 0)
    seconds = max(end for _s, end, _e in spans) - min(start for start, _e, _x in spans)
    return Outcome(seconds, stats["refused"], stats["served"], len(errors) + crashed, errors)


def scale_section(args: argparse.Namespace) -> tuple[str, list[str], list[list[object]]]:
    total = args.requests
    theoretical = (total - BURST) / RATE
    rows: list[list[object]] = []
    stores = args.stores.split(",")
    counts = [int(n) for n in args.workers.split(",")]
    # The server also sends Robaws' X-RateLimit-Daily-* headers (a day of 1,000,000), as Robaws does on
    # every answer: following them is part of the cost measured.
    strict = StrictServerProcess(RATE, BURST, daily_limit=1_000_000)
    with tempfile.TemporaryDirectory() as tmp, strict as server, RedisServer() as redis:

        def measure(label: str, store: str, workers: int, during: Callable[[], None] | None = None) -> None:
            outcome = run(server, store, workers, total, during)
            efficiency: object = theoretical / outcome.seconds if outcome.served >= total else "n/a"
            load = os.getloadavg()[0]  # the machine is shared: a busy row shows it here
            rows.append([label, workers, outcome.seconds, efficiency, outcome.refused, outcome.failed, load])
            note = f"; first error: {outcome.errors[0]}" if outcome.errors else ""
            print(
                f"  {label:<28} {workers:>2} workers: {outcome.seconds:6.2f} s, {outcome.refused} x 429{note}",
                flush=True,
            )

        for name in stores:
            for workers in counts:
                if name == "memory":
                    measure("memory (1/N each)", "memory", workers)
                elif name == "sqlite":
                    path = os.path.join(tmp, f"bucket-{workers}.db")
                    measure("sqlite", f"sqlite:///{path}", workers)
                elif name == "redis" and redis.available:
                    redis.stop()
                    redis.start()  # a fresh, empty Redis per row
                    measure("redis", redis.url, workers)
        if "redis" in stores and redis.available and not args.no_outage:

            def outage() -> None:
                time.sleep(theoretical / 3)
                redis.stop()
                time.sleep(theoretical / 3)
                redis.start()

            for workers in [n for n in counts if n > 1][-1:]:
                redis.stop()
                redis.start()
                measure("redis, stopped mid-run", redis.url, workers, outage)
        if "redis" in stores and not redis.available:
            print("  (redis-server not installed: Redis rows skipped)")
    title = (
        f"{total} GET requests per row against a strict token bucket of {RATE}/s burst {BURST}; "
        f"theoretical minimum {theoretical:.2f} s; CONNECTORS_THROTTLE_WORKERS = workers."
    )
    return title, ["store", "workers", "seconds", "efficiency", "429s", "failed workers", "load avg"], rows


# Each section returns (title, column headers, rows); main() prints them one after another.
SECTIONS: dict[str, Callable[[argparse.Namespace], tuple[str, list[str], list[list[object]]]]] = {
    "scale": scale_section,
    "economy": economy_section,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", default="1,4,8,16")
    parser.add_argument("--stores", default="memory,sqlite,redis")
    parser.add_argument("--no-outage", action="store_true", help="skip the Redis outage row")
    parser.add_argument("--fanout-invoices", type=int, default=200, help="invoices of the fan-out sample")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="which sections to run")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    for name in args.sections.split(","):
        title, headers, rows = SECTIONS[name](args)
        print()
        print(title)
        print_table(headers, rows)
    notes = {
        "scale": "Efficiency = theoretical minimum seconds from the server's token bucket / measured seconds. "
        "429s are the server's refusals (each one retried by the client); failed workers raised or died.",
        "economy": "Requests per object = requests the sandbox served for the vendor while the robot ran / the "
        "business objects it handled; 429s are the vendor's refusals in that time.",
    }
    print()
    for name in args.sections.split(","):
        print(notes.get(name, ""))


if __name__ == "__main__":
    main()
