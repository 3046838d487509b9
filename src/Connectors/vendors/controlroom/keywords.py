"""Robot Framework keyword components of ``Library    Connectors.ControlRoom``: connection, processes, runs.

Thin layers over ``ControlRoomClient``: they convert Robot Framework arguments, resolve process
names, and turn lazy iterators into lists bounded by ``limit``. Tags come from one vocabulary:
``controlroom`` plus ``read`` or ``write`` and the area (``processes``, ``runs`` — step runs and
waiting included —, ``artifacts``, ``work-items``, ``webhooks``, ``assets``, ``workers``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import arguments, log
from Connectors.core.errors import NotFound, ValidationError
from Connectors.library import KeywordComponent
from Connectors.vendors.controlroom.client import callback_of
from Connectors.vendors.controlroom.enums import CallbackEvent, RunState

#: The most items a list keyword returns unless told otherwise (Python callers iterate without limit).
DEFAULT_LIST_LIMIT = 100


def bounded(value: int | None) -> int | None:
    # ``limit=0`` (or negative) means "every item".
    return arguments.limit(value)


def collect(items: Iterator[dict[str, Any]], limit: int | None, what: str) -> list[dict[str, Any]]:
    found = list(items)
    if limit is not None and len(found) == limit:
        log.info(f"Returned the first {limit} {what}; pass a higher limit (or limit=0 for all) to get more.")
    return found


def payload_of(value: Any, argument: str = "payload") -> Any:
    # A payload may come from a .robot file as JSON text.
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        value = arguments.parsed_json(value, argument, 'Write it like {"invoice": "INV-1"}, or pass a dictionary.')
    return arguments.json_value(value, argument)


def id_of(value: Any, argument: str = "id") -> str:
    """An id from an id or from a run / work item / step run dictionary."""
    if isinstance(value, dict):
        if "id" not in value:
            raise ValidationError(
                f"{argument} is a dictionary without an 'id'.", vendor="Control Room", hint="Pass the id itself."
            )
        value = value["id"]
    return arguments.text(value, argument, max_length=200)


def ids_of(values: Any, argument: str = "ids") -> list[str]:
    items = values if isinstance(values, (list, tuple)) else [values]
    return [id_of(item, f"{argument}[{index}]") for index, item in enumerate(items)]


class ControlRoomProcessKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "processes", "read"])
    def list_processes(self, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
        """Return the workspace's processes (``id``, ``name``, ``created_at``), up to ``limit`` (0 = all).

        Example:
        | ${processes} = | List Processes |
        | Log | ${processes}[0][name] |
        """
        limit_ = bounded(limit)
        return collect(self.client.list_processes(limit_), limit_, "processes")

    @keyword(tags=["controlroom", "processes", "read"])
    def get_process_id_by_name(self, name: str) -> str:
        """Return the id of the process called ``name``; fails when there is none.

        Example:
        | ${process_id} = | Get Process Id By Name | Invoice Processing |
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
    @keyword(tags=["controlroom", "runs", "write"])
    def trigger_process_run(
        self,
        process: str,
        payload: Any = None,
        callback_url: str | None = None,
        callback_secret: Secret | str | None = None,
        callback_events: list[CallbackEvent | str] | None = None,
    ) -> dict[str, Any]:
        """Start a run of ``process`` (id or name) with one input work item carrying ``payload``.

        ``payload`` is a dictionary (or JSON text); without it the work item is empty. Returns the run
        (``id``, ``state``, ``process``, ``created_at`` …).

        With ``callback_url`` Control Room POSTs the run's events (``callback_events``: ``started``,
        ``completed``, ``unresolved``; default the last two) there, signed with ``callback_secret`` in
        ``x-rc-signature`` (check it with `Verify Control Room Webhook Signature`).

        The request is never repeated after an unclear failure, so it never starts two runs. When the
        answer is lost the keyword fails saying a run may have started, with the process and the moment
        to list runs from (`List Process Runs` with ``since``). Calling it again with the same process and
        payload - for example inside ``Wait Until Keyword Succeeds`` - first looks for the run that attempt
        started and returns it instead of starting another. When the run started but reading it back
        failed, the run is returned with its ``id`` (and ``state`` ``new``) instead of failing.

        Example:
        | ${run} = | Trigger Process Run | Invoice Processing | ${{ {"invoice": "INV-1"} }} |
        | ${run} = | Wait For Process Run | ${run}[id] |
        | ${run} = | Trigger Process Run | Invoice Processing | callback_url=${HOOK} | callback_secret=${secret} |
        """
        callback = callback_of(callback_url, arguments.credential(callback_secret, "callback_secret"), callback_events)
        run = self.client.trigger_run(process, payload_of(payload), callback)
        log.info(f"Started run {run['id']} of {process}: {self.client.run_link(run['id'])}")
        return run

    @keyword(tags=["controlroom", "runs", "write"])
    def trigger_process_runs(self, process: str, payloads: list[Any]) -> list[dict[str, Any]]:
        """Start one run of ``process`` per payload (a batch); returns the runs in the same order.

        Example:
        | @{rows} = | Create List | ${{ {"id": 1} }} | ${{ {"id": 2} }} |
        | ${runs} = | Trigger Process Runs | Invoice Processing | ${rows} |
        | ${finished} = | Wait For Process Runs | ${runs} |
        """
        runs = self.client.trigger_runs(process, _payloads(payloads))
        log.info(f"Started {len(runs)} run(s) of {process}.")
        return runs

    @keyword(tags=["controlroom", "runs", "work-items", "write"])
    def trigger_process_run_with_work_items(self, process: str, work_item_ids: list[Any]) -> dict[str, Any]:
        """Start a run of ``process`` with existing input work items (ids or work item dictionaries).

        Example:
        | ${item} = | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-9"} }} |
        | ${run} = | Trigger Process Run With Work Items | Invoice Processing | ${{ [$item["id"]] }} |
        """
        return self.client.trigger_run_with_work_items(process, ids_of(work_item_ids, "work_item_ids"))

    @keyword(tags=["controlroom", "runs", "work-items", "write"])
    def trigger_process_run_with_inputs(self, process: str) -> dict[str, Any] | None:
        """Start a run of ``process`` with the work items waiting in its input queue (see `Create Work Item`).

        Returns the run, or ``None`` when no input work items were waiting (Control Room starts no run).

        Example:
        | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-10"} }} |
        | ${run} = | Trigger Process Run With Inputs | Invoice Processing |
        """
        run = self.client.trigger_run_with_inputs(process)
        if run is None:
            log.info(f"No input work items were waiting for {process}: no run started.")
        return run

    @keyword(tags=["controlroom", "runs", "read"])
    def get_process_run(self, run_id: Any, process: str | None = None) -> dict[str, Any]:
        """Return the current state of a run (its id, or a run dictionary).

        ``process`` is needed only with ``api=legacy`` for runs this library did not start.

        Example:
        | ${run} = | Get Process Run | ${run}[id] |
        | Should Be Equal | ${run}[state] | completed |
        """
        return self.client.get_run(id_of(run_id, "run_id"), process)

    @keyword(tags=["controlroom", "read", "runs"])
    def wait_for_process_run(
        self,
        run_id: Any,
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
        polling = (timeout, poll_interval, max_interval, backoff, fail_on_unresolved, process)
        (finished,) = self.wait_for_process_runs([run_id], *polling)
        log.info(
            f"Run {finished['id']} is {finished['state']} after {self.client.last_wait['seconds']:.1f} s and "
            f"{self.client.last_wait['status_calls']} status call(s)."
        )
        return finished

    @keyword(tags=["controlroom", "read", "runs"])
    def wait_for_process_runs(
        self,
        run_ids: list[Any],
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
        polling = (timeout, poll_interval, max_interval, backoff)
        ids = ids_of(run_ids, "run_ids")
        return self.client.wait_for_runs(ids, *polling, process=process, fail_on_unresolved=fail_on_unresolved)

    @keyword(tags=["controlroom", "runs", "read"])
    def list_process_runs(
        self,
        process: str | None = None,
        state: RunState | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        page_size: int | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """Return runs, newest first, of one process or of the whole workspace.

        ``state`` is filtered by the server. ``since`` (ISO 8601, e.g. ``2024-05-01T12:00:00Z``) keeps
        the runs created from then on - how to check whether an uncertain trigger started a run. Pages
        are followed lazily until ``limit`` runs (0 = all); ``page_size`` sets how many come per request
        (default: ``limit``, at most 100).

        Example:
        | ${runs} = | List Process Runs | Invoice Processing | state=unresolved |
        | ${all} = | List Process Runs | limit=0 |
        | ${recent} = | List Process Runs | Invoice Processing | since=2024-05-01T12:00:00Z |
        """
        limit_ = bounded(limit)
        return collect(self.client.list_runs(process, state, limit_, page_size, since), limit_, "runs")

    @keyword(tags=["controlroom", "runs", "write"])
    def stop_process_run(
        self,
        run_id: Any,
        reason: str = "",
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing: bool = False,
    ) -> dict[str, Any]:
        """Stop a run that is new or in progress; returns the run (``stopping``, or finished).

        Work items not yet processed become ``failed`` (the run ends ``unresolved``) unless
        ``set_remaining_work_items_as_done`` is true. ``terminate_ongoing`` ends running steps at once
        instead of letting them finish. A run that has finished already is returned as it is. Not
        available with ``api=legacy``.

        Example:
        | ${run} = | Stop Process Run | ${run} | reason=Wrong input file |
        """
        return self.client.stop_run(
            id_of(run_id, "run_id"),
            reason,
            set_remaining_work_items_as_done=set_remaining_work_items_as_done,
            terminate_ongoing=terminate_ongoing,
        )

    @keyword(tags=["controlroom", "runs", "write"])
    def delete_process_run(self, run_id: Any) -> dict[str, Any]:
        """Delete a finished run with its work items, irreversibly; returns ``{id, deleted}``.

        A run that is still new or in progress is refused (stop it first).

        Example:
        | Delete Process Run | ${run} |
        """
        return self.client.delete_run(id_of(run_id, "run_id"))

    @keyword(tags=["controlroom", "runs", "read"])
    def get_process_run_link(self, run_id: Any) -> str:
        """Return the Control Room address of a run, for messages and reports.

        Example:
        | ${link} = | Get Process Run Link | ${run} |
        """
        return self.client.run_link(id_of(run_id, "run_id"))

    @keyword(tags=["controlroom", "runs", "work-items", "read"])
    def get_process_run_outputs(self, run_id: Any, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
        """Return the output work items of a run's last step: ``id``, ``payload``, ``files`` ….

        Example:
        | ${outputs} = | Get Process Run Outputs | ${run} |
        | Log | ${outputs}[0][payload] |
        """
        limit_ = bounded(limit)
        return collect(self.client.list_run_outputs(id_of(run_id, "run_id"), limit_), limit_, "outputs")


def _payloads(payloads: Any) -> list[Any]:
    """A list of payloads; a text or a dictionary is one payload, not a list of them."""
    if isinstance(payloads, str) and payloads.strip()[:1] == "[":
        payloads = payload_of(payloads, "payloads")
    if not arguments.is_list(payloads):
        raise ValidationError(
            f"payloads must be a list of payloads (one run each), got {arguments.describe(payloads)}.",
            vendor="Control Room",
            hint="Make it with Create List; for one run use Trigger Process Run.",
        )
    return [payload_of(payload, f"payloads[{index}]") for index, payload in enumerate(payloads)]
