"""How Control Room says no: its error body, the permission each operation needs, run outcomes as errors."""

from __future__ import annotations

from typing import Any

from Connectors.core.errors import ConnectorError, UncertainOutcome

# The scope each operation needs (the spec's ``security``), by the spec's operationId. Legacy calls
# use the operationId of their current-API equivalent.
SCOPES = {
    "listProcesses": "Processes.read_processes",
    "getProcessRun": "Processes.read_processes",
    "listStepRuns": "Processes.read_processes",
    "listProcessRuns": "Processes.read_runs",
    "getStepRun": "Processes.read_runs",
    "deleteProcessRun": "Processes.read_runs",
    "startProcessRun": "Processes.trigger_processes",
    "stopProcessRun": "Processes.trigger_processes",
    "listWorkItems": "Processes.read_work_items",
    "getWorkItem": "Processes.read_work_items",
    "listProcessRunOutputs": "Processes.read_work_items",
    "createWorkItem": "Processes.write_work_items",
    "createWorkItemFile": "Processes.write_work_items",
    "updateWorkItemPayload": "Processes.write_work_items",
    "runWorkItemBatchOperation": "Processes.write_work_items",
    "listStepRunArtifacts": "Processes.read_run_outputs",
    "getStepRunArtifact": "Processes.read_run_outputs",
    "listStepRunConsoleMessages": "Processes.read_run_outputs",
    "listStepRunEvents": "Processes.read_run_outputs",
    "listWebhooks": "Webhooks.read_webhooks",
    "getWebhook": "Webhooks.read_webhooks",
    "createWebhook": "Webhooks.write_webhooks",
    "deleteWebhook": "Webhooks.write_webhooks",
    "listAssets": "Assets.read_asset_storage_assets",
    "getAsset": "Assets.read_asset_storage_assets",
    "createAsset": "Assets.write_asset_storage_assets",
    "deleteAsset": "Assets.write_asset_storage_assets",
    "createAssetUpload": "Assets.write_asset_storage_assets",
    "getAssetUpload": "Assets.write_asset_storage_assets",
    "listWorkers": "Workers.read_workers",
    "getWorkspace": "",
}


def permission_hint(operation: str, vendor_message: str, workspace_id: str) -> str:
    lowered = vendor_message.lower()
    if "workspace" in lowered and "not valid" in lowered:
        return (
            f"The API key belongs to another workspace: create one in workspace {workspace_id} "
            "or set CONTROLROOM_WORKSPACE_ID to the key's workspace."
        )
    scope = SCOPES.get(operation)
    if not scope:
        return "Check the API key's permissions in Control Room (workspace > API keys)."
    return (
        f"The API key probably lacks the '{scope}' permission: add it to the key in Control Room "
        "(workspace > API keys) or use a key that has it."
    )


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


class RunTriggerUncertain(UncertainOutcome):
    """A trigger was sent but no clear answer came back: a run may or may not have started."""

    def __init__(self, message: str, *, process_id: str, process_name: str, since: str, **kwargs: Any) -> None:
        self.process_id, self.process_name, self.since = process_id, process_name, since
        label = process_name or process_id
        hint = (
            f"Check before triggering again: list the runs of process {label!r} created since {since} "
            f"(keyword List Process Runs with process={label} since={since}; "
            f"Python client.list_runs({label!r}, since={since!r})): a run there was started by this trigger."
        )
        super().__init__(message, hint=hint, **kwargs)
