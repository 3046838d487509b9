"""Listing Cobot memberships repeatedly under the endpoint's own limit (6 per minute).

Starts a sandbox with --rate-scale (6/min becomes e.g. 120/min at scale 20) and lists the demo
space's memberships N times through CobotClient with the same scale (COBOT_RATE_SCALE). Prints the
calls, the 429s the sandbox counted (target 0), the seconds taken, the theoretical minimum for calls
spaced exactly at the limit ((N - 1) / rate) and the efficiency = theoretical / actual (target >= 0.95).

    python bench/cobot_memberships.py [--calls 60] [--rate-scale 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _support import print_table
from connectors_sandbox.server import SandboxProcess

MEMBERSHIPS_PER_MINUTE = 6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--rate-scale", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("CONNECTORS_SANDBOX_VENDORS", "cobot")
    with SandboxProcess(demo=True, rate_scale=args.rate_scale) as sandbox:
        env = sandbox.environment()
        from Connectors import CobotClient

        client = CobotClient(
            env["COBOT_URL"],
            access_token=env["COBOT_ACCESS_TOKEN"],
            space=env["COBOT_SPACE"],
            rate_scale=args.rate_scale,
            throttle_store="memory",
        )
        sandbox.reset()
        started = time.monotonic()
        for _ in range(args.calls):
            client.list_memberships()
        elapsed = time.monotonic() - started
        stats = sandbox.stats()["cobot"]
    per_second = MEMBERSHIPS_PER_MINUTE * args.rate_scale / 60
    theoretical = (args.calls - 1) / per_second
    efficiency = theoretical / elapsed if elapsed else 0.0
    print(
        f"GET /api/memberships, limit {MEMBERSHIPS_PER_MINUTE}/min x {args.rate_scale:g} = "
        f"{MEMBERSHIPS_PER_MINUTE * args.rate_scale:g}/min"
    )
    print_table(
        ["client", "calls", "server requests", "429s", "retries", "seconds", "theoretical s", "efficiency"],
        [
            [
                "CobotClient",
                args.calls,
                stats["requests"],
                stats["rate_limited"],
                client.rate_limit_status()["retries"],
                elapsed,
                theoretical,
                efficiency,
            ]
        ],
    )
    ok = stats["rate_limited"] == 0 and efficiency >= 0.95
    print("target (0 429s, efficiency >= 0.95): " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
