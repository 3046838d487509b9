"""Per-request overhead of the connectors versus raw `requests`, measured side by side in one run.

Both send the same authenticated GET to the sandbox (limits scaled out of the way, so no waiting is
measured); rounds alternate between the two so machine noise hits both alike.

    python bench/overhead.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from _support import print_table
from connectors_sandbox.server import SandboxProcess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from Connectors import RobawsClient

    with SandboxProcess(demo=True, rate_scale=1000) as sandbox:
        env = sandbox.environment()
        url = sandbox.vendor_url("robaws")
        session = requests.Session()
        session.auth = (env["ROBAWS_USERNAME"], env["ROBAWS_PASSWORD"])
        raw_url = f"{url}/api/v2/clients/1001"
        client = RobawsClient(
            url=url, username=env["ROBAWS_USERNAME"], password=env["ROBAWS_PASSWORD"], rate_limit="15000/s", burst=20000
        )
        per_request: dict[str, list[float]] = {"raw requests.Session": [], "RobawsClient.get": []}
        session.get(raw_url).raise_for_status()
        client.get("clients", 1001)
        for _ in range(args.rounds):
            sandbox.reset()
            started = time.perf_counter()
            for _ in range(args.requests):
                session.get(raw_url).raise_for_status()
            per_request["raw requests.Session"].append((time.perf_counter() - started) / args.requests)
            sandbox.reset()
            started = time.perf_counter()
            for _ in range(args.requests):
                client.get("clients", 1001)
            per_request["RobawsClient.get"].append((time.perf_counter() - started) / args.requests)
        raw = statistics.median(per_request["raw requests.Session"])
        rows = [
            [
                name,
                args.requests * args.rounds,
                statistics.median(values) * 1e6,
                (statistics.median(values) - raw) * 1e6,
                statistics.median(values) / raw,
            ]
            for name, values in per_request.items()
        ]
    print_table(["client", "requests", "median µs/request", "overhead µs", "ratio vs raw"], rows)


if __name__ == "__main__":
    main()
