"""How many status calls `Wait For Process Run` makes, and how late it returns after the run finished.

A sandbox run takes ``--seconds`` of sandbox time; the sandbox clock runs ``--time-scale`` times faster
than the wall clock and the client's poll settings are divided by the same factor, so the numbers are
those of a real 60 s run (2 s first poll, x1.5 back-off, 10 s cap) measured in a few seconds.

    python bench/controlroom_wait.py [--seconds 10,60,300] [--time-scale 20]

Prints, per run length: status calls made by the keyword's client, the return delay (from the moment
the run ended to the moment waiting returned, in sandbox seconds), and what fixed 1 s polling - the
usual hand-written loop around RPA.Robocorp.Process - would have cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from Connectors.vendors.controlroom.client import ControlRoomClient
from connectors_sandbox.server import SandboxProcess


def _instant(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def measure(client: ControlRoomClient, sandbox: SandboxProcess, seconds: float, scale: float) -> dict[str, float]:
    before_trigger = time.monotonic()
    run = client.trigger_run("Invoice Processing", {"sandbox": {"seconds": seconds}})
    after_trigger = time.monotonic()
    calls_before = sandbox.stats()["controlroom"]["requests"]
    finished = client.wait_for_run(
        run["id"], timeout=10 * seconds, poll_interval=2 / scale, max_interval=10 / scale, backoff=1.5
    )
    returned = time.monotonic()
    server_calls = sandbox.stats()["controlroom"]["requests"] - calls_before
    # The run ended (ended_at - created_at) sandbox seconds after its creation (during the trigger call).
    sandbox_span = _instant(finished["ended_at"]) - _instant(finished["created_at"])
    created = (before_trigger + after_trigger) / 2
    ended = created + sandbox_span / scale
    return {
        "seconds": seconds,
        "status_calls": client.last_wait["status_calls"],
        "server_calls": server_calls,
        "delay": (returned - ended) * scale,
        "fixed_1s_calls": sandbox_span + 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", default="10,60,300", help="run lengths in sandbox seconds")
    parser.add_argument("--time-scale", type=float, default=20.0)
    args = parser.parse_args()
    lengths = [float(v) for v in args.seconds.split(",") if v.strip()]
    os.environ.setdefault("CONNECTORS_SANDBOX_VENDORS", "controlroom")
    with SandboxProcess(demo=True) as sandbox:
        sandbox.configure(time_scale=args.time_scale)
        os.environ.update(sandbox.environment())
        client = ControlRoomClient()
        print(f"Wait For Process Run: poll 2 s, x1.5 back-off, 10 s cap (sandbox time x{args.time_scale:g})")
        print(
            f"{'run length':>10} | {'status calls':>12} | {'HTTP calls':>10} | {'return delay':>12} | "
            f"{'fixed 1 s polling':>17}"
        )
        results = [measure(client, sandbox, seconds, args.time_scale) for seconds in lengths]
        for r in results:
            print(
                f"{r['seconds']:>9.0f}s | {r['status_calls']:>12.0f} | {r['server_calls']:>10.0f} | "
                f"{r['delay']:>11.1f}s | {r['fixed_1s_calls']:>13.0f} calls"
            )
    sixty = [r for r in results if r["seconds"] == 60]
    if sixty and sixty[0]["status_calls"] > 15:
        print("FAIL: more than 15 status calls for a 60 s run")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
