"""Throughput against the Robaws rate limit, measured side by side in one run.

Starts a sandbox with --rate-scale (Robaws's 15/s burst 20 becomes e.g. 150/s burst 200), then sends
N reads through:
  1. RobawsClient, one process;
  2. RobawsClient, four processes sharing one SQLite token bucket;
  3. RobawsClient, four processes sharing one Redis token bucket;
  4. a plain requests.Session loop (what hand-written code does);
  5. RequestsLibrary's GET On Session (what .robot files do today).
For each: requests, seconds, the theoretical minimum from the server's bucket ((N - burst) / rate),
efficiency = theoretical / actual, and the 429s the sandbox counted.

    python bench/throughput.py [--requests 3000] [--rate-scale 10]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from typing import Any

from _support import print_table
from connectors_sandbox.server import SandboxProcess
from support.redis_server import RedisServer

VENDOR_RATE, VENDOR_BURST = 15, 20


def _client(url: str, env: dict[str, str], rate: str, burst: int, store: str | None) -> Any:
    from Connectors import RobawsClient

    return RobawsClient(
        url=url,
        username=env["ROBAWS_USERNAME"],
        password=env["ROBAWS_PASSWORD"],
        rate_limit=rate,
        burst=burst,
        throttle_store=store or "memory",
    )


def _worker(
    url: str, env: dict[str, str], rate: str, burst: int, store: str | None, count: int, barrier: Any, results: Any
) -> None:
    client = _client(url, env, rate, burst, store)
    client.get("clients", 1001)  # warm the connection before the clock starts
    barrier.wait()
    started = time.monotonic()
    answered = 0
    for _ in range(count):
        try:
            client.get("clients", 1001)  # returns only on a 2xx answer
        except Exception:  # a request that failed for good is counted as not answered, not fatal to the bench
            continue
        answered += 1
    results.put((started, time.monotonic(), answered))


def run_clients(
    sandbox: SandboxProcess, env: dict[str, str], rate: str, burst: int, total: int, processes: int, store: str | None
) -> tuple[float, int]:
    """(seconds, requests answered 2xx, counted by the workers)."""
    sandbox.reset()
    barrier = multiprocessing.Barrier(processes)
    results: multiprocessing.Queue = multiprocessing.Queue()
    each = total // processes
    workers = [
        multiprocessing.Process(
            target=_worker, args=(sandbox.vendor_url("robaws"), env, rate, burst, store, each, barrier, results)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    spans = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return max(end for _, end, _ in spans) - min(start for start, _, _ in spans), sum(done for _, _, done in spans)


def run_plain_requests(sandbox: SandboxProcess, env: dict[str, str], total: int) -> tuple[float, int]:
    import requests

    sandbox.reset()
    session = requests.Session()
    session.auth = (env["ROBAWS_USERNAME"], env["ROBAWS_PASSWORD"])
    url = sandbox.vendor_url("robaws") + "/api/v2/clients/1001"
    started = time.monotonic()
    ok = sum(200 <= session.get(url, timeout=30).status_code < 300 for _ in range(total))
    return time.monotonic() - started, ok


def run_requests_library(sandbox: SandboxProcess, env: dict[str, str], total: int) -> tuple[float, int]:
    from RequestsLibrary import RequestsLibrary

    sandbox.reset()
    library = RequestsLibrary()
    library.create_session(
        "robaws", sandbox.vendor_url("robaws"), auth=(env["ROBAWS_USERNAME"], env["ROBAWS_PASSWORD"])
    )
    started = time.monotonic()
    ok = 0
    for _ in range(total):
        response = library.get_on_session("robaws", "/api/v2/clients/1001", expected_status="any")
        ok += 200 <= response.status_code < 300
    return time.monotonic() - started, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rate-scale", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    rate, burst = VENDOR_RATE * args.rate_scale, int(VENDOR_BURST * args.rate_scale)
    total = args.requests
    theoretical = max(0.0, (total - burst) / rate)
    rate_text = f"{rate:g}/s"
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(demo=True, rate_scale=args.rate_scale) as sandbox:
        env = sandbox.environment()

        def measured(label: str, outcome: tuple[float, int]) -> None:
            seconds, answered = outcome  # answered: 2xx answers the client itself counted
            limited = sandbox.stats()["robaws"]["rate_limited"]
            # Efficiency only means something when every request was served; a peer that is
            # refused finishes "fast" by not doing the work.
            efficiency: object = theoretical / seconds if answered >= total else "n/a"
            rows.append([label, total, answered, seconds, theoretical, efficiency, limited])
            print(f"  done: {label}", flush=True)

        print(
            f"Robaws limit {VENDOR_RATE}/s burst {VENDOR_BURST} x rate-scale {args.rate_scale:g} = "
            f"{rate_text} burst {burst}; {total} GET requests per row.",
            flush=True,
        )
        measured("RobawsClient, 1 process", run_clients(sandbox, env, rate_text, burst, total, 1, None))
        sqlite_url = f"sqlite:///{os.path.join(tmp, 'bucket.db')}"
        measured(
            f"RobawsClient, {args.processes} processes, SQLite store",
            run_clients(sandbox, env, rate_text, burst, total, args.processes, sqlite_url),
        )
        with RedisServer() as redis:
            if redis.available:
                measured(
                    f"RobawsClient, {args.processes} processes, Redis store",
                    run_clients(sandbox, env, rate_text, burst, total, args.processes, redis.url),
                )
            else:
                print("  (redis-server not installed: Redis row skipped)")
        measured("plain requests.Session loop", run_plain_requests(sandbox, env, total))
        try:
            measured("RequestsLibrary GET On Session", run_requests_library(sandbox, env, total))
        except ImportError:
            print("  (robotframework-requests not installed: RequestsLibrary row skipped)")
    print()
    print_table(["client", "requests", "answered 2xx", "seconds", "theoretical s", "efficiency", "429s"], rows)
    print(
        "\nEfficiency = theoretical minimum seconds from the server's token bucket / measured seconds. "
        "The peers finish sooner only by being refused: every 429 counts toward Robaws blocking the "
        "integration."
    )


if __name__ == "__main__":
    main()
