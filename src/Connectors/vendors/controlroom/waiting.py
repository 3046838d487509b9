"""Waiting for runs: back-off polling, one shared deadline, and failures that name the step and its error."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from Connectors.core import arguments, progress
from Connectors.core.errors import ConfigurationError, ConnectorError
from Connectors.vendors.controlroom.enums import FINISHED
from Connectors.vendors.controlroom.errors import ProcessRunFailed, ProcessRunTimeout

if TYPE_CHECKING:
    from Connectors.vendors.controlroom.client import ControlRoomClient


class WaitOptions(TypedDict, total=False):
    """How ``ControlRoomClient.wait_for_run`` polls: the arguments of ``wait_for_runs`` after the ids."""

    timeout: float
    poll_interval: float
    max_interval: float
    backoff: float
    process: str | None
    fail_on_unresolved: bool


def wait_for_runs(
    client: ControlRoomClient,
    run_ids: Sequence[str],
    timeout: float,
    poll_interval: float,
    max_interval: float,
    backoff: float,
    process: str | None,
    fail_on_unresolved: bool,
) -> list[dict[str, Any]]:
    """Poll every unfinished run, sleeping ``poll_interval * backoff**n`` (capped); the runs in the order given."""
    timeout = arguments.number(timeout, "timeout", minimum=0)
    poll_interval = arguments.number(poll_interval, "poll_interval")
    max_interval = arguments.number(max_interval, "max_interval")
    backoff = arguments.number(backoff, "backoff")
    if poll_interval <= 0 or backoff < 1 or max_interval < poll_interval:
        raise ConfigurationError(
            "Invalid polling settings.", hint="Use poll_interval > 0, backoff >= 1 and max_interval >= poll_interval."
        )
    ids = arguments.texts(run_ids, "run_ids")
    fail_on_unresolved = arguments.flag(fail_on_unresolved, "fail_on_unresolved")
    started = time.monotonic()
    deadline = started + float(timeout)
    interval = float(poll_interval)
    runs: dict[str, dict[str, Any]] = {}
    calls = 0
    report = progress.Progress()
    while True:
        for run_id in ids:
            if run_id in runs and runs[run_id]["state"] in FINISHED:
                continue
            runs[run_id] = client.get_run(run_id, process)
            calls += 1
        pending = [r for r in ids if runs[r]["state"] not in FINISHED]
        now = time.monotonic()
        client.last_wait = {"status_calls": calls, "seconds": now - started, "runs": len(ids)}
        if not pending:
            break
        if now >= deadline:
            run = runs[pending[0]]
            raise ProcessRunTimeout(
                f"Process run {run['id']} of {run_label(client, run)} is still {run['state']} after "
                f"{timeout:g} s{step_summary(client, run, process)}; see {client.run_link(run['id'])}"
                + (f" ({len(pending)} of {len(ids)} runs unfinished)." if len(ids) > 1 else "."),
                run,
                vendor=client.vendor,
            )
        sleep = min(interval, max(0.0, deadline - now))
        report.update(functools.partial(wait_line, runs, len(ids), len(pending), sleep))
        time.sleep(sleep)
        interval = min(interval * backoff, float(max_interval))
    finished = [runs[r] for r in ids]
    if fail_on_unresolved:
        for run in finished:
            if run["state"] == "unresolved":
                raise ProcessRunFailed(
                    f"Process run {run['id']} of {run_label(client, run)} ended unresolved"
                    f"{step_summary(client, run, process)}; see {client.run_link(run['id'])}.",
                    run,
                    vendor=client.vendor,
                )
    return finished


def wait_line(runs: Mapping[str, Mapping[str, Any]], total: int, pending: int, sleep: float, elapsed: float) -> str:
    failed = sum(1 for run in runs.values() if run["state"] == "unresolved")
    done = total - pending - failed
    return (
        f"Waiting for {total} process run(s) for {elapsed:.0f} s: {done} done, {failed} failed, {pending} pending; "
        f"next poll in {sleep:.0f} s."
    )


def run_label(client: ControlRoomClient, run: Mapping[str, Any]) -> str:
    process = run.get("process") or {}
    name = process.get("name") or client.process_names.get(str(process.get("id")), "")
    return f"process {name!r}" if name else f"process {process.get('id')}"


def step_summary(client: ControlRoomClient, run: Mapping[str, Any], process: str | None = None) -> str:
    """``: step 'X' failed (CODE: message)`` for the step that went wrong, or the one in progress.

    Step runs carry only an error code; the message comes from the run's first failed work item.
    """
    pid = str((run.get("process") or {}).get("id") or "") or process
    try:
        steps = client.list_step_runs(str(run["id"]), pid)
        failed_items = (
            list(client.list_work_items(pid, run_id=str(run["id"]), state="failed", limit=100))
            if run.get("state") == "unresolved"
            else []
        )
    except ConnectorError:
        return ""
    exception = (failed_items[0].get("exception") or {}) if failed_items else {}
    bad = [s for s in steps if s.get("state") == "failed"]
    if bad:
        step = bad[-1]
        code = (step.get("error") or {}).get("code")
        detail = ": ".join(str(v) for v in (code, exception.get("message")) if v)
        return f": step {step_name(step)!r} failed" + (f" ({detail})" if detail else "")
    running = [s for s in steps if s.get("state") in ("in_progress", "awaiting_worker")]
    if running:
        return f": step {step_name(running[-1])!r} {running[-1]['state'].replace('_', ' ')}"
    if failed_items:
        count = f"{len(failed_items)}{'+' if len(failed_items) == 100 else ''}"
        return (
            f": {count} work item(s) failed ({exception.get('type', '')} {exception.get('code', '')}: "
            f"{exception.get('message', '')})"
        ).replace(" :", ":")
    return ""


def step_name(step: Mapping[str, Any]) -> str:
    return str((step.get("step") or {}).get("name") or step.get("id"))
