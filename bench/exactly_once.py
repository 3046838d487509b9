"""Exactly once against a server that is not our sandbox, with the repeat journal and without it.

The Robaws-like server of tests/reliability (documented idempotency rules; drops connections before writing,
answers 503, loses answers after writing) takes N creates per seed, each repeated until it succeeds as
``Wait Until Keyword Succeeds`` repeats a failed step; the same as the tests, printed. The last row really
runs with the journal switched off (a repeat then gets a new idempotency key), the counter-factual the
journal exists for.

    python bench/exactly_once.py [--writes 200] [--seeds 11,12,13] [--without-journal-seed 11]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from _support import ROOT, print_table

sys.path.insert(0, str(ROOT / "tests" / "reliability"))

import test_exactly_once_independent as reliability
from independent_server import Faults, IndependentServer

from Connectors.core import repeats

RATES = {"before": 0.15, "server_error": 0.15, "lost": 0.15}


@contextmanager
def journal(on: bool) -> Iterator[None]:
    repeats.journal.clear()
    original = repeats.journal.pending
    if not on:
        repeats.journal.pending = lambda write: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        repeats.journal.pending = original  # type: ignore[method-assign]
        repeats.journal.clear()


def row(seed: int, writes: int, journal_on: bool) -> list[object]:
    reliability.COUNT = writes
    started = time.monotonic()
    with IndependentServer(Faults(**RATES, seed=seed)) as server, journal(journal_on):
        failures = reliability.create_all(reliability.client(server))
        counts = reliability.references(server)
    objects = sum(counts.values())
    duplicated = objects - len(counts)
    faults = server.faults.injected
    label = f"seed {seed}" + ("" if journal_on else ", journal off")
    print(f"  {label}: {objects} objects, {duplicated} duplicated, {time.monotonic() - started:.1f} s", flush=True)
    return [
        label,
        writes,
        f"{faults['before']} / {faults['5xx']} / {faults['lost']}",
        failures,
        server.store.replays,
        objects,
        writes - len(counts),
        duplicated,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--seeds", default="11,12,13")
    parser.add_argument("--without-journal-seed", type=int, default=11)
    args = parser.parse_args()
    print(
        f"{args.writes} creates per row, faults per request before=0.15 (dropped before writing), 5xx=0.15, "
        "lost=0.15 (written, answer dropped); each create repeated until it succeeds.",
        flush=True,
    )
    rows = [row(int(seed), args.writes, True) for seed in args.seeds.split(",")]
    rows.append(row(args.without_journal_seed, args.writes, False))
    print()
    headers = ["run", "writes", "faults before / 5xx / lost", "failed calls repeated", "replays", "objects"]
    print_table([*headers, "lost", "duplicated"], rows)


if __name__ == "__main__":
    main()
