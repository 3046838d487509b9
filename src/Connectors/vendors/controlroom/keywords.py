"""Robot Framework keyword components of ``Library    Connectors.ControlRoom``.

Thin layers over ``ControlRoomClient``: they convert Robot Framework arguments, resolve process
names, and turn lazy iterators into lists bounded by ``limit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import log
from Connectors.core.errors import NotFound
from Connectors.library import KeywordComponent, connect_keyword, rate_limit_status_keyword
from Connectors.vendors.controlroom.client import ControlRoomClient
from Connectors.vendors.controlroom.profile import CONTROLROOM

#: The most items a list keyword returns unless told otherwise (Python callers iterate without limit).
DEFAULT_LIST_LIMIT = 100


def _limit(value: int | None) -> int | None:
    # ``limit=0`` (or negative) means "every item".
    if value is None or int(value) <= 0:
        return None
    return int(value)


def _collect(items: Iterator[dict[str, Any]], limit: int | None, what: str) -> list[dict[str, Any]]:
    found = list(items)
    if limit is not None and len(found) == limit:
        log.info(f"Returned the first {limit} {what}; pass a higher limit (or limit=0 for all) to get more.")
    return found


def _payload(value: Any) -> Any:
    # A payload may come from a .robot file as JSON text.
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        return json.loads(value)
    return value


class ControlRoomConnectionKeywords(KeywordComponent):
    connect_to_control_room = connect_keyword(
        CONTROLROOM,
        """Connect to a Control Room workspace with a workspace API key (``RC-WSKEY``).

        Every argument is optional: what is not given comes from the library import, the Vault or the
        ``CONTROLROOM_*`` variables (``CONTROLROOM_WORKSPACE_ID``, ``CONTROLROOM_API_KEY``, ``CONTROLROOM_URL``
        …). ``api_key`` may be a ``Secret`` or plain text; it is never logged.

        - ``api`` is ``current`` (``/api/v1``, the default) or ``legacy`` (the deprecated ``/process-v1``
          API that ``RPA.Robocorp.Process`` uses). ``legacy_url`` (or ``CONTROLROOM_LEGACY_URL``) is its
          host; it defaults to ``https://api.eu1.robocorp.com`` for the cloud and to ``url`` otherwise.
        - ``organization`` (or ``CONTROLROOM_ORGANIZATION``) makes the run links in error messages exact.

        Example:
        | Connect To Control Room |
        | Connect To Control Room | ${WORKSPACE_ID} | %{CONTROLROOM_API_KEY} |
        | Connect To Control Room | api=legacy |
        | Connect To Control Room | vault_secret=controlroom |
        """,
    )

    get_control_room_rate_limit_status = rate_limit_status_keyword(CONTROLROOM)


class ControlRoomProcessKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "read", "processes"])
    def list_processes(self, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
        """Return the workspace's processes (``id``, ``name``, …), following pages up to ``limit`` (0 = all).

        Example:
        | ${processes} = | List Processes |
        | Log | ${processes}[0][name] |
        """
        bounded = _limit(limit)
        return _collect(self.client.list_processes(bounded), bounded, "processes")

    @keyword(tags=["controlroom", "read", "processes"])
    def get_process_id_by_name(self, name: str) -> str:
        """Return the id of the process called ``name``; fails when there is none.

        Example:
        | ${id} = | Get Process Id By Name | Invoice Processing |
        """
        found = self.client.process_id_by_name(name)
        if found is None:
            known = ", ".join(p["name"] for p in self.client.list_processes()) or "none"
            raise NotFound(
                f"No process named {name!r} in workspace {self.client.workspace_id}.",
                vendor="Control Room",
                hint=f"Known processes: {known}.",
            )
        return str(found)


class ControlRoomRunKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "write", "runs"])
    def trigger_process_run(self, process: str, payload: Any = None) -> dict[str, Any]:
        """Start a run of ``process`` (id or name) with one input work item carrying ``payload``.

        ``payload`` is a dictionary (or JSON text); without it the work item is empty. Returns the run
        (``id``, ``state``, ``process``, ``created_at`` …). The request is not repeated after an unclear
        network failure, so it never starts two runs.

        Example:
        | ${run} = | Trigger Process Run | Invoice Processing | ${{ {"invoice": "INV-1"} }} |
        | ${run} = | Wait For Process Run | ${run}[id] |
        """
        run = self.client.trigger_run(process, _payload(payload))
        log.info(f"Started run {run['id']} of {process}: {self.client.run_link(run['id'])}")
        return run

    @keyword(tags=["controlroom", "write", "runs"])
    def trigger_process_runs(self, process: str, payloads: list[Any]) -> list[dict[str, Any]]:
        """Start one run of ``process`` per payload (a batch); returns the runs in the same order.

        Example:
        | @{rows} = | Create List | ${{ {"id": 1} }} | ${{ {"id": 2} }} |
        | ${runs} = | Trigger Process Runs | Invoice Processing | ${rows} |
        | ${finished} = | Wait For Process Runs | ${runs} |
        """
        runs = self.client.trigger_runs(process, [_payload(p) for p in payloads])
        log.info(f"Started {len(runs)} run(s) of {process}.")
        return runs

    @keyword(tags=["controlroom", "write", "runs"])
    def trigger_process_run_with_work_items(self, process: str, work_item_ids: list[str]) -> dict[str, Any]:
        """Start a run of ``process`` with existing input work items (see `Create Work Item`).

        Example:
        | ${item} = | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-9"} }} |
        | ${run} = | Trigger Process Run With Work Items | Invoice Processing | ${{ [$item["id"]] }} |
        """
        return self.client.trigger_run_with_work_items(process, list(work_item_ids))

    @keyword(tags=["controlroom", "read", "runs"])
    def get_process_run(self, run: Any, process: str | None = None) -> dict[str, Any]:
        """Return the current state of a run (its id, or a run dictionary).

        ``process`` is needed only with ``api=legacy`` for runs this library did not start.

        Example:
        | ${run} = | Get Process Run | ${run}[id] |
        | Should Be Equal | ${run}[state] | completed |
        """
        return self.client.get_run(_run_id(run), process)

    @keyword(tags=["controlroom", "read", "runs"])
    def wait_for_process_run(
        self,
        run: Any,
        timeout: float = 600,
        poll_interval: float = 2,
        max_interval: float = 10,
        backoff: float = 1.5,
        fail_on_unresolved: bool = True,
        process: str | None = None,
    ) -> dict[str, Any]:
        """Wait until the run is ``completed`` and return it; fail if it ends ``unresolved`` or times out.

        Polls with back-off - ``poll_interval`` seconds, then times ``backoff`` each time up to
        ``max_interval`` - so a 60 s run costs about ten status calls and never a tight loop. A failure
        is one line with the run's state, the failing step and its error, and a link to the run in
        Control Room. With ``fail_on_unresolved=False`` an unresolved run is returned instead.

        ``timeout``, ``poll_interval`` and ``max_interval`` are seconds.

        Example:
        | ${run} = | Trigger Process Run | Invoice Processing |
        | ${run} = | Wait For Process Run | ${run} | timeout=300 |
        | ${run} = | Wait For Process Run | ${run}[id] | fail_on_unresolved=False |
        """
        finished = self.client.wait_for_run(
            _run_id(run),
            float(timeout),
            float(poll_interval),
            float(max_interval),
            float(backoff),
            process,
            fail_on_unresolved,
        )
        log.info(
            f"Run {finished['id']} is {finished['state']} after {self.client.last_wait['seconds']:.1f} s and "
            f"{self.client.last_wait['status_calls']} status call(s)."
        )
        return finished

    @keyword(tags=["controlroom", "read", "runs"])
    def wait_for_process_runs(
        self,
        runs: list[Any],
        timeout: float = 600,
        poll_interval: float = 2,
        max_interval: float = 10,
        backoff: float = 1.5,
        fail_on_unresolved: bool = True,
        process: str | None = None,
    ) -> list[dict[str, Any]]:
        """Wait for several runs (ids or run dictionaries) with one shared back-off; return them finished.

        Fails like `Wait For Process Run` on the first unresolved run (unless ``fail_on_unresolved=False``)
        or when ``timeout`` passes with runs unfinished.

        Example:
        | ${runs} = | Trigger Process Runs | Invoice Processing | ${payloads} |
        | ${runs} = | Wait For Process Runs | ${runs} | timeout=900 | fail_on_unresolved=False |
        """
        return self.client.wait_for_runs(
            [_run_id(r) for r in runs],
            float(timeout),
            float(poll_interval),
            float(max_interval),
            float(backoff),
            process,
            fail_on_unresolved,
        )

    @keyword(tags=["controlroom", "read", "runs"])
    def list_process_runs(
        self,
        process: str | None = None,
        state: str | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return runs, newest first, of one process or of the whole workspace.

        ``state`` (``new``, ``in_progress``, ``terminating``, ``completed``, ``unresolved``) is filtered by
        the server. Pages are followed lazily until ``limit`` runs (0 = all); ``page_size`` sets how many
        come per request (default: ``limit``, at most 100).

        Example:
        | ${runs} = | List Process Runs | Invoice Processing | state=unresolved |
        | ${all} = | List Process Runs | limit=0 |
        """
        bounded = _limit(limit)
        return _collect(self.client.list_runs(process, state, bounded, page_size), bounded, "runs")

    @keyword(tags=["controlroom", "write", "runs"])
    def stop_process_run(
        self,
        run: Any,
        reason: str = "",
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing: bool = False,
    ) -> dict[str, Any]:
        """Stop a run that is new or in progress; returns the run (``terminating`` or already finished).

        Work items not yet processed become ``failed`` (the run ends ``unresolved``) unless
        ``set_remaining_work_items_as_done`` is true. ``terminate_ongoing`` ends running steps at once
        instead of letting them finish. Not available with ``api=legacy``.

        Example:
        | ${run} = | Stop Process Run | ${run} | reason=Wrong input file |
        """
        return self.client.stop_run(_run_id(run), reason, set_remaining_work_items_as_done, terminate_ongoing)

    @keyword(tags=["controlroom", "read", "runs"])
    def get_process_run_link(self, run: Any) -> str:
        """Return the Control Room address of a run, for messages and reports.

        Example:
        | ${link} = | Get Process Run Link | ${run} |
        """
        return self.client.run_link(_run_id(run))

    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_runs(self, run: Any, process: str | None = None) -> list[dict[str, Any]]:
        """Return the step runs of a run: ``id``, ``state``, ``step`` (``name``), ``error`` ….

        Example:
        | ${steps} = | List Step Runs | ${run} |
        | Should Be Equal | ${steps}[0][state] | completed |
        """
        return self.client.list_step_runs(_run_id(run), process)


class ControlRoomWorkItemKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "write", "work-items"])
    def create_work_item(self, process: str, payload: Any = None, files: list[str] | None = None) -> dict[str, Any]:
        """Create an input work item for ``process`` with a ``payload`` and optional ``files`` (paths).

        The files are uploaded through Control Room's storage. Start a run with it with
        `Trigger Process Run With Work Items`.

        Example:
        | ${item} = | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-7"} }} |
        | ${item} = | Create Work Item | Invoice Processing | ${payload} | files=${{ ["invoice.pdf"] }} |
        """
        return self.client.create_work_item(process, _payload(payload), [str(f) for f in files or []])

    @keyword(tags=["controlroom", "read", "work-items"])
    def list_work_items(
        self,
        process: str | None = None,
        run: Any = None,
        state: str | None = None,
        include_data: bool = False,
        limit: int = DEFAULT_LIST_LIMIT,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return work items of a process and/or a run, newest first, optionally of one ``state``.

        States: ``new``, ``pending``, ``in_progress``, ``done``, ``failed``. ``include_data`` adds each
        item's ``payload``. Pages are followed up to ``limit`` items (0 = all).

        Example:
        | ${failed} = | List Work Items | run=${run} | state=failed |
        | Retry Work Items | ${failed} |
        """
        bounded = _limit(limit)
        run_id = _run_id(run) if run else None
        return _collect(
            self.client.list_work_items(process, run_id, state, include_data, bounded, page_size),
            bounded,
            "work items",
        )

    @keyword(tags=["controlroom", "read", "work-items"])
    def get_work_item(self, work_item: Any, process: str | None = None) -> dict[str, Any]:
        """Return one work item with its ``state``, ``payload``, ``files`` and ``exception``.

        Example:
        | ${item} = | Get Work Item | ${item}[id] |
        | Should Be Equal | ${item}[state] | done |
        """
        return self.client.get_work_item(_run_id(work_item), process)

    @keyword(tags=["controlroom", "write", "work-items"])
    def retry_work_items(self, work_items: Any, process: str | None = None) -> list[str]:
        """Retry failed work items (one id, a list of ids, or work item dictionaries); returns their ids.

        Their run goes back to ``in_progress`` and becomes ``completed`` when they succeed.

        Example:
        | ${failed} = | List Work Items | run=${run} | state=failed |
        | Retry Work Items | ${failed} |
        | Wait For Process Run | ${run} |
        """
        items = work_items if isinstance(work_items, (list, tuple)) else [work_items]
        ids = [_run_id(item) for item in items]
        retried = self.client.retry_work_items(ids, process)
        log.info(f"Retried {len(retried)} work item(s).")
        return retried


class ControlRoomArtifactKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "read", "artifacts"])
    def list_run_artifacts(
        self, run: Any, step_run: str | None = None, process: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the artifacts (``id``, ``file_name``, ``file_size``, ``step_run_id``) of a run or step run.

        Example:
        | ${artifacts} = | List Run Artifacts | ${run} |
        """
        return self.client.list_artifacts(_run_id(run), step_run, process)

    @keyword(tags=["controlroom", "read", "artifacts"])
    def download_run_artifacts(
        self,
        run: Any,
        folder: str,
        pattern: str = "*",
        step_run: str | None = None,
        process: str | None = None,
    ) -> list[str]:
        """Download the artifacts of a run whose file names match ``pattern`` (e.g. ``*.xlsx``) to ``folder``.

        Returns the paths written. The short-lived download links are never logged.

        Example:
        | ${files} = | Download Run Artifacts | ${run} | ${OUTPUT_DIR}/artifacts | pattern=*.html |
        """
        paths = self.client.download_artifacts(_run_id(run), Path(folder), pattern, process, step_run)
        log.info(f"Downloaded {len(paths)} artifact(s) to {folder}.")
        return [str(p) for p in paths]


class ControlRoomWebhookKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "webhooks"])
    def verify_control_room_webhook_signature(
        self, body: str | bytes, signature: str, secret: str | Secret | None = None
    ) -> dict[str, Any]:
        """Check a Control Room webhook's ``x-rc-signature`` header and return the parsed event.

        ``body`` is the raw request body; ``secret`` the webhook's secret (default
        ``CONTROLROOM_WEBHOOK_SECRET``). Fails, in constant time, when the signature does not match.

        Example:
        | ${event} = | Verify Control Room Webhook Signature | ${body} | ${headers}[x-rc-signature] |
        | Log | ${event}[payload] |
        """
        return ControlRoomClient.verify_webhook(body, signature, secret)


def _run_id(value: Any) -> str:
    """An id from an id or from a run / work item dictionary."""
    if isinstance(value, dict):
        return str(value["id"])
    return str(value)
