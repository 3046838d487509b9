"""``ControlRoomClient``: one facade over Control Room's two API generations.

``api=current`` (``/api/v1``) follows Robocorp's OpenAPI spec operation by operation; ``api=legacy``
(``/process-v1``) translates the legacy answers to the same shapes. Both are objects behind the
``ApiGeneration`` interface (``generations.py``); this facade checks arguments, resolves process names,
keeps starts exactly-once, waits for runs, and holds what needs only the current API (webhooks, assets,
workers) or no API at all (verifying webhook deliveries, storage links).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlparse

from Connectors.core import arguments, log, progress
from Connectors.core.config import Credential, require
from Connectors.core.errors import (
    ConfigurationError,
    ConnectorError,
    NotFound,
    PermissionDenied,
    ServerError,
    UncertainOutcome,
    ValidationError,
)
from Connectors.core.paths import segment
from Connectors.core.redact import redactor, signed
from Connectors.core.repeats import fingerprint, journal
from Connectors.core.settings import lookup
from Connectors.core.webhooks import SignatureError, verify_body
from Connectors.vendors.base import BaseClient, named
from Connectors.vendors.controlroom.generations import ApiGeneration, CurrentApi, LegacyApi, Memory, Requests
from Connectors.vendors.controlroom.model import (
    FINISHED,
    CallbackEvent,
    ControlRoomApi,
    ProcessRunFailed,
    ProcessRunTimeout,
    RunState,
    RunTriggerUncertain,
    Start,
    WebhookEvent,
    WorkItemQuery,
    WorkItemState,
    checked,
    value_of,
    within_limit,
)
from Connectors.vendors.controlroom.profile import CLOUD_LEGACY_URL, CONTROLROOM

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
INLINE_LIMIT = 5 * 1024 * 1024  # the spec: inline asset upload ``data`` is for payloads under 5 MB

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from Connectors.vendors.typed import ControlRoomSettings

__all__ = ["ControlRoomClient", "ProcessRunFailed", "ProcessRunTimeout", "RunTriggerUncertain"]


def _legacy_base(console_url: str, legacy_url: str | None) -> str:
    """The legacy ``/process-v1`` base: its own host in the cloud, the console's elsewhere."""
    legacy = legacy_url
    if not legacy:
        host = urlparse(console_url).hostname or ""
        legacy = CLOUD_LEGACY_URL if host.endswith("robocorp.com") else console_url
    legacy = legacy.rstrip("/")
    return legacy if legacy.endswith("/process-v1") else legacy + "/process-v1"


def wait_line(runs: Mapping[str, Mapping[str, Any]], total: int, pending: int, sleep: float, elapsed: float) -> str:
    """The progress line of a long wait (at most one every few seconds, see core.progress)."""
    failed = sum(1 for run in runs.values() if run["state"] == "unresolved")
    done = total - pending - failed
    return (
        f"Waiting for {total} process run(s) for {elapsed:.0f} s: {done} done, {failed} failed, {pending} pending; "
        f"next poll in {sleep:.0f} s."
    )


class WaitOptions(TypedDict, total=False):
    """How ``ControlRoomClient.wait_for_run`` polls: the arguments of ``wait_for_runs`` after the ids."""

    timeout: float
    poll_interval: float
    max_interval: float
    backoff: float
    process: str | None
    fail_on_unresolved: bool


class ControlRoomClient(BaseClient):
    """Typed calls to one Control Room workspace with a workspace API key (``RC-WSKEY``)."""

    profile = CONTROLROOM

    def __init__(
        self, workspace_id: str | None = None, api_key: Credential = None, /, **settings: Unpack[ControlRoomSettings]
    ) -> None:
        super().__init__(**named(settings, workspace_id=workspace_id, api_key=api_key))
        self.workspace_id = self.settings.require("workspace_id")
        self.api = _api_of(self.settings.text("api"))
        self.console_url = self.url
        self.legacy_base = _legacy_base(self.url, self.settings.text("legacy_url"))
        self.organization = self.settings.text("organization")
        self._setup()

    def trusted_origins(self) -> Sequence[str]:
        # The legacy API lives on its own host in the cloud (api.eu1.robocorp.com).
        return (_legacy_base(self.url, self.settings.text("legacy_url")),)

    def _setup(self) -> None:
        self._processes: dict[str, str] | None = None  # name -> id
        self.memory = Memory()
        self.process_names = self.memory.process_names  # id -> name
        self.run_process = self.memory.run_process  # run id -> process id (the legacy API needs both)
        self.last_wait: dict[str, Any] = {}
        calls = Requests(self.transport, self.workspace_id)
        current = self.api is ControlRoomApi.CURRENT
        self.backend: ApiGeneration = CurrentApi(calls) if current else LegacyApi(calls, self.legacy_base, self.memory)

    def _current(self, what: str) -> CurrentApi:
        if not isinstance(self.backend, CurrentApi):
            raise ConfigurationError(
                f"{what} is part of the current API only.", hint="Connect with api=current (the default)."
            )
        return self.backend

    def _fetch_signed(self, url: str) -> bytes:
        # Storage, not the API: no RC-WSKEY header (it would leak the key to a third party), no throttle.
        try:
            return self.transport.request("GET", signed(url), authenticate=False, throttle=False).content
        except PermissionDenied as error:
            hint = "The storage refused the pre-signed link (it expires quickly); download again for a new one."
            raise error.replace(hint=hint) from None

    # -- workspace and processes ---------------------------------------------------------------------
    def get_workspace(self) -> dict[str, Any]:
        """The workspace of the API key: ``id``, ``name``, ``organization`` (``id``, ``name``)."""
        return self._current("Reading the workspace").get_workspace()

    def list_processes(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        limit = arguments.limit(limit)
        rows = self.backend.list_processes()
        for row in rows[:limit] if limit else rows:
            self.process_names[str(row["id"])] = str(row.get("name", ""))
            yield row

    def process_id_by_name(self, name: str) -> str | None:
        name = arguments.text(name, "name", max_length=500)
        if self._processes is None or name not in self._processes:
            self._processes = {str(p.get("name")): str(p["id"]) for p in self.list_processes()}
        return self._processes.get(name)

    def resolve_process(self, process: str | None) -> str:
        """A process id from an id or a name (names are looked up once per client)."""
        if process is None or process == "" or process == []:
            raise ConfigurationError(
                "No process given.", hint="Pass the process id or name, e.g. process=Invoice Processing."
            )
        process = arguments.text(process, "process", max_length=500)
        if _UUID.match(process) or process in self.process_names:
            return process
        found = self.process_id_by_name(process)
        if found:
            return found
        known = ", ".join(sorted(self._processes or {})) or "none"
        raise NotFound(
            f"No process named {process!r} in workspace {self.workspace_id}.",
            vendor=self.vendor,
            hint=f"Known processes: {known}.",
        )

    # -- triggering ------------------------------------------------------------------------------
    def _start(self, process_id: str, start: Start, batch: list[Any] | None = None) -> list[str]:
        """Send one start request; the run ids it started (none: Control Room had no inputs waiting).

        A request that may or may not have started a run raises ``RunTriggerUncertain`` with the process
        and the moment to list runs from; it is never sent twice.
        """
        since = _iso(datetime.now(timezone.utc) - timedelta(seconds=5))
        try:
            if batch is not None and isinstance(self.backend, LegacyApi):
                ids = self.backend.start_batch(process_id, batch)
            else:
                ids = self.backend.start(process_id, start)
        except (UncertainOutcome, ServerError) as error:
            raise self._uncertain(process_id, since, error.message, error) from None
        for run_id in ids:
            self.run_process[run_id] = process_id
        return ids

    def _uncertain(
        self, process_id: str, since: str, why: str, error: ConnectorError | None = None
    ) -> RunTriggerUncertain:
        name = self.process_names.get(process_id, "")
        return RunTriggerUncertain(
            f"a run of process {name or process_id} may or may not have started: {why}",
            process_id=process_id,
            process_name=name,
            since=since,
            vendor=self.vendor,
            method="POST",
            path=error.path if error else None,
            status=error.status if error else None,
        )

    def _read_back(self, run_id: str, process_id: str) -> dict[str, Any]:
        """The started run; if reading it fails, the run id with what is known (the run was accepted)."""
        try:
            return self.get_run(run_id, process_id)
        except ConnectorError as error:
            log.info(f"Started run {run_id} of process {process_id}, but could not read it back: {error}")
            name = self.process_names.get(process_id, "")
            return {"id": run_id, "state": RunState.NEW.value, "process": {"id": process_id, "name": name}}

    def trigger_run(self, process: str, payload: Any = None, callback: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start one run: with one input work item carrying ``payload``, or - without a payload - with no
        request body, so Control Room uses the process's default work item (an empty one if none is set)."""
        callback = _callback(callback)
        if payload is None:
            pid = self.resolve_process(process)
            return self._read_back(self._start_once(pid, None, callback)[0], pid)
        within_limit(arguments.json_value(payload, "payload"))  # named as the caller knows it
        return self._trigger(process, [payload], callback, one_run=True)[0]

    def trigger_runs(
        self, process: str, payloads: Sequence[Any], callback: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One run per payload, each with one input work item (the legacy API does it in one ``runs-batch``)."""
        return self._trigger(process, payloads, _callback(callback), one_run=False)

    def trigger_run_with_payloads(
        self, process: str, payloads: Sequence[Any], callback: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """ONE run with one input work item per payload (``startProcessRun`` ``type: with_payloads``): how a
        process whose step runs parallel executions is fed. Current API only."""
        self._current("Starting one run with several payloads")
        return self._trigger(process, payloads, _callback(callback), one_run=True)[0]

    def _trigger(
        self, process: str, payloads: Sequence[Any], callback: dict[str, Any] | None, one_run: bool
    ) -> list[dict[str, Any]]:
        if not arguments.is_list(payloads):
            # A text is not a list of payloads: "abc" would start three runs.
            raise ValidationError(
                f"payloads must be a list of payloads, got {arguments.describe(payloads)}.",
                vendor=self.vendor,
                hint="Pass a list; for one payload use trigger_run.",
            )
        rows = [
            within_limit(arguments.json_value(p if p is not None else {}, f"payloads[{i}]"), f"payloads[{i}]")
            for i, p in enumerate(payloads)
        ]
        if one_run and not rows:
            raise ValidationError(
                "No payloads given for the run.", vendor=self.vendor, hint="Pass at least one payload."
            )
        pid = self.resolve_process(process)
        if not rows:
            return []
        if isinstance(self.backend, LegacyApi) and callback:
            self._current("A run callback")
        if one_run:
            ids = self._start_once(pid, rows, callback)
        elif isinstance(self.backend, LegacyApi) and len(rows) > 1:
            ids = self._start(pid, Start("with_payloads", {"payloads": rows}), batch=rows)
        else:
            ids = [i for row in rows for i in self._start_once(pid, [row], callback)]
        return [self._read_back(run_id, pid) for run_id in ids]

    def _start_once(self, pid: str, payloads: list[Any] | None, callback: dict[str, Any] | None) -> list[str]:
        """Start one run with ``payloads`` (None: no body) - unless an earlier attempt of this same trigger,
        whose answer was lost, did start it: then that run is the answer. Control Room has no idempotency
        keys, so the runs of the process since that attempt are looked at for one whose input work items
        carry these payloads. A body-less start has nothing to recognise its run by: after an uncertain one,
        the same trigger fails again (naming the process and the moment) instead of starting a second run."""
        write = fingerprint("trigger", self.url, self.workspace_id, pid, payloads)
        pending = journal.pending(write)
        if pending:
            if payloads is None:
                since = _iso(datetime.fromtimestamp(pending.started_at - 5, timezone.utc))
                raise self._uncertain(
                    pid,
                    since,
                    f"an earlier start without a payload at {since} had no clear answer, and a run started "
                    "with the default work item cannot be told apart from others, so it is not started again",
                )
            found = self._run_started_earlier(pid, payloads, pending.started_at)
            if found:
                log.info(f"Run {found} of process {pid} was started by the earlier attempt; not triggering again.")
                journal.forget(write)
                return [found]
        started = time.time()
        start = (
            Start(None, {}, callback) if payloads is None else Start("with_payloads", {"payloads": payloads}, callback)
        )
        try:
            ids = self._start(pid, start)
        except RunTriggerUncertain:
            journal.remember(write, None, started)
            raise
        journal.forget(write)
        return ids

    def _run_started_earlier(self, pid: str, payloads: list[Any], started_at: float) -> str | None:
        since = datetime.fromtimestamp(started_at - 5, timezone.utc)
        wanted = sorted(_canonical(p) for p in payloads)
        for run in self.list_runs(pid, since=since, limit=50):
            items = self.list_work_items(process=pid, run_id=str(run["id"]), include_data=True, limit=len(payloads) + 1)
            if sorted(_canonical(item.get("payload")) for item in items) == wanted:
                return str(run["id"])
        return None

    def trigger_run_with_work_items(
        self, process: str, work_item_ids: Sequence[str], callback: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if work_item_ids is None or (arguments.is_list(work_item_ids) and not work_item_ids):
            raise ValidationError(
                "No work item ids given.", vendor=self.vendor, hint="Create them with Create Work Item first."
            )
        ids = arguments.texts(work_item_ids, "work_item_ids")
        callback = _callback(callback)
        pid = self.resolve_process(process)
        (run_id,) = self._start(pid, Start("with_work_item_ids", {"work_item_ids": ids}, callback))
        return self._read_back(run_id, pid)

    def trigger_run_with_inputs(self, process: str, callback: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Start a run with the items waiting in the process's input queue; None when none are waiting."""
        self._current("Starting a run with the waiting input work items")
        callback = _callback(callback)
        pid = self.resolve_process(process)
        ids = self._start(pid, Start("with_inputs", {}, callback))
        return self._read_back(ids[0], pid) if ids else None

    # -- runs --------------------------------------------------------------------------------------
    def _process_of_run(self, run_id: str, process: str | None) -> str | None:
        return self.resolve_process(process) if process else self.run_process.get(run_id)

    def _remember(self, run: dict[str, Any]) -> dict[str, Any]:
        process = run.get("process") or {}
        if run.get("id") and process.get("id"):
            self.run_process[str(run["id"])] = str(process["id"])
            if process.get("name"):
                self.process_names[str(process["id"])] = str(process["name"])
        return run

    def get_run(self, run_id: str, process: str | None = None) -> dict[str, Any]:
        return self._remember(self.backend.get_run(run_id, self._process_of_run(run_id, process)))

    def list_runs(
        self,
        process: str | None = None,
        state: RunState | str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
        since: str | datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Runs as Control Room lists them (newest first); ``since`` keeps those created at or after that
        moment (ISO 8601 or datetime).

        The spec states no order, so ``since`` filters here, and paging stops early only where the answers
        show the order: at a run older than ``since`` that follows runs listed newest-first. A listing that
        shows another order is read to its end - one request per 100 runs of the history.
        """
        state = checked(state, RunState, "run")
        limit = arguments.limit(limit)
        pid = self.resolve_process(process) if process else None
        after = _moment(since) if since is not None and since != "" else None
        rows = self.backend.list_runs(pid, state, None if after else limit, page_size)
        produced = 0
        newest_first, previous = True, None
        for row in rows:
            created = _moment(row["created_at"], "created_at") if row.get("created_at") else None
            if after and created is not None and previous is not None and created > previous:
                newest_first = False  # the answers show another order: read them all
            if after and (created is None or created < after):
                if newest_first and previous is not None and created is not None:
                    return  # every run after this one in a newest-first listing is older still
                previous = created or previous
                continue
            previous = created or previous
            yield self._remember(row)
            produced += 1
            if limit and produced >= limit:
                return

    def stop_run(
        self,
        run_id: str,
        reason: str = "",
        *,
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing: bool = False,
    ) -> dict[str, Any]:
        """Ask Control Room to stop a run; the run as it is then. A finished run is returned as it is."""
        current = self._current("Stopping a run")
        body: dict[str, Any] = {
            "set_remaining_work_items_as_done": arguments.flag(
                set_remaining_work_items_as_done, "set_remaining_work_items_as_done"
            ),
            "terminate_ongoing_activity_runs": arguments.flag(terminate_ongoing, "terminate_ongoing"),
        }
        text = arguments.optional_text(reason, "reason", max_length=2000, multiline=True)
        if text:
            body["reason"] = text
        if not current.stop_run(run_id, body):
            log.info(f"Control Room did not accept stopping run {run_id}: it has finished or is stopping already.")
        return self.get_run(run_id)

    def delete_run(self, run_id: str) -> dict[str, Any]:
        """Delete a finished run and its work items, irreversibly: ``{id, deleted}``."""
        return self._current("Deleting a run").delete_run(run_id)

    def list_run_outputs(self, run_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The output work items of a run's last step (``id``, ``payload``, ``files`` …)."""
        return self._current("Listing run outputs").list_outputs(run_id, limit)

    def run_link(self, run_id: str) -> str:
        org = f"{self.organization}/" if self.organization else ""
        return f"{self.console_url}/{org}{self.workspace_id}/processes/runs/{segment(run_id, 'run_id')}"

    # -- waiting -----------------------------------------------------------------------------------
    def wait_for_run(self, run_id: str, **options: Unpack[WaitOptions]) -> dict[str, Any]:
        """Poll until the run is completed or unresolved; ``options`` as for ``wait_for_runs``."""
        unknown = sorted(set(options) - WaitOptions.__optional_keys__)
        if unknown:
            names = ", ".join(sorted(WaitOptions.__optional_keys__))
            raise ValidationError(f"wait_for_run takes no option {unknown[0]!r}; its options are {names}.")
        return self.wait_for_runs([run_id], **options)[0]

    def wait_for_runs(
        self,
        run_ids: Sequence[str],
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        *,
        process: str | None = None,
        fail_on_unresolved: bool = True,
    ) -> list[dict[str, Any]]:
        """Wait for several runs with one shared back-off (``poll_interval * backoff**n``, capped at
        ``max_interval``) and one deadline; the finished runs in the order given."""
        timeout = arguments.number(timeout, "timeout", minimum=0)
        poll_interval = arguments.number(poll_interval, "poll_interval")
        max_interval = arguments.number(max_interval, "max_interval")
        backoff = arguments.number(backoff, "backoff")
        if poll_interval <= 0 or backoff < 1 or max_interval < poll_interval:
            raise ConfigurationError(
                "Invalid polling settings.",
                hint="Use poll_interval > 0, backoff >= 1 and max_interval >= poll_interval.",
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
                runs[run_id] = self.get_run(run_id, process)
                calls += 1
            pending = [r for r in ids if runs[r]["state"] not in FINISHED]
            now = time.monotonic()
            self.last_wait = {"status_calls": calls, "seconds": now - started, "runs": len(ids)}
            if not pending:
                break
            if now >= deadline:
                run = runs[pending[0]]
                raise ProcessRunTimeout(
                    f"Process run {run['id']} of {self._run_label(run)} is still {run['state']} after "
                    f"{timeout:g} s{self._step_summary(run, process)}; see {self.run_link(run['id'])}"
                    + (f" ({len(pending)} of {len(ids)} runs unfinished)." if len(ids) > 1 else "."),
                    run,
                    vendor=self.vendor,
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
                        f"Process run {run['id']} of {self._run_label(run)} ended unresolved"
                        f"{self._step_summary(run, process)}; see {self.run_link(run['id'])}.",
                        run,
                        vendor=self.vendor,
                    )
        return finished

    def _run_label(self, run: Mapping[str, Any]) -> str:
        process = run.get("process") or {}
        name = process.get("name") or self.process_names.get(str(process.get("id")), "")
        return f"process {name!r}" if name else f"process {process.get('id')}"

    def _step_summary(self, run: Mapping[str, Any], process: str | None = None) -> str:
        """``: step 'X' failed (CODE: message)`` for the step that went wrong, or the one in progress.

        Step runs carry only an error code; the message comes from the run's first failed work item.
        """
        pid = str((run.get("process") or {}).get("id") or "") or process
        try:
            steps = self.list_step_runs(str(run["id"]), pid)
            failed_items = (
                list(self.list_work_items(pid, run_id=str(run["id"]), state="failed", limit=100))
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
            return f": step {_step_name(step)!r} failed" + (f" ({detail})" if detail else "")
        running = [s for s in steps if s.get("state") in ("in_progress", "awaiting_worker")]
        if running:
            return f": step {_step_name(running[-1])!r} {running[-1]['state'].replace('_', ' ')}"
        if failed_items:
            count = f"{len(failed_items)}{'+' if len(failed_items) == 100 else ''}"
            return (
                f": {count} work item(s) failed ({exception.get('type', '')} {exception.get('code', '')}: "
                f"{exception.get('message', '')})"
            ).replace(" :", ":")
        return ""

    # -- step runs and artifacts -------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process: str | None = None) -> list[dict[str, Any]]:
        run_id = arguments.text(run_id, "run_id", max_length=200)
        return self.backend.list_step_runs(run_id, self._process_of_run(run_id, process))

    def get_step_run(self, step_run_id: str) -> dict[str, Any]:
        return self._current("Reading one step run").get_step_run(step_run_id)

    def list_console_messages(self, step_run_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._current("Console messages").list_console_messages(step_run_id, limit)

    def list_step_run_events(self, step_run_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._current("Step run events").list_step_run_events(step_run_id, limit)

    def list_artifacts(
        self, run_id: str, step_run_id: str | None = None, process: str | None = None
    ) -> list[dict[str, Any]]:
        """Artifacts (``id``, ``name``, ``size``) of one step run or of every step run of the run."""
        run_id = arguments.text(run_id, "run_id", max_length=200)
        step_run_id = arguments.optional_text(step_run_id, "step_run_id", max_length=200)
        pid = self._process_of_run(run_id, process)
        step_ids = [step_run_id] if step_run_id else [str(s["id"]) for s in self.list_step_runs(run_id, pid)]
        return [
            dict(row, step_run_id=sid, process_run_id=run_id)
            for sid in step_ids
            for row in self.backend.list_artifacts(sid, run_id, pid)
        ]

    def _artifact_url(self, artifact: dict[str, Any], process: str | None = None) -> str:
        pid = self._process_of_run(str(artifact["process_run_id"]), process)
        return signed(self.backend.artifact_url(artifact, pid))

    def download_artifacts(
        self,
        run_id: str,
        folder: str | Path,
        pattern: str = "*",
        process: str | None = None,
        step_run_id: str | None = None,
    ) -> list[Path]:
        """Download the run's artifacts whose file name matches ``pattern`` (``fnmatch``) into ``folder``."""
        target = _folder(folder)
        pattern = arguments.text(pattern, "pattern", max_length=500)
        saved: list[Path] = []
        for artifact in self.list_artifacts(run_id, step_run_id, process):
            name = Path(str(artifact["name"])).name
            if not fnmatch.fnmatch(name, pattern):
                continue
            content = self._fetch_signed(self._artifact_url(artifact, process))
            path = target / name
            if path in saved:
                path = target / f"{artifact['step_run_id']}-{name}"
            path.write_bytes(content)
            saved.append(path)
        return saved

    # -- work items ----------------------------------------------------------------------------------
    def create_work_item(self, process: str, payload: Any = None, files: Sequence[str | Path] = ()) -> dict[str, Any]:
        """An input work item waiting in the process's queue, with files uploaded through storage."""
        body = within_limit(arguments.json_value(payload if payload is not None else {}, "payload"))
        listed = [] if files is None else [files] if isinstance(files, (str, PurePath)) else files
        if not arguments.is_list(listed):
            raise ValidationError(f"files must be a list of file paths, got {arguments.describe(files)}.")
        paths = [arguments.existing_file(f, f"files[{index}]") for index, f in enumerate(listed)]
        pid = self.resolve_process(process)
        item_id = self.backend.create_work_item(pid, body)
        for path in paths:
            self._upload(pid, item_id, path)
        return self.get_work_item(item_id, pid)

    def _upload(self, process_id: str, item_id: str, path: Path) -> None:
        url, form = self.backend.upload_slot(process_id, item_id, path.name, path.stat().st_size)
        fields = {str(k): str(v) for k, v in form.items()}
        redactor.register(*(v for k, v in fields.items() if k.lower() != "key"))
        with path.open("rb") as handle:
            files = {"file": (path.name, handle)}
            self.transport.request(
                "POST", url, data=fields, files=files, authenticate=False, throttle=False, idempotent=False
            )

    def get_work_item(self, item_id: str, process: str | None = None, include_data: bool = True) -> dict[str, Any]:
        pid = self.resolve_process(process) if process else None
        return self.backend.get_work_item(item_id, pid, arguments.flag(include_data, "include_data"))

    def list_work_items(
        self,
        process: str | None = None,
        run_id: str | None = None,
        state: WorkItemState | str | None = None,
        include_data: bool = False,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Work items of a process and/or run; with ``include_data`` each item's payload is read as well."""
        state = checked(state, WorkItemState, "work item")
        run = arguments.optional_text(run_id, "run_id", max_length=200)
        data = arguments.flag(include_data, "include_data")
        limit = arguments.limit(limit)
        pid = self.resolve_process(process) if process else None
        return self.backend.list_work_items(WorkItemQuery(pid, run, state, data, limit, page_size))

    def update_work_item_payload(self, item_id: str, payload: Any) -> Any:
        if payload is None:
            raise ValidationError(
                "A work item payload cannot be null.", vendor=self.vendor, hint="Pass a dictionary or a list."
            )
        body = within_limit(arguments.json_value(payload, "payload"))
        return self._current("Updating a work item payload").update_payload(item_id, body)

    def _batch(self, operation: str, item_ids: Sequence[str], process: str | None) -> list[str]:
        ids = arguments.texts(item_ids, "item_ids", allow_empty=True)
        if ids:
            self.backend.batch(operation, ids, self.resolve_process(process) if process else None)
        return ids

    def retry_work_items(self, item_ids: Sequence[str], process: str | None = None) -> list[str]:
        """Ask Control Room to retry failed work items (items in another state are left as they are)."""
        return self._batch("retry", item_ids, process)

    def delete_work_items(self, item_ids: Sequence[str]) -> list[str]:
        return self._batch("delete", item_ids, None)

    def mark_work_items_done(self, item_ids: Sequence[str]) -> list[str]:
        return self._batch("mark_as_done", item_ids, None)

    # -- webhooks ------------------------------------------------------------------------------------
    def create_webhook(
        self, process: str, endpoint: str, events: Sequence[WebhookEvent | str] = tuple(WebhookEvent)
    ) -> dict[str, Any]:
        """A process webhook: ``{id, process, enabled_events, endpoint, secret}`` (the secret signs deliveries)."""
        listed: Any = tuple(WebhookEvent) if events is None else events if arguments.is_list(events) else [events]
        chosen = [str(value_of(e)) for e in listed]
        known = {e.value for e in WebhookEvent}
        unknown = [e for e in chosen if e not in known]
        if unknown or not chosen:
            raise ValidationError(
                f"Unknown webhook event {unknown[0]!r}." if unknown else "No webhook events given.",
                vendor=self.vendor,
                hint=f"Use {', '.join(sorted(known))}.",
            )
        endpoint = arguments.text(endpoint, "endpoint")
        hook = self._current("Creating a webhook").create_webhook(self.resolve_process(process), endpoint, chosen)
        redactor.register(str(hook.get("secret") or ""))
        return hook

    def list_webhooks(self) -> list[dict[str, Any]]:
        return self._current("Listing webhooks").list_webhooks()

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        """One webhook with its ``secret`` (registered for redaction: it signs the deliveries)."""
        hook = self._current("Reading a webhook").get_webhook(webhook_id)
        redactor.register(str(hook.get("secret") or ""))
        return hook

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self._current("Deleting a webhook").delete_webhook(webhook_id)

    @staticmethod
    def verify_webhook(body: str | bytes, signature: str | None, secret: Any = None) -> dict[str, Any]:
        """Check ``x-rc-signature`` (hex HMAC-SHA256 of the raw body) and return the parsed event."""
        key = arguments.credential(secret, "secret") or lookup(CONTROLROOM, "webhook_secret")[0]
        key = require(key, "The Control Room webhook secret", "CONTROLROOM_WEBHOOK_SECRET")
        if not isinstance(body, (str, bytes)):
            raise ValidationError(f"body must be the raw request body (text or bytes), got {type(body).__name__}.")
        if signature is not None and not (isinstance(signature, str) and signature.isascii()):
            raise SignatureError("The x-rc-signature header is malformed (not ASCII text).")
        verify_body(key, body, signature)
        try:
            event = json.loads(body)
        except ValueError:
            raise ValidationError("The webhook body is not JSON.", vendor="Control Room", hint="Reject the delivery.")
        return event if isinstance(event, dict) else {"payload": event}

    # -- assets --------------------------------------------------------------------------------------
    def list_assets(self) -> list[dict[str, Any]]:
        return self._current("Listing assets").list_assets()

    def get_asset(self, name: str, as_bytes: bool = False) -> Any:
        """An asset's content: parsed JSON for ``application/json``, text for ``text/*``, else bytes."""
        name = arguments.text(name, "name", max_length=500)
        as_bytes = arguments.flag(as_bytes, "as_bytes")
        asset = self._current("Reading an asset").get_asset(f"name:{name}")
        payload = asset.get("payload") or {}
        if payload.get("type") != "url":
            raise NotFound(
                f"Asset {name!r} has no content yet.", vendor=self.vendor, hint="Set it with Set Control Room Asset."
            )
        content = self._fetch_signed(str(payload["url"]))
        kind = str(payload.get("content_type") or "")
        if as_bytes:
            return content
        if kind.startswith("application/json"):
            return json.loads(content)
        return content.decode() if kind.startswith("text/") else content

    def set_asset(self, name: str, value: Any, content_type: str | None = None) -> dict[str, Any]:
        """Create the asset if needed and upload ``value`` (dict/list → JSON, str → text, bytes as they are)."""
        api = self._current("Setting an asset")
        name = arguments.text(name, "name", max_length=500)
        kind_given = arguments.optional_text(content_type, "content_type", max_length=255)
        if kind_given and not kind_given.isascii():
            # It is sent as a header: a media type such as application/json.
            raise ValidationError("content_type must be a media type in ASCII, such as application/json.")
        data, kind = _content(value, kind_given)
        try:
            asset = api.get_asset(f"name:{name}")
        except NotFound:
            asset = api.create_asset(name)
        asset_id = str(asset["id"])
        text = _as_text(data, kind)
        if text is not None and len(data) < INLINE_LIMIT:
            upload = api.create_asset_upload(asset_id, kind, text)
        else:
            upload = api.create_asset_upload(asset_id, kind, None)
            url = signed(str(upload["upload_url"]))
            self.transport.request("PUT", url, data=data, headers={"Content-Type": kind}, authenticate=False)
            upload = self._await_upload(api, asset_id, str(upload["id"]))
        return {"id": asset_id, "name": name, "content_type": kind, "status": upload["status"]}

    def _await_upload(self, api: CurrentApi, asset_id: str, upload_id: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline, pause = time.monotonic() + timeout, 0.2
        while True:
            upload = api.get_asset_upload(asset_id, upload_id)
            if upload["status"] == "completed":
                return upload
            if upload["status"] == "failed":
                raise ConnectorError(
                    f"Control Room could not store the asset upload: {upload.get('reason', 'no reason given')}.",
                    vendor=self.vendor,
                    hint="Check the content and try again.",
                )
            if time.monotonic() > deadline:
                raise ConnectorError(
                    f"The asset upload is still {upload['status']} after {timeout:g} s.",
                    vendor=self.vendor,
                    hint="Read the asset later with Get Control Room Asset.",
                )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def delete_asset(self, name: str) -> dict[str, Any]:
        name = arguments.text(name, "name", max_length=500)
        return self._current("Deleting an asset").delete_asset(f"name:{name}")

    # -- workers -------------------------------------------------------------------------------------
    def list_workers(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._current("Listing workers").list_workers(limit)


def _api_of(value: ControlRoomApi | str | None) -> ControlRoomApi:
    try:
        return ControlRoomApi(str(value_of(value) or "current").lower())
    except ValueError:
        raise ConfigurationError(f"Unknown Control Room API {value!r}.", hint="Use api=current or api=legacy.")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _moment(value: str | datetime, argument: str = "since") -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        text = arguments.text(value, argument, max_length=100)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{argument} is not an ISO 8601 moment: {arguments.describe(value)}.",
                vendor="Control Room",
                hint="Write it like 2025-03-01T10:00:00Z.",
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def _callback(callback: Any) -> dict[str, Any] | None:
    # A run callback as the client takes it (callback_of builds one): a dictionary of JSON values.
    return None if callback is None else arguments.mapping(callback, "callback")


def callback_of(
    url: str | None, secret: str | None, events: Sequence[CallbackEvent | str] | None = None
) -> dict[str, Any] | None:
    """The spec's ProcessRunCallback, or None without a URL."""
    if url is None or url == "":
        return None
    url = arguments.text(url, "callback_url")
    secret = arguments.credential(secret, "callback_secret")
    if not secret:
        raise ConfigurationError("A run callback needs a secret.", hint="Pass callback_secret (a Secret).")
    given: Any = events or (CallbackEvent.COMPLETED, CallbackEvent.UNRESOLVED)
    chosen = [str(value_of(e)) for e in (given if arguments.is_list(given) else [given])]
    known = {e.value for e in CallbackEvent}
    unknown = [e for e in chosen if e not in known]
    if unknown:
        raise ConfigurationError(f"Unknown callback event {unknown[0]!r}.", hint=f"Use {', '.join(sorted(known))}.")
    return {"url": url, "secret": secret, "callback_events": chosen}


def _step_name(step: Mapping[str, Any]) -> str:
    return str((step.get("step") or {}).get("name") or step.get("id"))


def _folder(folder: Any) -> Path:
    """The download folder, created if needed; a bad path is one line naming ``folder``."""
    if not isinstance(folder, (str, PurePath)) or not str(folder).strip():
        raise ValidationError(f"folder must be a folder path, got {arguments.describe(folder)}.")
    target = Path(arguments.line(str(folder), "folder"))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"Cannot create the folder {arguments.describe(str(target))} ({error.strerror}).",
            hint="Pass a folder you can write to.",
        ) from None
    return target


def _content(value: Any, content_type: str | None) -> tuple[bytes, str]:
    if isinstance(value, bytes):
        return value, content_type or "application/octet-stream"
    if isinstance(value, str):
        return arguments.json_value(value, "value").encode(), content_type or "text/plain"
    return json.dumps(arguments.json_value(value, "value")).encode(), content_type or "application/json"


def _as_text(data: bytes, kind: str) -> str | None:
    if not (kind.startswith("text/") or kind.startswith("application/json")):
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None
