"""The legacy ``/process-v1`` API (what ``RPA.Robocorp.Process`` speaks), answers translated to the current shapes.

Run ``state`` ``COMPL`` with ``result`` ``err`` becomes ``unresolved``, camelCase becomes the spec's
snake_case, and each translated answer keeps the original under ``legacy``. The legacy API neither pages
nor filters by state: both happen here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from Connectors.core.errors import ConfigurationError
from Connectors.core.paths import build, segment
from Connectors.vendors.controlroom.current import Generation

if TYPE_CHECKING:
    from Connectors.vendors.controlroom.client import ControlRoomClient
    from Connectors.vendors.controlroom.items import WorkItemQuery

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


class LegacyApi(Generation):
    name = "legacy"

    def __init__(self, client: ControlRoomClient) -> None:
        super().__init__(client, client.legacy_base + build("workspaces", (client.workspace_id, "workspace_id")))

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
            "process": {"id": pid, "name": self.client.process_names.get(pid, "")},
            "duration": raw.get("duration"),
            "legacy": raw,
        }

    def start_legacy(self, process_id: str, endpoint: str, body: Any) -> list[str]:
        answer = self._call(
            "POST", build("processes", (process_id, "process_id"), endpoint), "startProcessRun", json=body
        )
        rows = answer if isinstance(answer, list) else [answer]
        return [str(row["id"]) for row in rows]

    def get_run(self, run_id: str, process_id: str | None = None) -> dict[str, Any]:
        pid = self._need(process_id, f"run {run_id}")
        return self.run(
            self._call("GET", build("processes", (pid, "process_id"), "runs", (run_id, "run_id")), "getProcessRun"), pid
        )

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
        body = self._call(
            "GET", build("processes", (pid, "process_id"), "runs", (run_id, "run_id"), "robotRuns"), "listStepRuns"
        )
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
        answer = self._call(
            "POST",
            build("processes", (process_id, "process_id"), "work-items"),
            "createWorkItem",
            json={"payload": payload},
        )
        return str(answer["id"])

    def upload_slot(self, process_id: str, item_id: str, name: str, size: int) -> tuple[str, dict[str, Any]]:
        path = build(
            "processes", (process_id, "process_id"), "work-items", (item_id, "work_item_id"), "files", "upload"
        )
        slot = self._call("POST", path, "createWorkItemFile", json={"fileName": name, "fileSize": size})
        return str(slot["url"]), dict(slot.get("fields") or {})

    def get_work_item(self, item_id: str, process_id: str | None = None, include_data: bool = True) -> dict[str, Any]:
        pid = self._need(process_id, "the work item")
        params = {"includeData": str(include_data).lower()}
        return self.item(
            self._call(
                "GET",
                build("processes", (pid, "process_id"), "work-items", (item_id, "work_item_id")),
                "getWorkItem",
                params=params,
            ),
            pid,
        )

    def list_work_items(self, query: WorkItemQuery) -> Iterator[dict[str, Any]]:
        run_id = query.run_id
        if run_id:
            pid = self._need(query.process_id or self.client.run_process.get(run_id), f"run {run_id}")
            path = build("processes", (pid, "process_id"), "runs", (run_id, "run_id"), "work-items")
        else:
            pid = self._need(query.process_id, "the work items")
            path = build("processes", (pid, "process_id"), "work-items")
        params = {"includeData": str(query.include_data).lower()}
        body = self._call("GET", path, "listWorkItems", params=params)
        return filtered((self.item(raw, pid) for raw in body.get("data") or []), query.state, query.limit)

    def batch(self, operation: str, item_ids: list[str], process_id: str | None = None) -> None:
        if operation != "retry":
            raise ConfigurationError(
                f"The legacy API cannot {operation.replace('_', ' ')} work items.",
                hint="Connect with api=current for batch operations other than retry.",
            )
        pid = self._need(process_id, "the work items")
        for item_id in item_ids:
            self._call(
                "POST",
                build("processes", (pid, "process_id"), "work-items", (item_id, "work_item_id"), "retry"),
                "runWorkItemBatchOperation",
            )
