"""The current API (``/api/v1``), operation by operation as the spec has them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from Connectors.core.paths import build

if TYPE_CHECKING:
    from Connectors.vendors.controlroom.client import ControlRoomClient
    from Connectors.vendors.controlroom.items import WorkItemQuery


class Generation:
    """One API generation: paths under ``prefix``, every call through the client's one hook."""

    def __init__(self, client: ControlRoomClient, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self.client._call(method, self.prefix + path, operation, **kwargs)


class CurrentApi(Generation):
    name = "current"

    def __init__(self, client: ControlRoomClient) -> None:
        super().__init__(client, build("workspaces", (client.workspace_id, "workspace_id")))

    def _pages(
        self, path: str, operation: str, params: dict[str, Any] | None = None, limit: int | None = None, **kw: Any
    ) -> Iterator[dict[str, Any]]:
        return self.client._pages(self.prefix + path, operation, params or {}, limit, **kw)

    # -- workspace and processes -----------------------------------------------------------------
    def get_workspace(self) -> dict[str, Any]:
        return dict(self._call("GET", "", "getWorkspace"))

    def list_processes(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/processes", "listProcesses").get("data") or [])

    # -- runs -------------------------------------------------------------------------------------
    def start(self, process_id: str, body: dict[str, Any] | None) -> str | None:
        """POST a start request; the run id, or None when Control Room started none (``started: false``)."""
        answer = self._call(
            "POST", build("processes", (process_id, "process_id"), "process-runs"), "startProcessRun", json=body
        )
        return str(answer["id"]) if answer.get("started") else None

    def get_run(self, run_id: str, process_id: str | None = None) -> dict[str, Any]:
        return dict(self._call("GET", build("process-runs", (run_id, "run_id")), "getProcessRun"))

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]:
        params = {"process_id": process_id, "state": state}
        return self._pages("/process-runs", "listProcessRuns", params, limit, page_size=page_size)

    def stop_run(self, run_id: str, body: dict[str, Any]) -> bool:
        return bool(
            self._call("POST", build("process-runs", (run_id, "run_id"), "stop"), "stopProcessRun", json=body)[
                "accepted"
            ]
        )

    def delete_run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", build("process-runs", (run_id, "run_id")), "deleteProcessRun"))

    def list_outputs(self, run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        return self._pages(build("process-runs", (run_id, "run_id"), "outputs"), "listProcessRunOutputs", {}, limit)

    # -- step runs ----------------------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process_id: str | None = None) -> list[dict[str, Any]]:
        return list(self._pages("/step-runs", "listStepRuns", {"process_run_id": run_id}))

    def get_step_run(self, step_run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", build("step-runs", (step_run_id, "step_run_id")), "getStepRun"))

    def list_artifacts(self, step_run_id: str, run_id: str, process_id: str | None) -> list[dict[str, Any]]:
        return list(self._pages(build("step-runs", (step_run_id, "step_run_id"), "artifacts"), "listStepRunArtifacts"))

    def artifact_url(self, artifact: dict[str, Any], process_id: str | None) -> str:
        path = build(
            "step-runs", (artifact["step_run_id"], "step_run_id"), "artifacts", (artifact["id"], "artifact_id")
        )
        return str(self._call("GET", path, "getStepRunArtifact")["url"])

    def list_console_messages(self, step_run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        # The spec declares no ``limit`` here: follow the server's pages as they come.
        path = build("step-runs", (step_run_id, "step_run_id"), "console-messages")
        return self._pages(path, "listStepRunConsoleMessages", {}, limit, send_limit=False)

    def list_step_run_events(self, step_run_id: str, limit: int | None) -> Iterator[dict[str, Any]]:
        return self._pages(build("step-runs", (step_run_id, "step_run_id"), "events"), "listStepRunEvents", {}, limit)

    # -- work items ---------------------------------------------------------------------------------
    def create_work_item(self, process_id: str, payload: Any) -> str:
        body = {"process": {"id": process_id}, "payload": payload}
        return str(self._call("POST", "/work-items", "createWorkItem", json=body)["id"])

    def upload_slot(self, process_id: str, item_id: str, name: str, size: int) -> tuple[str, dict[str, Any]]:
        body = {"file_name": name, "file_size": size}
        slot = self._call(
            "POST", build("work-items", (item_id, "work_item_id"), "files", "upload"), "createWorkItemFile", json=body
        )
        return str(slot["url"]), dict(slot.get("form_data") or {})

    def get_work_item(self, item_id: str, process_id: str | None = None, include_data: bool = True) -> dict[str, Any]:
        return dict(self._call("GET", build("work-items", (item_id, "work_item_id")), "getWorkItem"))

    def list_work_items(self, query: WorkItemQuery) -> Iterator[dict[str, Any]]:
        params = {"process_id": query.process_id, "process_run_id": query.run_id, "state": query.state}
        rows = self._pages("/work-items", "listWorkItems", params, query.limit, page_size=query.page_size)
        # The list has no payloads (WorkItemWithoutDataResource): with include_data each item is read.
        return (self.get_work_item(str(row["id"])) for row in rows) if query.include_data else rows

    def update_payload(self, item_id: str, payload: Any) -> Any:
        body = {"payload": payload}
        return self._call(
            "PUT", build("work-items", (item_id, "work_item_id"), "payload"), "updateWorkItemPayload", json=body
        )["payload"]

    def batch(self, operation: str, item_ids: list[str], process_id: str | None = None) -> None:
        body = {"batch_operation": operation, "work_item_ids": item_ids}
        self._call("POST", "/work-items/batch", "runWorkItemBatchOperation", json=body)

    # -- webhooks, assets, workers ------------------------------------------------------------------
    def create_webhook(self, process_id: str, endpoint: str, events: list[str]) -> dict[str, Any]:
        body = {"endpoint": endpoint, "enabled_events": events, "process": {"id": process_id}}
        return dict(self._call("POST", "/webhooks", "createWebhook", json=body))

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/webhooks", "listWebhooks").get("data") or [])

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        return dict(self._call("GET", build("webhooks", (webhook_id, "webhook_id")), "getWebhook"))

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", build("webhooks", (webhook_id, "webhook_id")), "deleteWebhook"))

    def list_assets(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/assets", "listAssets").get("data") or [])

    def get_asset(self, ref: str) -> dict[str, Any]:
        return dict(self._call("GET", build("assets", (ref, "asset")), "getAsset"))

    def create_asset(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", "/assets", "createAsset", json={"name": name}))

    def delete_asset(self, ref: str) -> dict[str, Any]:
        return dict(self._call("DELETE", build("assets", (ref, "asset")), "deleteAsset"))

    def create_asset_upload(self, asset_id: str, content_type: str, data: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"content_type": content_type}
        if data is not None:
            body["data"] = data
        return dict(
            self._call("POST", build("assets", (asset_id, "asset_id"), "uploads"), "createAssetUpload", json=body)
        )

    def get_asset_upload(self, asset_id: str, upload_id: str) -> dict[str, Any]:
        return dict(
            self._call(
                "GET", build("assets", (asset_id, "asset_id"), "uploads", (upload_id, "upload_id")), "getAssetUpload"
            )
        )

    def list_workers(self, limit: int | None) -> Iterator[dict[str, Any]]:
        return self._pages("/workers", "listWorkers", {}, limit)
