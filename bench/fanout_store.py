"""The fan-out sample with and without its shared budget: the counter-factual of the shared store, really run.

The fan-out runs as a Control Room process of the sandbox (tests/support/fanout.py: the producer, then
``--consumers`` parallel consumer executions of the unmodified robots, as in tests/integration/test_fanout.py),
with the sandbox's Robaws at half its real limits (7.5/s, burst 10) so that the budget, not the machine,
limits the consumers. Rows:
  shared   a Redis store and CONNECTORS_THROTTLE_WORKERS (the design);
  share    no store, CONNECTORS_THROTTLE_WORKERS set: each consumer paces itself at its 1/N share;
  alone    no store and no worker count: each consumer believes it has the whole budget.
For each: invoices booked (each once?), the 429s Robaws answered, the work items failed, the seconds.

    python bench/fanout_store.py [--invoices 40] [--consumers 8] [--rows shared,share,alone]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from _support import print_table
from support import fanout
from support.redis_server import RedisServer

RATE_SCALE = 0.5


def row(kind: str, invoices: int, consumers: int, folder: Path) -> list[object]:
    from Connectors import ControlRoomClient, RobawsClient
    from connectors_sandbox.server import SandboxProcess

    with SandboxProcess(demo=True) as sandbox, RedisServer() as redis:
        sandbox.configure(rate_scale=RATE_SCALE)
        for name, value in sandbox.environment().items():
            os.environ[name] = value
        store = redis.url if kind == "shared" else None
        if store and not redis.available:
            raise SystemExit("fanout_store: redis-server is not installed; the shared row needs it.")
        fanout.register_process(sandbox, folder, store, consumers, RATE_SCALE, tell_workers=kind != "alone")
        prefix = f"{kind.upper()}"
        rows = fanout.invoice_rows(invoices, prefix)
        started = time.monotonic()
        run = fanout.run_fan_out(ControlRoomClient(rate_scale=RATE_SCALE), fanout.write_csv(folder / "in.csv", rows))
        seconds = time.monotonic() - started
        controlroom = ControlRoomClient(rate_scale=RATE_SCALE)
        states = Counter(item["state"] for item in controlroom.list_work_items(run_id=run["id"], limit=None))
        with RobawsClient(rate_scale=RATE_SCALE) as robaws:
            numbers = Counter(
                str(i.get("number")) for i in robaws.list("purchase-invoices", limit=None)
                if str(i.get("number", "")).startswith(prefix + "-")
            )  # fmt: skip
        limited = sandbox.stats()["robaws"]["rate_limited"]
    booked, twice = len(numbers), sum(n - 1 for n in numbers.values())
    print(f"  {kind}: {booked} booked, {limited} x 429, {states.get('failed', 0)} items failed", flush=True)
    label = {"shared": "Redis store + worker count", "share": "no store, worker count", "alone": "no store, no count"}
    return [label[kind], consumers, invoices, booked, twice, limited, states.get("failed", 0), run["state"], seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument("--consumers", type=int, default=8)
    parser.add_argument("--rows", default="shared,share,alone")
    args = parser.parse_args()
    for name in ("CONNECTORS_THROTTLE_STORE", "CONNECTORS_THROTTLE_WORKERS"):
        os.environ.pop(name, None)  # the rows without them really run without them (the sandbox's children too)
    print(f"{args.invoices} invoices, {args.consumers} consumers, Robaws at 7.5/s burst 10.", flush=True)
    table = []
    for kind in args.rows.split(","):
        with tempfile.TemporaryDirectory() as folder:
            table.append(row(kind, args.invoices, args.consumers, Path(folder)))
    print()
    headers = ["budget", "consumers", "invoices", "booked", "booked twice", "429s", "items failed", "run", "seconds"]
    print_table(headers, table)


if __name__ == "__main__":
    main()
