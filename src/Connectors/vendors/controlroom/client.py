"""``ControlRoomClient``: Control Room's workspace API (current ``/api/v1`` or legacy ``/process-v1``).

Both generations return the same shapes from this client: runs, step runs, work items and artifacts
as the current API spells them (``id``, ``state``, ``created_at``, ``process`` …). Legacy answers are
translated (run ``state`` ``COMPL`` with ``result`` ``err`` becomes ``unresolved``) and keep the
original under ``legacy``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests

from Connectors.core.config import Credential, env, require, secret_value
from Connectors.core.errors import (
    ConfigurationError,
    ConnectorError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from Connectors.core.paging import Page, paginate
from Connectors.core.redact import redactor
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import CommonSettings
from Connectors.core.webhooks import verify_body
from Connectors.vendors.base import BaseClient, settings_of
from Connectors.vendors.controlroom.profile import CLOUD_LEGACY_URL, CONTROLROOM

if TYPE_CHECKING:
    from typing_extensions import Unpack


FINISHED = frozenset({"completed", "unresolved"})
RUN_STATES = ("new", "in_progress", "terminating", "completed", "unresolved")
WORK_ITEM_STATES = ("new", "pending", "in_progress", "done", "failed")
_LEGACY_ITEM_STATES = {
    "NEW": "new",
    "PENDING": "pending",
    "IN_PROGRESS": "in_progress",
    "COMPLETED": "done",
    "DONE": "done",
    "FAILED": "failed",
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Which permission each kind of call needs, to say what a 403 is probably about.
PERMISSIONS = {
    "processes": "read_processes",
    "trigger": "trigger_processes",
    "runs": "read_runs",
    "stop": "write_runs",
    "items": "read_work_items",
    "write_items": "write_work_items",
    "artifacts": "read_run_outputs",
}


class ProcessRunFailed(ConnectorError):
    """A process run ended unresolved (a step failed, work items failed, or it was stopped)."""

    default_hint = "Open the run in Control Room, fix the cause and use Retry Work Items, or trigger a new run."

    def __init__(self, message: str, run: dict[str, Any], **kwargs: Any) -> None:
        self.run = run
        super().__init__(message, **kwargs)


class ProcessRunTimeout(ConnectorError):
    """A process run did not finish before the waiting deadline."""

    default_hint = "Wait longer (raise timeout), or stop the run with Stop Process Run."

    def __init__(self, message: str, run: dict[str, Any], **kwargs: Any) -> None:
        self.run = run
        super().__init__(message, **kwargs)


def _legacy_run_state(raw: Mapping[str, Any]) -> str:
    state = str(raw.get("state") or "").upper()
    if state == "COMPL":
        return "completed" if str(raw.get("result") or "ok").lower() == "ok" else "unresolved"
    return {"INI": "new", "IND": "new", "IP": "in_progress", "TERM": "terminating"}.get(state, state.lower())


def _filtered(rows: Iterable[dict[str, Any]], state: str | None, limit: int | None) -> Iterator[dict[str, Any]]:
    """The legacy API neither filters by state nor pages: filter and stop at ``limit`` client-side."""
    produced = 0
    for row in rows:
        if state and row["state"] != state:
            continue
        yield row
        produced += 1
        if limit and produced >= limit:
            return


def _legacy_base(console_url: str, legacy_url: str | None) -> str:
    """The legacy ``/process-v1`` base: its own host in the cloud, the console's elsewhere."""
    legacy = legacy_url
    if not legacy:
        host = urlparse(console_url).hostname or ""
        legacy = CLOUD_LEGACY_URL if host.endswith("robocorp.com") else console_url
    legacy = legacy.rstrip("/")
    return legacy if legacy.endswith("/process-v1") else legacy + "/process-v1"


class ControlRoomClient(BaseClient):
    """Typed calls to one Control Room workspace with a workspace API key (``RC-WSKEY``)."""

    profile = CONTROLROOM

    def __init__(
        self,
        workspace_id: str | None = None,
        api_key: Credential = None,
        *,
        url: str | None = None,
        api: str | None = None,
        legacy_url: str | None = None,
        organization: str | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        **common: Unpack[CommonSettings],
    ) -> None:
        super().__init__(settings_of(locals()), session=session, retry=retry)
        self.workspace_id = self.settings.require("workspace_id")
        chosen = (self.settings.text("api") or "current").lower()
        if chosen not in ("current", "legacy"):
            raise ConfigurationError(f"Unknown Control Room API {chosen!r}.", hint="Use api=current or api=legacy.")
        self.api = chosen
        self.console_url = self.url
        self.legacy_base = _legacy_base(self.url, self.settings.text("legacy_url"))
        self.organization = self.settings.text("organization")
        self._processes: dict[str, str] | None = None  # name -> id
        self._process_names: dict[str, str] = {}  # id -> name
        self._run_process: dict[str, str] = {}  # run id -> process id (the legacy API needs both)
        self.last_wait: dict[str, Any] = {}

    def trusted_origins(self) -> Sequence[str]:
        # The legacy API lives on its own host in the cloud (api.eu1.robocorp.com).
        return (_legacy_base(self.url, self.settings.text("legacy_url")),)

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def workspace_path(self) -> str:
        return f"/workspaces/{self.workspace_id}"

    def _legacy(self, path: str) -> str:
        return f"{self.legacy_base}/workspaces/{self.workspace_id}{path}"

    def _call(self, method: str, path: str, permission: str, **kwargs: Any) -> Any:
        try:
            response = self.transport.request(method, path, **kwargs)
        except PermissionDenied as error:
            raise PermissionDenied(
                error.message,
                vendor=error.vendor,
                method=error.method,
                path=error.path,
                status=error.status,
                vendor_message=error.vendor_message,
                hint=self._permission_hint(PERMISSIONS[permission], error.vendor_message),
                details=error.details,
            ) from None
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"expected JSON, got {response.headers.get('Content-Type', 'no content type')}.",
                vendor=self.vendor,
                method=method,
                path=path.split("?", 1)[0],
                status=response.status_code,
                hint="Check CONTROLROOM_URL: it may not point at the API.",
            )

    def _permission_hint(self, permission: str, vendor_message: str) -> str:
        if "workspace" in vendor_message.lower() and "not valid" in vendor_message.lower():
            return (
                f"The API key belongs to another workspace: create one in workspace {self.workspace_id} "
                "or set CONTROLROOM_WORKSPACE_ID to the key's workspace."
            )
        return (
            f"The API key probably lacks the '{permission}' permission: add it to the key in Control Room "
            "(workspace > API keys) or use a key that has it."
        )

    def _pages(
        self, path: str, params: dict[str, Any], permission: str, limit: int | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]:
        """Items of a ``{"data", "has_more", "next"}`` listing, fetching the next page only when needed."""
        size = page_size or (min(limit, 100) if limit else 100)
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query["limit"] = size

        def fetch(next_url: Any) -> Page[dict[str, Any]]:
            body = (
                self._call("GET", next_url, permission)
                if next_url
                else self._call("GET", path, permission, params=query)
            )
            items = list(body.get("data") or [])
            return Page(items, body.get("next") if body.get("has_more") else None)

        return paginate(fetch, None, limit)

    # -- processes -----------------------------------------------------------------------------------
    def list_processes(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        if self.api == "legacy":
            body = self._call("GET", self._legacy("/processes"), "processes")
            rows: Iterable[dict[str, Any]] = body.get("data") or []
            for row in list(rows)[:limit] if limit else rows:
                self._process_names[str(row["id"])] = str(row.get("name", ""))
                yield row
            return
        for row in self._pages(self.workspace_path + "/processes", {}, "processes", limit, None):
            self._process_names[str(row["id"])] = str(row.get("name", ""))
            yield row

    def process_id_by_name(self, name: str) -> str | None:
        if self._processes is None or name not in self._processes:
            self._processes = {str(p.get("name")): str(p["id"]) for p in self.list_processes()}
        return self._processes.get(name)

    def resolve_process(self, process: str | None) -> str:
        """A process id from an id or a name (names are looked up once per client)."""
        if not process:
            raise ConfigurationError(
                "No process given.", hint="Pass the process id or name, e.g. process=Invoice Processing."
            )
        process = str(process)
        if _UUID.match(process) or process in self._process_names:
            return process
        found = self.process_id_by_name(process)
        if found:
            return found
        if process in self._process_names:
            return process
        known = ", ".join(sorted(self._processes or {})) or "none"
        raise NotFound(
            f"No process named {process!r} in workspace {self.workspace_id}.",
            vendor=self.vendor,
            hint=f"Known processes: {known}.",
        )

    # -- runs ----------------------------------------------------------------------------------------
    def _normalise_run(self, raw: dict[str, Any], process_id: str | None = None) -> dict[str, Any]:
        if self.api == "current":
            run = dict(raw)
        else:
            pid = str(raw.get("processId") or process_id or "")
            run = {
                "id": raw.get("id"),
                "state": _legacy_run_state(raw),
                "created_at": raw.get("createTs"),
                "started_at": raw.get("startTs"),
                "ended_at": raw.get("endTs"),
                "process": {"id": pid, "name": self._process_names.get(pid, "")},
                "duration": raw.get("duration"),
                "number": raw.get("runNo"),
                "result": raw.get("result"),
                "error_code": raw.get("errorCode"),
                "legacy": raw,
            }
        pid = str((run.get("process") or {}).get("id") or process_id or "")
        if run.get("id") and pid:
            self._run_process[str(run["id"])] = str(pid)
            if (run.get("process") or {}).get("name"):
                self._process_names[str(pid)] = str(run["process"]["name"])
        return run

    def _process_of_run(self, run_id: str, process: str | None) -> str:
        if process:
            return self.resolve_process(process)
        if run_id in self._run_process:
            return self._run_process[run_id]
        raise ConfigurationError(
            f"The legacy API needs the process of run {run_id}.",
            hint="Pass process=<process id or name>, or use api=current.",
        )

    def _start(self, process_id: str, body: Any) -> list[str]:
        """POST a run request; the run ids it started (legacy batch starts several)."""
        if self.api == "current":
            answer = self._call(
                "POST", f"{self.workspace_path}/processes/{process_id}/process-runs", "trigger", json=body
            )
            if isinstance(answer, dict) and answer.get("started") is False:
                raise ValidationError(
                    "Control Room started no run: the process has no input work items waiting.",
                    vendor=self.vendor,
                    hint="Pass a payload or work item ids.",
                )
            return [str(answer["id"])]
        answer = self._call(
            "POST", self._legacy(f"/processes/{process_id}/{body['endpoint']}"), "trigger", json=body["json"]
        )
        rows = answer if isinstance(answer, list) else [answer]
        return [str(row["id"]) for row in rows]

    def trigger_run(self, process: str, payload: Any = None) -> dict[str, Any]:
        """Start one run whose single input work item carries ``payload`` (an empty one when None)."""
        pid = self.resolve_process(process)
        if self.api == "current":
            body = {"type": "with_payloads", "payloads": [payload if payload is not None else {}]}
        else:
            body = {"endpoint": "runs", "json": payload if payload is not None else {}}
        (run_id,) = self._start(pid, body)
        self._run_process[run_id] = pid
        return self.get_run(run_id, pid)

    def trigger_runs(self, process: str, payloads: Sequence[Any]) -> list[dict[str, Any]]:
        """One run per payload (the legacy API does it in one ``runs-batch`` call)."""
        pid = self.resolve_process(process)
        if not payloads:
            return []
        if self.api == "legacy":
            run_ids = self._start(pid, {"endpoint": "runs-batch", "json": list(payloads)})
        else:
            run_ids = [self._start(pid, {"type": "with_payloads", "payloads": [p]})[0] for p in payloads]
        for run_id in run_ids:
            self._run_process[run_id] = pid
        return [self.get_run(run_id, pid) for run_id in run_ids]

    def trigger_run_with_work_items(self, process: str, work_item_ids: Sequence[str]) -> dict[str, Any]:
        pid = self.resolve_process(process)
        ids = [str(i) for i in work_item_ids]
        if not ids:
            raise ValidationError(
                "No work item ids given.", vendor=self.vendor, hint="Create them with Create Work Item first."
            )
        if self.api == "current":
            body: dict[str, Any] = {"type": "with_item_ids", "work_item_ids": ids}
        else:
            body = {"endpoint": "run-request", "json": {"type": "workItemIds", "workItemIds": ids}}
        (run_id,) = self._start(pid, body)
        self._run_process[run_id] = pid
        return self.get_run(run_id, pid)

    def get_run(self, run_id: str, process: str | None = None) -> dict[str, Any]:
        if self.api == "current":
            return self._normalise_run(self._call("GET", f"{self.workspace_path}/process-runs/{run_id}", "runs"))
        pid = self._process_of_run(run_id, process)
        return self._normalise_run(self._call("GET", self._legacy(f"/processes/{pid}/runs/{run_id}"), "runs"), pid)

    def _check_state(self, state: str | None, known: Sequence[str], what: str) -> None:
        """Refuse an unknown state filter before sending: the API would silently return nothing."""
        if state and state not in known:
            raise ValidationError(
                f"Unknown {what} state {state!r}.", vendor=self.vendor, hint=f"Use one of {', '.join(known)}."
            )

    def list_runs(
        self,
        process: str | None = None,
        state: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        self._check_state(state, RUN_STATES, "run")
        pid = self.resolve_process(process) if process else None
        if self.api == "current":
            for row in self._pages(
                f"{self.workspace_path}/process-runs",
                {"process_id": pid, "state": state},
                "runs",
                limit,
                page_size,
            ):
                yield self._normalise_run(row)
            return
        # The legacy API neither pages nor filters by state: ask for enough and filter here.
        count = limit if limit and not state else 1000
        path = f"/processes/{pid}/runs" if pid else "/pruns"
        body = self._call("GET", self._legacy(path), "runs", params={"limit": count})
        rows = (body.get("data") if isinstance(body, dict) else body) or []
        yield from _filtered((self._normalise_run(row, pid) for row in rows), state, limit)

    def stop_run(
        self,
        run_id: str,
        reason: str = "",
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing: bool = False,
    ) -> dict[str, Any]:
        if self.api == "legacy":
            raise ConfigurationError(
                "The legacy process-v1 API cannot stop runs.", hint="Connect with api=current to stop a run."
            )
        body: dict[str, Any] = {
            "set_remaining_work_items_as_done": bool(set_remaining_work_items_as_done),
            "terminate_ongoing_activity_runs": bool(terminate_ongoing),
        }
        if reason:
            body["reason"] = reason
        answer = self._call("POST", f"{self.workspace_path}/process-runs/{run_id}/stop", "stop", json=body)
        return self._normalise_run(answer) if isinstance(answer, dict) and answer.get("state") else self.get_run(run_id)

    def run_link(self, run_id: str) -> str:
        org = f"{self.organization}/" if self.organization else ""
        return f"{self.console_url}/{org}{self.workspace_id}/processes/runs/{run_id}"

    def wait_for_run(
        self,
        run_id: str,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        process: str | None = None,
        fail_on_unresolved: bool = True,
    ) -> dict[str, Any]:
        """Poll until the run is completed or unresolved, sleeping ``poll_interval * backoff**n`` (capped)."""
        return self.wait_for_runs([run_id], timeout, poll_interval, max_interval, backoff, process, fail_on_unresolved)[
            0
        ]

    def wait_for_runs(
        self,
        run_ids: Sequence[str],
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        process: str | None = None,
        fail_on_unresolved: bool = True,
    ) -> list[dict[str, Any]]:
        """Wait for several runs with one shared back-off; the finished runs in the order given."""
        if poll_interval <= 0 or backoff < 1 or max_interval < poll_interval:
            raise ConfigurationError(
                "Invalid polling settings.",
                hint="Use poll_interval > 0, backoff >= 1 and max_interval >= poll_interval.",
            )
        ids = [str(r) for r in run_ids]
        started = time.monotonic()
        deadline = started + float(timeout)
        interval = float(poll_interval)
        runs: dict[str, dict[str, Any]] = {}
        calls = 0
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
                    f"{timeout:g} s{self._step_summary(run)}; see {self.run_link(run['id'])}"
                    + (f" ({len(pending)} of {len(ids)} runs unfinished)." if len(ids) > 1 else "."),
                    run,
                    vendor=self.vendor,
                )
            time.sleep(min(interval, max(0.0, deadline - now)))
            interval = min(interval * backoff, float(max_interval))
        finished = [runs[r] for r in ids]
        if fail_on_unresolved:
            for run in finished:
                if run["state"] == "unresolved":
                    raise ProcessRunFailed(
                        f"Process run {run['id']} of {self._run_label(run)} ended unresolved"
                        f"{self._step_summary(run)}; see {self.run_link(run['id'])}.",
                        run,
                        vendor=self.vendor,
                    )
        return finished

    def _run_label(self, run: Mapping[str, Any]) -> str:
        process = run.get("process") or {}
        name = process.get("name") or self._process_names.get(str(process.get("id")), "")
        return f"process {name!r}" if name else f"process {process.get('id')}"

    def _step_summary(self, run: Mapping[str, Any]) -> str:
        """`: step 'X' failed (CODE: message)` for the step that went wrong, or the one in progress."""
        try:
            steps = self.list_step_runs(str(run["id"]))
        except ConnectorError:
            return ""
        bad = [s for s in steps if s.get("state") in ("failed", "terminated")]
        if bad:
            step = bad[-1]
            error = step.get("error") or {}
            detail = ": ".join(str(v) for v in (error.get("code"), error.get("message")) if v)
            return f": step {self._step_name(step)!r} {step['state']}" + (f" ({detail})" if detail else "")
        running = [s for s in steps if s.get("state") == "in_progress"]
        if running:
            return f": step {self._step_name(running[-1])!r} in progress"
        if run.get("state") == "unresolved":
            failed = list(
                self.list_work_items(
                    run_id=str(run["id"]),
                    state="failed",
                    process=str((run.get("process") or {}).get("id") or "") or None,
                )
            )
            if failed:
                exc = failed[0].get("exception") or {}
                return (
                    f": {len(failed)} work item(s) failed ({exc.get('type', 'ERROR')} {exc.get('code', '')}: "
                    f"{exc.get('message', '')})"
                ).replace(" :", ":")
        return ""

    @staticmethod
    def _step_name(step: Mapping[str, Any]) -> str:
        return str((step.get("step") or {}).get("name") or step.get("id"))

    # -- step runs and artifacts ---------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process: str | None = None) -> list[dict[str, Any]]:
        if self.api == "current":
            return list(self._pages(f"{self.workspace_path}/step-runs", {"process_run_id": run_id}, "runs", None, None))
        pid = self._process_of_run(run_id, process)
        body = self._call("GET", self._legacy(f"/processes/{pid}/runs/{run_id}/robotRuns"), "runs")
        rows = body.get("data") if isinstance(body, dict) else body
        steps = []
        for raw in rows or []:
            state = str(raw.get("state", "")).upper()
            result = str(raw.get("result") or "").lower()
            steps.append(
                {
                    "id": raw.get("id"),
                    "state": "in_progress" if state != "COMPL" else ("completed" if result == "ok" else "failed"),
                    "step": {"name": raw.get("activityName"), "index": (raw.get("stepNo") or 1) - 1},
                    "process_run": {"id": run_id},
                    "started_at": raw.get("startTs"),
                    "ended_at": raw.get("endTs"),
                    "duration": raw.get("duration"),
                    "error": {"code": raw.get("errorCode"), "message": ""} if raw.get("errorCode") else None,
                    "legacy": raw,
                }
            )
        return steps

    def list_artifacts(
        self, run_id: str, step_run_id: str | None = None, process: str | None = None
    ) -> list[dict[str, Any]]:
        """Artifacts of one step run, or of every step run of the run (each with its ``step_run_id``)."""
        step_ids = [step_run_id] if step_run_id else [str(s["id"]) for s in self.list_step_runs(run_id, process)]
        artifacts: list[dict[str, Any]] = []
        for sid in step_ids:
            if self.api == "current":
                rows = list(
                    self._pages(f"{self.workspace_path}/step-runs/{sid}/artifacts", {}, "artifacts", None, None)
                )
            else:
                pid = self._process_of_run(run_id, process)
                raw = self._call(
                    "GET",
                    self._legacy(f"/processes/{pid}/runs/{run_id}/robotRuns/{sid}/artifacts"),
                    "artifacts",
                )
                rows = [
                    {"id": a["id"], "file_name": a.get("fileName"), "file_size": a.get("fileSize")} for a in raw or []
                ]
            artifacts.extend(dict(row, step_run_id=sid, process_run_id=run_id) for row in rows)
        return artifacts

    def _artifact_url(self, artifact: Mapping[str, Any], process: str | None = None) -> str:
        sid, run_id = str(artifact["step_run_id"]), str(artifact["process_run_id"])
        if self.api == "current":
            body = self._call("GET", f"{self.workspace_path}/step-runs/{sid}/artifacts/{artifact['id']}", "artifacts")
            url = str(body["url"])
        else:
            pid = self._process_of_run(run_id, process)
            url = str(
                self._call(
                    "GET",
                    self._legacy(
                        f"/processes/{pid}/runs/{run_id}/robotRuns/{sid}/artifacts/{artifact['id']}/{artifact['file_name']}"
                    ),
                    "artifacts",
                )
            )
        # A pre-signed URL is a bearer credential until it expires: keep it out of every log.
        query = urlparse(url).query
        if query:
            redactor.register(query)
        return url

    def download_artifacts(
        self,
        run_id: str,
        folder: str | Path,
        pattern: str = "*",
        process: str | None = None,
        step_run_id: str | None = None,
    ) -> list[Path]:
        """Download the run's artifacts whose file name matches ``pattern`` (``fnmatch``) into ``folder``."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        for artifact in self.list_artifacts(run_id, step_run_id, process):
            name = Path(str(artifact["file_name"])).name
            if not fnmatch.fnmatch(name, pattern):
                continue
            url = self._artifact_url(artifact, process)
            # Storage, not the API: no RC-WSKEY header (it would leak the key to a third party), no throttle.
            try:
                response = self.transport.request("GET", url, authenticate=False, throttle=False)
            except PermissionDenied as error:
                raise PermissionDenied(
                    error.message,
                    vendor=self.vendor,
                    method="GET",
                    path=error.path,
                    status=error.status,
                    vendor_message=error.vendor_message,
                    hint="The storage refused the pre-signed link (it expires quickly); "
                    "download again to get a fresh one.",
                ) from None
            path = target / name
            if path.exists() and path in saved:
                path = target / f"{artifact['step_run_id']}-{name}"
            path.write_bytes(response.content)
            saved.append(path)
        return saved

    # -- work items ----------------------------------------------------------------------------------
    def _normalise_item(self, raw: dict[str, Any], process_id: str | None = None) -> dict[str, Any]:
        if self.api == "current":
            return dict(raw)
        pid = str(raw.get("processId") or process_id or "")
        item = {
            "id": raw.get("id"),
            "state": _LEGACY_ITEM_STATES.get(str(raw.get("state", "")).upper(), str(raw.get("state", "")).lower()),
            "process": {"id": pid, "name": self._process_names.get(pid, "")},
            "process_run": {"id": raw["processRunId"]} if raw.get("processRunId") else None,
            "step_run": {"id": raw["activityRunId"]} if raw.get("activityRunId") else None,
            "created_at": raw.get("createTs"),
            "exception": raw.get("exception"),
            "files": [
                {"id": f.get("id"), "name": f.get("fileName"), "size": f.get("fileSize")}
                for f in raw.get("files") or []
            ],
            "legacy": raw,
        }
        if "payload" in raw:
            item["payload"] = raw["payload"]
        return item

    def create_work_item(self, process: str, payload: Any = None, files: Sequence[str | Path] = ()) -> dict[str, Any]:
        """An input work item waiting in the process's queue, with files uploaded through storage."""
        pid = self.resolve_process(process)
        paths = [Path(f) for f in files]
        for path in paths:
            if not path.is_file():
                raise ValidationError(f"File {path} does not exist.", vendor=self.vendor, hint="Check the path.")
        if self.api == "current":
            item = self._call(
                "POST",
                f"{self.workspace_path}/work-items",
                "write_items",
                json={"process": {"id": pid}, "payload": payload if payload is not None else {}},
            )
            item_id = str(item["id"])
        else:
            answer = self._call(
                "POST",
                self._legacy(f"/processes/{pid}/work-items"),
                "write_items",
                json={"payload": payload if payload is not None else {}},
            )
            item_id = str(answer["id"])
        for path in paths:
            self._upload(pid, item_id, path)
        return self.get_work_item(item_id, pid)

    def _upload(self, process_id: str, item_id: str, path: Path) -> None:
        size = path.stat().st_size
        if self.api == "current":
            slot = self._call(
                "POST",
                f"{self.workspace_path}/work-items/{item_id}/files/upload",
                "write_items",
                json={"file_name": path.name, "file_size": size},
            )
        else:
            slot = self._call(
                "POST",
                self._legacy(f"/processes/{process_id}/work-items/{item_id}/files/upload"),
                "write_items",
                json={"fileName": path.name, "fileSize": size},
            )
        fields = {str(k): str(v) for k, v in (slot.get("fields") or {}).items()}
        redactor.register(*(v for k, v in fields.items() if k.lower() not in ("key",)))
        with path.open("rb") as handle:
            self.transport.request(
                "POST",
                str(slot["url"]),
                data=fields,
                files={"file": (path.name, handle)},
                authenticate=False,
                throttle=False,
                idempotent=False,
            )

    def get_work_item(self, item_id: str, process: str | None = None, include_data: bool = True) -> dict[str, Any]:
        if self.api == "current":
            return self._normalise_item(self._call("GET", f"{self.workspace_path}/work-items/{item_id}", "items"))
        if not process:
            raise ConfigurationError(
                "The legacy API needs the process of the work item.",
                hint="Pass process=<process id or name>, or use api=current.",
            )
        pid = self.resolve_process(process)
        raw = self._call(
            "GET",
            self._legacy(f"/processes/{pid}/work-items/{item_id}"),
            "items",
            params={"includeData": str(include_data).lower()},
        )
        return self._normalise_item(raw, pid)

    def list_work_items(
        self,
        process: str | None = None,
        run_id: str | None = None,
        state: str | None = None,
        include_data: bool = False,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        self._check_state(state, WORK_ITEM_STATES, "work item")
        pid = self.resolve_process(process) if process else None
        if self.api == "current":
            params = {
                "process_id": pid,
                "process_run_id": run_id,
                "state": state,
                "include_data": "true" if include_data else None,
            }
            for row in self._pages(f"{self.workspace_path}/work-items", params, "items", limit, page_size):
                yield self._normalise_item(row)
            return
        if run_id:
            pid = pid or self._process_of_run(run_id, None)
            path = f"/processes/{pid}/runs/{run_id}/work-items"
        elif pid:
            path = f"/processes/{pid}/work-items"
        else:
            raise ConfigurationError(
                "The legacy API lists work items per process.",
                hint="Pass process=<process id or name>, or use api=current.",
            )
        body = self._call("GET", self._legacy(path), "items", params={"includeData": str(include_data).lower()})
        yield from _filtered((self._normalise_item(raw, pid) for raw in body.get("data") or []), state, limit)

    def retry_work_items(self, item_ids: Sequence[str], process: str | None = None) -> list[str]:
        ids = [str(i) for i in item_ids]
        if not ids:
            return []
        if self.api == "current":
            self._call(
                "POST",
                f"{self.workspace_path}/work-items/batch",
                "write_items",
                json={"batch_operation": "retry", "work_item_ids": ids},
            )
            return ids
        if not process:
            raise ConfigurationError(
                "The legacy API needs the process of the work items.",
                hint="Pass process=<process id or name>, or use api=current.",
            )
        pid = self.resolve_process(process)
        for item_id in ids:
            self._call("POST", self._legacy(f"/processes/{pid}/work-items/{item_id}/retry"), "write_items")
        return ids

    # -- webhooks ------------------------------------------------------------------------------------
    @staticmethod
    def verify_webhook(body: str | bytes, signature: str | None, secret: Any = None) -> dict[str, Any]:
        """Check ``x-rc-signature`` (hex HMAC-SHA256 of the raw body) and return the parsed event."""
        key = secret_value(secret) or env("CONTROLROOM_WEBHOOK_SECRET")
        key = require(key, "The Control Room webhook secret", "CONTROLROOM_WEBHOOK_SECRET")
        verify_body(key, body, signature)
        try:
            event = json.loads(body)
        except ValueError:
            raise ValidationError("The webhook body is not JSON.", vendor="Control Room", hint="Reject the delivery.")
        return event if isinstance(event, dict) else {"payload": event}
