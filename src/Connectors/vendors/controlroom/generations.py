"""Control Room's two API generations behind one typed interface (``ApiGeneration``).

``CurrentApi`` speaks ``/api/v1`` operation by operation from the spec's generated table (``operations.py``):
the method, the path, the query parameters a call may send and the permission a 403 names all come from
there. ``LegacyApi`` speaks the deprecated ``/process-v1`` API (what ``RPA.Robocorp.Process`` uses; no spec,
so its paths are written here) and translates its answers to the current shapes: run ``state`` ``COMPL``
with ``result`` ``err`` becomes ``unresolved``, camelCase becomes the spec's snake_case, and each translated
answer keeps the original under ``legacy``. The legacy API neither pages nor filters by state: both happen
here. Both send every request through ``Requests``: the core transport decodes the answer (or fails in one
line), and a 403 gets the hint of the operation's permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from Connectors.core import arguments
from Connectors.core.errors import ConfigurationError, PermissionDenied
from Connectors.core.paging import Page, paginate
from Connectors.core.paths import build, segment
from Connectors.core.transport import Transport
from Connectors.vendors.controlroom.model import Start, WorkItemQuery
from Connectors.vendors.controlroom.operations import OPERATIONS


@dataclass
class Memory:
    """What a client learnt about its workspace: process names by id, and each run's process (the legacy
    API needs the process of every run and work item; the current API's answers name it)."""

    process_names: dict[str, str] = field(default_factory=dict)
    run_process: dict[str, str] = field(default_factory=dict)


def permission_hint(operation: str, vendor_message: str, workspace_id: str) -> str:
    """What to do about a 403 of ``operation``: the spec's permission for it (legacy calls are named by their
    current-API equivalent), or a key of another workspace."""
    lowered = vendor_message.lower()
    if "workspace" in lowered and "not valid" in lowered:
        return (
            f"The API key belongs to another workspace: create one in workspace {workspace_id} "
            "or set CONTROLROOM_WORKSPACE_ID to the key's workspace."
        )
    scope = OPERATIONS.scope(operation)
    if not scope:
        return "Check the API key's permissions in Control Room (workspace > API keys)."
    return (
        f"The API key probably lacks the '{scope}' permission: add it to the key in Control Room "
        "(workspace > API keys) or use a key that has it."
    )


class Requests:
    """Every Control Room API request: decoded by the transport; a 403 explained by its operation."""

    def __init__(self, transport: Transport, workspace_id: str) -> None:
        self.transport = transport
        self.workspace_id = workspace_id

    def call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        try:
            return self.transport.request_json(method, path, **kwargs)
        except PermissionDenied as error:
            raise error.replace(hint=permission_hint(operation, error.vendor_message, self.workspace_id)) from None

    def pages(
        self,
        method: str,
        path: str,
        operation: str,
        query: Mapping[str, Any],
        limit: int | None,
    ) -> Iterator[dict[str, Any]]:
        """Items of a ``{"data", "has_more", "next"}`` listing, fetching the next page only when needed."""

        def fetch(next_url: Any) -> Page[dict[str, Any]]:
            if next_url:
                body = self.call(method, next_url, operation)
            else:
                body = self.call(method, path, operation, params=dict(query) or None)
            return Page(list(body.get("data") or []), body.get("next") if body.get("has_more") else None)

        return paginate(fetch, None, limit)


class ApiGeneration(Protocol):
    """What the client asks of an API generation; answers in the current API's shapes."""

    name: str

    def list_processes(self) -> list[dict[str, Any]]: ...

    def start(self, process_id: str, start: Start) -> list[str]: ...

    def get_run(self, run_id: str, process_id: str | None = None) -> dict[str, Any]: ...

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]: ...

    def list_step_runs(self, run_id: str, process_id: str | None = None) -> list[dict[str, Any]]: ...

    def list_artifacts(self, step_run_id: str, run_id: str, process_id: str | None) -> list[dict[str, Any]]: ...

    def artifact_url(self, artifact: dict[str, Any], process_id: str | None) -> str: ...

    def create_work_item(self, process_id: str, payload: Any) -> str: ...

    def upload_slot(self, process_id: str, item_id: str, name: str, size: int) -> tuple[str, dict[str, Any]]: ...

    def get_work_item(
        self, item_id: str, process_id: str | None = None, include_data: bool = True
    ) -> dict[str, Any]: ...

    def list_work_items(self, query: WorkItemQuery) -> Iterator[dict[str, Any]]: ...

    def batch(self, operation: str, item_ids: list[str], process_id: str | None = None) -> None: ...


def _given(value: Any, argument: str) -> Any:
    # The keyword's own name in a refusal (run_id, not the spec's process_run_id); the table encodes it.
    segment(value, argument)
    return value


class CurrentApi:
    """``/api/v1``, each call by the spec's operation id."""

    name = "current"

    def __init__(self, requests: Requests) -> None:
        self.requests = requests
        self.workspace_id = requests.workspace_id

    def call(self, operation_id: str, *, json: Any = None, **parameters: Any) -> Any:
        operation = OPERATIONS[operation_id]
        path, query = operation.split({"workspace_id": self.workspace_id, **parameters})
        return self.requests.call(operation.method, path, operation_id, params=query or None, json=json)

    def pages(
        self, operation_id: str, limit: int | None = None, page_size: int | None = None, **parameters: Any
    ) -> Iterator[dict[str, Any]]:
        """A paged listing; ``limit`` is sent as the page size where the spec lets the operation take one."""
        operation = OPERATIONS[operation_id]
        limit = arguments.limit(limit)
        size = None if page_size is None else arguments.whole_number(page_size, "page_size", minimum=1)
        values = {name: value for name, value in parameters.items() if value not in (None, "")}
        if "limit" in operation.query_names:
            values["limit"] = size or (min(limit, 100) if limit else 100)
        path, query = operation.split({"workspace_id": self.workspace_id, **values})
        return self.requests.pages(operation.method, path, operation_id, query, limit)

    # -- workspace and processes -----------------------------------------------------------------
    def get_workspace(self) -> dict[str, Any]:
        return dict(self.call("getWorkspace"))

    def list_processes(self) -> list[dict[str, Any]]:
        return list(self.call("listProcesses").get("data") or [])

    # -- runs -------------------------------------------------------------------------------------
    def start(self, process_id: str, start: Start) -> list[str]:
        """The run started (none when Control Room had no inputs waiting: ``started: false``)."""
        answer = self.call("startProcessRun", process_id=_given(process_id, "process"), json=start.body())
        return [str(answer["id"])] if answer.get("started") else []

    def get_run(self, run_id: str, process_id: str | None = None) -> dict[str, Any]:
        return dict(self.call("getProcessRun", process_run_id=_given(run_id, "run_id")))

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]:
        return self.pages("listProcessRuns", limit, page_size, process_id=process_id, state=state)

    def stop_run(self, run_id: str, body: dict[str, Any]) -> bool:
        return bool(self.call("stopProcessRun", process_run_id=_given(run_id, "run_id"), json=body)["accepted"])

    def delete_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.call("deleteProcessRun", process_run_id=_given(run_id, "run_id")))

    def list_outputs(self, run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        return self.pages("listProcessRunOutputs", limit, process_run_id=_given(run_id, "run_id"))

    # -- step runs ----------------------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process_id: str | None = None) -> list[dict[str, Any]]:
        return list(self.pages("listStepRuns", process_run_id=_given(run_id, "run_id")))

    def get_step_run(self, step_run_id: str) -> dict[str, Any]:
        return dict(self.call("getStepRun", step_run_id=_given(step_run_id, "step_run_id")))

    def list_artifacts(self, step_run_id: str, run_id: str, process_id: str | None) -> list[dict[str, Any]]:
        return list(self.pages("listStepRunArtifacts", step_run_id=_given(step_run_id, "step_run_id")))

    def artifact_url(self, artifact: dict[str, Any], process_id: str | None) -> str:
        answer = self.call(
            "getStepRunArtifact",
            step_run_id=_given(artifact["step_run_id"], "step_run_id"),
            artifact_id=_given(artifact["id"], "artifact_id"),
        )
        return str(answer["url"])

    def list_console_messages(self, step_run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        # The spec declares no ``limit`` here: the server's pages are followed as they come.
        return self.pages("listStepRunConsoleMessages", limit, step_run_id=_given(step_run_id, "step_run_id"))

    def list_step_run_events(self, step_run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        return self.pages("listStepRunEvents", limit, step_run_id=_given(step_run_id, "step_run_id"))

    # -- work items ---------------------------------------------------------------------------------
    def create_work_item(self, process_id: str, payload: Any) -> str:
        body = {"process": {"id": process_id}, "payload": payload}
        return str(self.call("createWorkItem", json=body)["id"])

    def upload_slot(self, process_id: str, item_id: str, name: str, size: int) -> tuple[str, dict[str, Any]]:
        body = {"file_name": name, "file_size": size}
        slot = self.call("createWorkItemFile", work_item_id=_given(item_id, "work_item_id"), json=body)
        return str(slot["url"]), dict(slot.get("form_data") or {})

    def get_work_item(self, item_id: str, process_id: str | None = None, include_data: bool = True) -> dict[str, Any]:
        return dict(self.call("getWorkItem", work_item_id=_given(item_id, "work_item_id")))

    def list_work_items(self, query: WorkItemQuery) -> Iterator[dict[str, Any]]:
        rows = self.pages(
            "listWorkItems",
            query.limit,
            query.page_size,
            process_id=query.process_id,
            process_run_id=query.run_id,
            state=query.state,
        )
        # The list has no payloads (WorkItemWithoutDataResource): with include_data each item is read.
        return (self.get_work_item(str(row["id"])) for row in rows) if query.include_data else rows

    def update_payload(self, item_id: str, payload: Any) -> Any:
        body = {"payload": payload}
        return self.call("updateWorkItemPayload", work_item_id=_given(item_id, "work_item_id"), json=body)["payload"]

    def batch(self, operation: str, item_ids: list[str], process_id: str | None = None) -> None:
        body = {"batch_operation": operation, "work_item_ids": item_ids}
        self.call("runWorkItemBatchOperation", json=body)

    # -- webhooks, assets, workers ------------------------------------------------------------------
    def create_webhook(self, process_id: str, endpoint: str, events: list[str]) -> dict[str, Any]:
        body = {"endpoint": endpoint, "enabled_events": events, "process": {"id": process_id}}
        return dict(self.call("createWebhook", json=body))

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self.call("listWebhooks").get("data") or [])

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        return dict(self.call("getWebhook", webhook_id=_given(webhook_id, "webhook_id")))

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return dict(self.call("deleteWebhook", webhook_id=_given(webhook_id, "webhook_id")))

    def list_assets(self) -> list[dict[str, Any]]:
        return list(self.call("listAssets").get("data") or [])

    def get_asset(self, ref: str) -> dict[str, Any]:
        return dict(self.call("getAsset", asset_id=_given(ref, "asset")))

    def create_asset(self, name: str) -> dict[str, Any]:
        return dict(self.call("createAsset", json={"name": name}))

    def delete_asset(self, ref: str) -> dict[str, Any]:
        return dict(self.call("deleteAsset", asset_id=_given(ref, "asset")))

    def create_asset_upload(self, asset_id: str, content_type: str, data: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"content_type": content_type}
        if data is not None:
            body["data"] = data
        return dict(self.call("createAssetUpload", asset_id=_given(asset_id, "asset_id"), json=body))

    def get_asset_upload(self, asset_id: str, upload_id: str) -> dict[str, Any]:
        return dict(
            self.call("getAssetUpload", asset_id=_given(asset_id, "asset_id"), upload_id=_given(upload_id, "upload_id"))
        )

    def list_workers(self, limit: int | None) -> Iterator[dict[str, Any]]:
        return self.pages("listWorkers", limit)


# -- the legacy /process-v1 API -----------------------------------------------------------------------
_ITEM_STATES = {
    "NEW": "new",
    "PENDING": "pending",
    "IN_PROGRESS": "in_progress",
    "COMPLETED": "done",
    "DONE": "done",
    "FAILED": "failed",
}


def legacy_run_state(raw: Mapping[str, Any]) -> str:
    state = str(raw.get("state") or "").upper()
    if state == "COMPL":
        return "completed" if str(raw.get("result") or "ok").lower() == "ok" else "unresolved"
    return {"INI": "new", "IND": "new", "IP": "in_progress"}.get(state, state.lower())


def filtered(rows: Iterable[dict[str, Any]], state: str | None, limit: int | None) -> Iterator[dict[str, Any]]:
    """Filter by state and stop at ``limit`` client-side."""
    produced = 0
    for row in rows:
        if state and row["state"] != state:
            continue
        yield row
        produced += 1
        if limit and produced >= limit:
            return


class LegacyApi:
    """``/process-v1`` under ``base`` (its own host in the cloud); operations named by their current equivalent."""

    name = "legacy"

    def __init__(self, requests: Requests, base: str, memory: Memory) -> None:
        self.requests = requests
        self.memory = memory
        self.prefix = base + build("workspaces", (requests.workspace_id, "workspace_id"))

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self.requests.call(method, self.prefix + path, operation, **kwargs)

    def _need(self, process_id: str | None, what: str) -> str:
        if not process_id:
            raise ConfigurationError(
                f"The legacy API needs the process of {what}.",
                hint="Pass process=<process id or name>, or use api=current.",
            )
        return process_id

    def list_processes(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/processes", "listProcesses").get("data") or [])

    # -- runs -------------------------------------------------------------------------------------
    def run(self, raw: dict[str, Any], process_id: str | None = None) -> dict[str, Any]:
        pid = str(raw.get("processId") or process_id or "")
        return {
            "id": raw.get("id"),
            "state": legacy_run_state(raw),
            "created_at": raw.get("createTs"),
            "started_at": raw.get("startTs"),
            "ended_at": raw.get("endTs"),
            "process": {"id": pid, "name": self.memory.process_names.get(pid, "")},
            "duration": raw.get("duration"),
            "legacy": raw,
        }

    def start(self, process_id: str, start: Start) -> list[str]:
        if start.callback:
            raise ConfigurationError("A run callback is part of the current API only.", hint="Use api=current.")
        payloads = start.fields.get("payloads") or []
        if start.kind is None:
            endpoint, body = "run-request", {"type": "default"}  # the process's default work item
        elif start.kind == "with_payloads" and len(payloads) == 1:
            endpoint, body = "runs", payloads[0]
        elif start.kind == "with_work_item_ids":
            endpoint, body = "run-request", {"type": "workItemIds", "workItemIds": start.fields["work_item_ids"]}
        else:
            what = "with the waiting input work items" if start.kind == "with_inputs" else "with several payloads"
            raise ConfigurationError(
                f"Starting one run {what} is part of the current API only.", hint="Connect with api=current."
            )
        return self._start(process_id, endpoint, body)

    def start_batch(self, process_id: str, payloads: list[Any]) -> list[str]:
        """One run per payload in one request (``runs-batch``, as ``RPA.Robocorp.Process`` starts a batch)."""
        return self._start(process_id, "runs-batch", payloads)

    def _start(self, process_id: str, endpoint: str, body: Any) -> list[str]:
        path = build("processes", (process_id, "process_id"), endpoint)
        answer = self._call("POST", path, "startProcessRun", json=body)
        rows = answer if isinstance(answer, list) else [answer]
        return [str(row["id"]) for row in rows]

    def get_run(self, run_id: str, process_id: str | None = None) -> dict[str, Any]:
        pid = self._need(process_id, f"run {run_id}")
        path = build("processes", (pid, "process_id"), "runs", (run_id, "run_id"))
        return self.run(self._call("GET", path, "getProcessRun"), pid)

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]:
        count = limit if limit and not state else 1000
        path = build("processes", (process_id, "process_id"), "runs") if process_id else "/pruns"
        body = self._call("GET", path, "listProcessRuns", params={"limit": count})
        rows = (body.get("data") if isinstance(body, dict) else body) or []
        return filtered((self.run(row, process_id) for row in rows), state, limit)

    # -- step runs ----------------------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process_id: str | None = None) -> list[dict[str, Any]]:
        pid = self._need(process_id, f"run {run_id}")
        path = build("processes", (pid, "process_id"), "runs", (run_id, "run_id"), "robotRuns")
        body = self._call("GET", path, "listStepRuns")
        rows = body.get("data") if isinstance(body, dict) else body
        steps = []
        for raw in rows or []:
            state = str(raw.get("state", "")).upper()
            result = str(raw.get("result") or "").lower()
            steps.append(
                {
                    "id": raw.get("id"),
                    "state": "in_progress" if state != "COMPL" else ("completed" if result == "ok" else "failed"),
                    "step": {"id": None, "name": raw.get("activityName")},
                    "started_at": raw.get("startTs"),
                    "ended_at": raw.get("endTs"),
                    "duration": raw.get("duration"),
                    "error": {"code": raw.get("errorCode")} if raw.get("errorCode") else None,
                    "legacy": raw,
                }
            )
        return steps

    def _artifacts_path(self, run_id: str, step_run_id: str, process_id: str | None) -> str:
        pid = self._need(process_id, f"run {run_id}")
        return build(
            "processes",
            (pid, "process_id"),
            "runs",
            (run_id, "run_id"),
            "robotRuns",
            (step_run_id, "step_run_id"),
            "artifacts",
        )

    def list_artifacts(self, step_run_id: str, run_id: str, process_id: str | None) -> list[dict[str, Any]]:
        raw = self._call("GET", self._artifacts_path(run_id, step_run_id, process_id), "listStepRunArtifacts")
        return [{"id": a["id"], "name": a.get("fileName"), "size": a.get("fileSize")} for a in raw or []]

    def artifact_url(self, artifact: dict[str, Any], process_id: str | None) -> str:
        folder = self._artifacts_path(str(artifact["process_run_id"]), artifact["step_run_id"], process_id)
        path = folder + "/" + segment(artifact["id"], "artifact_id")
        return str(self._call("GET", path + "/" + segment(artifact["name"], "artifact name"), "getStepRunArtifact"))

    # -- work items ---------------------------------------------------------------------------------
    def item(self, raw: dict[str, Any], process_id: str | None = None) -> dict[str, Any]:
        exception = raw.get("exception")
        if isinstance(exception, dict) and exception.get("type"):
            exception = dict(exception, type=str(exception["type"]).lower())
        item = {
            "id": raw.get("id"),
            "state": _ITEM_STATES.get(str(raw.get("state", "")).upper(), str(raw.get("state", "")).lower()),
            "created_at": raw.get("createTs"),
            "process": {"id": str(raw.get("processId") or process_id or "")},
            "process_run": {"id": raw["processRunId"]} if raw.get("processRunId") else None,
            "step_run": {"id": raw["activityRunId"]} if raw.get("activityRunId") else None,
            "exception": exception,
            "legacy": raw,
        }
        if "payload" in raw:
            item["payload"] = raw["payload"]
            item["files"] = [
                {"id": f.get("id"), "name": f.get("fileName"), "size": f.get("fileSize")}
                for f in raw.get("files") or []
            ]
        return item

    def create_work_item(self, process_id: str, payload: Any) -> str:
        path = build("processes", (process_id, "process_id"), "work-items")
        return str(self._call("POST", path, "createWorkItem", json={"payload": payload})["id"])

    def upload_slot(self, process_id: str, item_id: str, name: str, size: int) -> tuple[str, dict[str, Any]]:
        path = build(
            "processes", (process_id, "process_id"), "work-items", (item_id, "work_item_id"), "files", "upload"
        )
        slot = self._call("POST", path, "createWorkItemFile", json={"fileName": name, "fileSize": size})
        return str(slot["url"]), dict(slot.get("fields") or {})

    def get_work_item(self, item_id: str, process_id: str | None = None, include_data: bool = True) -> dict[str, Any]:
        pid = self._need(process_id, "the work item")
        path = build("processes", (pid, "process_id"), "work-items", (item_id, "work_item_id"))
        raw = self._call("GET", path, "getWorkItem", params={"includeData": str(include_data).lower()})
        return self.item(raw, pid)

    def list_work_items(self, query: WorkItemQuery) -> Iterator[dict[str, Any]]:
        run_id = query.run_id
        if run_id:
            pid = self._need(query.process_id or self.memory.run_process.get(run_id), f"run {run_id}")
            path = build("processes", (pid, "process_id"), "runs", (run_id, "run_id"), "work-items")
        else:
            pid = self._need(query.process_id, "the work items")
            path = build("processes", (pid, "process_id"), "work-items")
        body = self._call("GET", path, "listWorkItems", params={"includeData": str(query.include_data).lower()})
        return filtered((self.item(raw, pid) for raw in body.get("data") or []), query.state, query.limit)

    def batch(self, operation: str, item_ids: list[str], process_id: str | None = None) -> None:
        if operation != "retry":
            raise ConfigurationError(
                f"The legacy API cannot {operation.replace('_', ' ')} work items.",
                hint="Connect with api=current for batch operations other than retry.",
            )
        pid = self._need(process_id, "the work items")
        for item_id in item_ids:
            path = build("processes", (pid, "process_id"), "work-items", (item_id, "work_item_id"), "retry")
            self._call("POST", path, "runWorkItemBatchOperation")
