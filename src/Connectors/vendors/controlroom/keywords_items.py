"""Keyword components of ``Connectors.ControlRoom``: work items, step runs and their artifacts."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword

from Connectors.core import log
from Connectors.library import KeywordComponent
from Connectors.vendors.controlroom.enums import WorkItemState
from Connectors.vendors.controlroom.keywords import DEFAULT_LIST_LIMIT, bounded, collect, id_of, ids_of, payload_of


class ControlRoomWorkItemKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "work-items", "write"])
    def create_work_item(self, process: str, payload: Any = None, files: list[str] | None = None) -> dict[str, Any]:
        """Create an input work item for ``process`` with a ``payload`` and optional ``files`` (paths).

        The files are uploaded through Control Room's storage. Start a run with it with
        `Trigger Process Run With Work Items` or `Trigger Process Run With Inputs`.

        Example:
        | ${item} = | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-7"} }} |
        | ${item} = | Create Work Item | Invoice Processing | ${payload} | files=${{ ["invoice.pdf"] }} |
        """
        return self.client.create_work_item(process, payload_of(payload), files or [])

    @keyword(tags=["controlroom", "work-items", "read"])
    def list_work_items(
        self,
        process: str | None = None,
        run_id: Any = None,
        state: WorkItemState | None = None,
        include_data: bool = False,
        limit: int = DEFAULT_LIST_LIMIT,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return work items of a process and/or a run, newest first, optionally of one ``state``.

        ``include_data`` adds each item's ``payload`` and ``files``: Control Room's list has no data, so
        that reads every item (one request each). Pages are followed up to ``limit`` items (0 = all).

        Example:
        | ${failed} = | List Work Items | run_id=${run} | state=failed |
        | Retry Work Items | ${failed} |
        """
        limit_ = bounded(limit)
        run = id_of(run_id, "run_id") if run_id else None
        items = self.client.list_work_items(process, run, state, include_data, limit_, page_size)
        return collect(items, limit_, "work items")

    @keyword(tags=["controlroom", "work-items", "read"])
    def get_work_item(self, work_item_id: Any, process: str | None = None) -> dict[str, Any]:
        """Return one work item with its ``state``, ``payload``, ``files`` and ``exception``.

        Example:
        | ${item} = | Get Work Item | ${item}[id] |
        | Should Be Equal | ${item}[state] | done |
        """
        return self.client.get_work_item(id_of(work_item_id, "work_item_id"), process)

    @keyword(tags=["controlroom", "work-items", "write"])
    def update_work_item_payload(self, work_item_id: Any, payload: Any) -> Any:
        """Replace the payload of a work item (not while a robot works on it); returns the new payload.

        Example:
        | ${failed} = | List Work Items | run_id=${run} | state=failed |
        | Update Work Item Payload | ${failed}[0] | ${{ {"invoice": "INV-7", "amount": 100} }} |
        | Retry Work Items | ${failed}[0] |
        """
        return self.client.update_work_item_payload(id_of(work_item_id, "work_item_id"), payload_of(payload))

    @keyword(tags=["controlroom", "work-items", "write"])
    def retry_work_items(self, work_item_ids: Any, process: str | None = None) -> list[str]:
        """Retry failed work items (one id, a list of ids, or work item dictionaries); returns their ids.

        Their run goes back to ``in_progress`` and becomes ``completed`` when they succeed. Control Room
        accepts the batch and leaves items that are not failed as they are.

        Example:
        | ${failed} = | List Work Items | run_id=${run} | state=failed |
        | Retry Work Items | ${failed} |
        | Wait For Process Run | ${run} |
        """
        retried = self.client.retry_work_items(ids_of(work_item_ids, "work_item_ids"), process)
        log.info(f"Asked Control Room to retry {len(retried)} work item(s).")
        return retried

    @keyword(tags=["controlroom", "work-items", "write"])
    def mark_work_items_done(self, work_item_ids: Any) -> list[str]:
        """Mark failed work items as done without running them again; returns their ids.

        Example:
        | ${failed} = | List Work Items | run_id=${run} | state=failed |
        | Mark Work Items Done | ${failed} |
        """
        return self.client.mark_work_items_done(ids_of(work_item_ids, "work_item_ids"))

    @keyword(tags=["controlroom", "work-items", "write"])
    def delete_work_items(self, work_item_ids: Any) -> list[str]:
        """Delete work items (ids or dictionaries) that no robot is working on; returns their ids.

        Example:
        | ${done} = | List Work Items | Invoice Processing | state=done |
        | Delete Work Items | ${done} |
        """
        return self.client.delete_work_items(ids_of(work_item_ids, "work_item_ids"))


class ControlRoomStepKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_runs(self, run_id: Any, process: str | None = None) -> list[dict[str, Any]]:
        """Return the step runs of a run: ``id``, ``state``, ``step`` (``id``, ``name``), ``error`` ….

        A step with parallel executions has one step run per execution.

        Example:
        | ${steps} = | List Step Runs | ${run} |
        | Should Be Equal | ${steps}[0][state] | completed |
        """
        return self.client.list_step_runs(id_of(run_id, "run_id"), process)

    @keyword(tags=["controlroom", "read", "runs"])
    def get_step_run(self, step_run_id: Any) -> dict[str, Any]:
        """Return one step run: ``state`` (``new``, ``awaiting_worker``, ``in_progress``, ``completed``,
        ``failed``), ``error`` (its ``code``), times and ``step``.

        Example:
        | ${step} = | Get Step Run | ${steps}[0] |
        """
        return self.client.get_step_run(id_of(step_run_id, "step_run_id"))

    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_run_console_messages(self, step_run_id: Any, limit: int = 1000) -> list[dict[str, Any]]:
        """Return the robot's console output of a step run: ``timestamp`` and ``message`` per line.

        Example:
        | ${lines} = | List Step Run Console Messages | ${steps}[0] |
        | Log | ${lines}[-1][message] |
        """
        limit_ = bounded(limit)
        return collect(
            self.client.list_console_messages(id_of(step_run_id, "step_run_id"), limit_), limit_, "console messages"
        )

    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_run_events(self, step_run_id: Any, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
        """Return the events of a step run: ``timestamp`` and ``event_type``.

        Example:
        | ${events} = | List Step Run Events | ${steps}[0] |
        """
        limit_ = bounded(limit)
        return collect(self.client.list_step_run_events(id_of(step_run_id, "step_run_id"), limit_), limit_, "events")


class ControlRoomArtifactKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "artifacts", "read"])
    def list_run_artifacts(
        self, run_id: Any, step_run_id: Any = None, process: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the artifacts (``id``, ``name``, ``size``, ``step_run_id``) of a run or of one step run.

        Example:
        | ${artifacts} = | List Run Artifacts | ${run} |
        """
        step = id_of(step_run_id, "step_run_id") if step_run_id else None
        return self.client.list_artifacts(id_of(run_id, "run_id"), step, process)

    @keyword(tags=["controlroom", "artifacts", "read"])
    def download_run_artifacts(
        self,
        run_id: Any,
        folder: str,
        pattern: str = "*",
        step_run_id: Any = None,
        process: str | None = None,
    ) -> list[str]:
        """Download the artifacts of a run whose names match ``pattern`` (e.g. ``*.xlsx``) to ``folder``.

        Returns the paths written. The short-lived download links are never logged.

        Example:
        | ${files} = | Download Run Artifacts | ${run} | ${OUTPUT_DIR}/artifacts | pattern=*.html |
        """
        step = id_of(step_run_id, "step_run_id") if step_run_id else None
        paths = self.client.download_artifacts(id_of(run_id, "run_id"), folder, pattern, process, step)
        log.info(f"Downloaded {len(paths)} artifact(s) to {folder}.")
        return [str(p) for p in paths]
