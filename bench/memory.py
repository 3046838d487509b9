"""Memory while paging: lazily iterating many pages costs what one page costs.

Fills the sandbox with N Robaws articles, then iterates them with `RobawsClient.list()` in pages of
`--page-size`, keeping nothing, and reports the peak of Python allocations (tracemalloc) for the first
page only and for all pages, side by side. A list-everything approach is shown for comparison.

    python bench/memory.py [--items 3000] [--page-size 10]
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable

from _support import print_table
from connectors_sandbox.server import SandboxProcess


def peak_kib(work: Callable[[], object]) -> tuple[float, object]:
    tracemalloc.start()
    result = work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--page-size", type=int, default=10)
    args = parser.parse_args()
    from Connectors import RobawsClient

    with SandboxProcess(demo=False, rate_scale=200) as sandbox:
        env = sandbox.environment()
        client = RobawsClient(
            url=sandbox.vendor_url("robaws"),
            username=env["ROBAWS_USERNAME"],
            password=env["ROBAWS_PASSWORD"],
            rate_limit="3000/s",
            burst=4000,
            daily_quota="none",
        )
        for index in range(args.items):
            client.create("articles", {"name": f"Article {index}", "description": "x" * 200})
        pages = -(-args.items // args.page_size)

        def count(limit: int | None) -> Callable[[], int]:
            return lambda: sum(1 for _ in client.list("articles", limit=limit, page_size=args.page_size))

        rows = []
        for label, work in (
            ("lazy iteration, first page only", count(args.page_size)),
            ("lazy iteration, 10 pages", count(10 * args.page_size)),
            ("lazy iteration, 150 pages", count(150 * args.page_size)),
            (f"lazy iteration, all {pages} pages", count(None)),
            (f"list(...) of all {pages} pages", lambda: len(list(client.list("articles", page_size=args.page_size)))),
        ):
            peak, seen = peak_kib(work)
            rows.append([label, seen, peak])
    print_table(["how", "items", "peak KiB"], rows)
    print("\nLazy iteration holds one page at a time. Its peak levels off once urllib's bounded cache of the")
    print("last 128 parsed URLs is full (each page has its own URL); holding every item grows without bound.")


if __name__ == "__main__":
    main()
