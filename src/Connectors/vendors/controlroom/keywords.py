"""Robot Framework keyword components of ``Library    Connectors.ControlRoom``.

Thin layers over ``ControlRoomClient``: they convert Robot Framework arguments, resolve process
names, and turn lazy iterators into lists bounded by ``limit``. Tags come from one vocabulary:
``controlroom`` plus ``read`` or ``write`` and the area (``workspace``, ``processes``, ``runs`` — step
runs and waiting included —, ``artifacts``, ``work-items``, ``webhooks``, ``assets``, ``workers``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import arguments, log
from Connectors.core.errors import NotFound, ValidationError
from Connectors.library import KeywordComponent, collect
from Connectors.vendors.controlroom.client import ControlRoomClient, WaitOptions, callback_of
from Connectors.vendors.controlroom.model import CallbackEvent, RunState, WebhookEvent, WorkItemState

F = TypeVar("F", bound=Callable[..., Any])
Record = dict[str, Any]
Callback = Record | None  # the spec's ProcessRunCallback, or None without a URL

#: The most items a list keyword returns unless told otherwise (Python callers iterate without limit).
DEFAULT_LIST_LIMIT = 100


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


def _arguments(*declared: tuple[str, Any, Any]) -> tuple[inspect.Parameter, ...]:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return tuple(inspect.Parameter(name, kind, default=default, annotation=hint) for name, hint, default in declared)


#: A run callback as the trigger keywords take it.
CALLBACK_ARGUMENTS = _arguments(
    ("callback_url", str | None, None),
    ("callback_secret", Secret | str | None, None),
    ("callback_events", list[CallbackEvent | str] | None, None),
)
#: How the wait keywords poll (``WaitOptions`` of the client).
POLLING_ARGUMENTS = _arguments(
    ("timeout", float, 600),
    ("poll_interval", float, 2),
    ("max_interval", float, 10),
    ("backoff", float, 1.5),
    ("fail_on_unresolved", bool, True),
    ("process", str | None, None),
)


def takes(declared: tuple[inspect.Parameter, ...], into: str, make: Callable[..., Any]) -> Callable[[F], F]:
    """Keywords whose last arguments are ``declared``, written once for all of them.

    The keyword is written with one last parameter, ``into``, and gets ``make(**those arguments)`` there; the
    signature that Libdoc, Robot Framework's argument conversion, the credential guard and the generated stubs
    read has the declared arguments in its place.
    """

    def decorate(function: F) -> F:
        own = [p for p in inspect.signature(function).parameters.values() if p.name != into]
        signature = inspect.signature(function).replace(parameters=[*own, *declared])

        @functools.wraps(function)
        def keyword(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            made = make(**{p.name: given.pop(p.name) for p in declared})
            return function(**given, **{into: made})

        # inspect.signature and robotlibcore read the wrapped function: it shows the keyword's public arguments.
        function.__signature__ = signature  # type: ignore[attr-defined]
        function.__annotations__ = keyword.__annotations__ = {
            p.name: p.annotation for p in signature.parameters.values() if p.name != "self"
        } | {"return": signature.return_annotation}
        return keyword  # type: ignore[return-value]

    return decorate


def _callback(callback_url: str | None, callback_secret: Secret | str | None, callback_events: Any) -> Callback:
    return callback_of(callback_url, arguments.credential(callback_secret, "callback_secret"), callback_events)


takes_callback = takes(CALLBACK_ARGUMENTS, "callback", _callback)
takes_polling = takes(POLLING_ARGUMENTS, "polling", WaitOptions)


def trigger_keyword(*areas: str) -> Callable[[F], F]:
    """A keyword that starts runs: tagged ``runs`` (and ``areas``) ``write``, with the callback arguments."""
    return lambda function: keyword(tags=["controlroom", "runs", *areas, "write"])(takes_callback(function))


class ControlRoomProcessKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "workspace", "read"])
    def get_control_room_workspace(self) -> Record:
        """Return the workspace the API key belongs to: ``id``, ``name`` and ``organization`` (``id``, ``name``).

        Needs no permission beyond a valid key, so it is a cheap check that the key and the workspace id
        match. Needs the current API (``api=current``).

        Example:
        | ${workspace} = | Get Control Room Workspace |
        | Log | Working in ${workspace}[name] of ${workspace}[organization][name] |
        """
        return self.client.get_workspace()

    @keyword(tags=["controlroom", "processes", "read"])
    def list_processes(self, limit: int = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the workspace's processes (``id``, ``name``, ``created_at``), up to ``limit`` (0 = all).

        Example:
        | ${processes} = | List Processes |
        | Log | ${processes}[0][name] |
        """
        limit_ = arguments.limit(limit)
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
    @trigger_keyword()
    def trigger_process_run(self, process: str, payload: Any = None, callback: Callback = None) -> Record:
        """Start a run of ``process`` (id or name) with one input work item carrying ``payload``.

        ``payload`` is a dictionary (or JSON text) of at most 100,000 bytes as JSON (larger data goes in a
        file attached with `Create Work Item`). Without a payload no request body is sent, so Control Room
        starts the run with the process's default work item (an empty one if the process has none).
        Returns the run (``id``, ``state``, ``process``, ``created_at`` …).

        With ``callback_url`` Control Room POSTs the run's events (``callback_events``: ``started``,
        ``completed``, ``unresolved``; default the last two) there, signed with ``callback_secret`` in
        ``x-rc-signature`` (check it with `Verify Control Room Webhook Signature`).

        The request is never repeated after an unclear failure, so it never starts two runs. When the
        answer is lost the keyword fails saying a run may have started, with the process and the moment
        to list runs from (`List Process Runs` with ``since``). Calling it again with the same process and
        payload - for example inside ``Wait Until Keyword Succeeds`` - first looks for the run that attempt
        started and returns it instead of starting another. A start without a payload has nothing to
        recognise its run by: called again after an unclear failure, it fails again the same way rather
        than start a second run. When the run started but reading it back failed, the run is returned
        with its ``id`` (and ``state`` ``new``) instead of failing.

        Example:
        | ${run} = | Trigger Process Run | Invoice Processing | ${{ {"invoice": "INV-1"} }} |
        | ${run} = | Wait For Process Run | ${run}[id] |
        | ${run} = | Trigger Process Run | Invoice Processing | callback_url=${HOOK} | callback_secret=${secret} |
        """
        run = self.client.trigger_run(process, _payload_or_none(payload), callback)
        log.info(f"Started run {run['id']} of {process}: {self.client.run_link(run['id'])}")
        return run

    @trigger_keyword()
    def trigger_process_runs(self, process: str, payloads: list[Any], callback: Callback = None) -> list[Record]:
        """Start one run of ``process`` PER payload, each with one input work item; returns the runs in order.

        Use it when every payload is its own job, to be waited for and retried on its own. To feed one
        run with many input work items - which a process step with parallel executions works through
        together - use `Trigger Process Run With Payloads`. ``callback_url``, ``callback_secret`` and
        ``callback_events`` as for `Trigger Process Run`, for each run.

        Example:
        | @{rows} = | Create List | ${{ {"id": 1} }} | ${{ {"id": 2} }} |
        | ${runs} = | Trigger Process Runs | Invoice Processing | ${rows} |
        | ${finished} = | Wait For Process Runs | ${runs} |
        """
        runs = self.client.trigger_runs(process, _payloads(payloads), callback)
        log.info(f"Started {len(runs)} run(s) of {process}.")
        return runs

    @trigger_keyword("work-items")
    def trigger_process_run_with_payloads(self, process: str, payloads: list[Any], callback: Callback = None) -> Record:
        """Start ONE run of ``process`` with one input work item per payload; returns the run.

        This is how a Control Room process with parallel executions is fed: its workers share the run's
        input work items. `Trigger Process Runs` instead starts one run per payload. Each payload is at
        most 100,000 bytes as JSON. Needs the current API (``api=current``). ``callback_url``,
        ``callback_secret`` and ``callback_events`` as for `Trigger Process Run`. Repeated after an unclear
        failure with the same payloads, it returns the run the first attempt started.

        Example:
        | @{rows} = | Create List | ${{ {"invoice": "INV-1"} }} | ${{ {"invoice": "INV-2"} }} |
        | ${run} = | Trigger Process Run With Payloads | Invoice Processing | ${rows} |
        | ${run} = | Wait For Process Run | ${run} |
        """
        run = self.client.trigger_run_with_payloads(process, _payloads(payloads), callback)
        log.info(f"Started run {run['id']} of {process} with {len(payloads)} input work item(s).")
        return run

    @trigger_keyword("work-items")
    def trigger_process_run_with_work_items(
        self, process: str, work_item_ids: list[Any], callback: Callback = None
    ) -> Record:
        """Start a run of ``process`` with existing input work items (ids or work item dictionaries).

        ``callback_url``, ``callback_secret`` and ``callback_events`` as for `Trigger Process Run`.

        Example:
        | ${item} = | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-9"} }} |
        | ${run} = | Trigger Process Run With Work Items | Invoice Processing | ${{ [$item["id"]] }} |
        """
        return self.client.trigger_run_with_work_items(process, ids_of(work_item_ids, "work_item_ids"), callback)

    @trigger_keyword("work-items")
    def trigger_process_run_with_inputs(self, process: str, callback: Callback = None) -> Record | None:
        """Start a run of ``process`` with the work items waiting in its input queue (see `Create Work Item`).

        Returns the run, or ``None`` when no input work items were waiting (Control Room starts no run).
        ``callback_url``, ``callback_secret`` and ``callback_events`` as for `Trigger Process Run`.

        Example:
        | Create Work Item | Invoice Processing | ${{ {"invoice": "INV-10"} }} |
        | ${run} = | Trigger Process Run With Inputs | Invoice Processing |
        """
        run = self.client.trigger_run_with_inputs(process, callback)
        if run is None:
            log.info(f"No input work items were waiting for {process}: no run started.")
        return run

    @keyword(tags=["controlroom", "runs", "read"])
    def get_process_run(self, run_id: Any, process: str | None = None) -> Record:
        """Return the current state of a run (its id, or a run dictionary).

        ``process`` is needed only with ``api=legacy`` for runs this library did not start.

        Example:
        | ${run} = | Get Process Run | ${run}[id] |
        | Should Be Equal | ${run}[state] | completed |
        """
        return self.client.get_run(id_of(run_id, "run_id"), process)

    @keyword(tags=["controlroom", "read", "runs"])
    @takes_polling
    def wait_for_process_run(self, run_id: Any, polling: WaitOptions) -> Record:
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
        (finished,) = self.wait_for_process_runs([run_id], **polling)
        log.info(
            f"Run {finished['id']} is {finished['state']} after {self.client.last_wait['seconds']:.1f} s and "
            f"{self.client.last_wait['status_calls']} status call(s)."
        )
        return finished

    @keyword(tags=["controlroom", "read", "runs"])
    @takes_polling
    def wait_for_process_runs(self, run_ids: list[Any], polling: WaitOptions) -> list[Record]:
        """Wait for several runs (ids or run dictionaries) with one shared back-off; return them finished.

        Fails like `Wait For Process Run` on the first unresolved run (unless ``fail_on_unresolved=False``)
        or when ``timeout`` passes with runs unfinished.

        Example:
        | ${runs} = | Trigger Process Runs | Invoice Processing | ${payloads} |
        | ${runs} = | Wait For Process Runs | ${runs} | timeout=900 | fail_on_unresolved=False |
        """
        return self.client.wait_for_runs(ids_of(run_ids, "run_ids"), **polling)

    @keyword(tags=["controlroom", "runs", "read"])
    def list_process_runs(
        self,
        process: str | None = None,
        state: RunState | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        page_size: int | None = None,
        since: str | None = None,
    ) -> list[Record]:
        """Return runs, newest first, of one process or of the whole workspace.

        ``state`` is filtered by the server. ``since`` (ISO 8601, e.g. ``2024-05-01T12:00:00Z``) keeps
        the runs created from then on - how to check whether an uncertain trigger started a run. Pages
        are followed lazily until ``limit`` runs (0 = all); ``page_size`` sets how many come per request
        (default: ``limit``, at most 100). Control Room's API documents no order, so with ``since`` the
        paging stops at the first older run only when the runs came newest-first; otherwise it reads the
        whole history of the process (one request per 100 runs).

        Example:
        | ${runs} = | List Process Runs | Invoice Processing | state=unresolved |
        | ${all} = | List Process Runs | limit=0 |
        | ${recent} = | List Process Runs | Invoice Processing | since=2024-05-01T12:00:00Z |
        """
        limit_ = arguments.limit(limit)
        return collect(self.client.list_runs(process, state, limit_, page_size, since), limit_, "runs")

    @keyword(tags=["controlroom", "runs", "write"])
    def stop_process_run(
        self,
        run_id: Any,
        reason: str = "",
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing: bool = False,
    ) -> Record:
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
    def delete_process_run(self, run_id: Any) -> Record:
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
    def get_process_run_outputs(self, run_id: Any, limit: int = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the output work items of a run's last step: ``id``, ``payload``, ``files`` ….

        Example:
        | ${outputs} = | Get Process Run Outputs | ${run} |
        | Log | ${outputs}[0][payload] |
        """
        limit_ = arguments.limit(limit)
        return collect(self.client.list_run_outputs(id_of(run_id, "run_id"), limit_), limit_, "outputs")


class ControlRoomWorkItemKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "work-items", "write"])
    def create_work_item(self, process: str, payload: Any = None, files: list[str] | None = None) -> Record:
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
    ) -> list[Record]:
        """Return work items of a process and/or a run, newest first, optionally of one ``state``.

        ``include_data`` adds each item's ``payload`` and ``files``: Control Room's list has no data, so
        that reads every item (one request each). Pages are followed up to ``limit`` items (0 = all).

        Example:
        | ${failed} = | List Work Items | run_id=${run} | state=failed |
        | Retry Work Items | ${failed} |
        """
        limit_ = arguments.limit(limit)
        run = id_of(run_id, "run_id") if run_id else None
        items = self.client.list_work_items(process, run, state, include_data, limit_, page_size)
        return collect(items, limit_, "work items")

    @keyword(tags=["controlroom", "work-items", "read"])
    def get_work_item(self, work_item_id: Any, process: str | None = None) -> Record:
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
    def list_step_runs(self, run_id: Any, process: str | None = None) -> list[Record]:
        """Return the step runs of a run: ``id``, ``state``, ``step`` (``id``, ``name``), ``error`` ….

        A step with parallel executions has one step run per execution.

        Example:
        | ${steps} = | List Step Runs | ${run} |
        | Should Be Equal | ${steps}[0][state] | completed |
        """
        return self.client.list_step_runs(id_of(run_id, "run_id"), process)

    @keyword(tags=["controlroom", "read", "runs"])
    def get_step_run(self, step_run_id: Any) -> Record:
        """Return one step run: ``state`` (``new``, ``awaiting_worker``, ``in_progress``, ``completed``,
        ``failed``), ``error`` (its ``code``), times and ``step``.

        Example:
        | ${step} = | Get Step Run | ${steps}[0] |
        """
        return self.client.get_step_run(id_of(step_run_id, "step_run_id"))

    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_run_console_messages(self, step_run_id: Any, limit: int = 1000) -> list[Record]:
        """Return the robot's console output of a step run: ``timestamp`` and ``message`` per line.

        Example:
        | ${lines} = | List Step Run Console Messages | ${steps}[0] |
        | Log | ${lines}[-1][message] |
        """
        limit_ = arguments.limit(limit)
        return collect(
            self.client.list_console_messages(id_of(step_run_id, "step_run_id"), limit_), limit_, "console messages"
        )

    @keyword(tags=["controlroom", "read", "runs"])
    def list_step_run_events(self, step_run_id: Any, limit: int = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the events of a step run: ``timestamp`` and ``event_type``.

        Example:
        | ${events} = | List Step Run Events | ${steps}[0] |
        """
        limit_ = arguments.limit(limit)
        return collect(self.client.list_step_run_events(id_of(step_run_id, "step_run_id"), limit_), limit_, "events")


class ControlRoomArtifactKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "artifacts", "read"])
    def list_run_artifacts(self, run_id: Any, step_run_id: Any = None, process: str | None = None) -> list[Record]:
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


class ControlRoomWebhookKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "webhooks", "write"])
    def create_control_room_webhook(
        self, process: str, endpoint: str, events: list[WebhookEvent | str] | None = None
    ) -> Record:
        """Create a process webhook: Control Room POSTs the process's run events to ``endpoint``.

        ``events``: ``process_run.started``, ``process_run.completed``, ``process_run.unresolved``
        (default all three). Returns ``id``, ``process``, ``enabled_events``, ``endpoint`` and ``secret``
        - a ``Secret`` that signs every delivery (`Verify Control Room Webhook Signature`). Deliveries
        come at least once: de-duplicate on the event ``id``.

        Example:
        | ${hook} = | Create Control Room Webhook | Invoice Processing | https://example.com/hooks/cr |
        | ${hook} = | Create Control Room Webhook | Invoice Processing | ${url} | events=${UNRESOLVED} |
        """
        hook = self.client.create_webhook(process, endpoint, events or list(WebhookEvent))
        hook["secret"] = Secret(str(hook["secret"]))
        return hook

    @keyword(tags=["controlroom", "webhooks", "read"])
    def list_control_room_webhooks(self) -> list[Record]:
        """Return the workspace's webhooks: ``id``, ``process``, ``enabled_events``, ``endpoint`` (no secrets).

        Example:
        | ${hooks} = | List Control Room Webhooks |
        """
        return self.client.list_webhooks()

    @keyword(tags=["controlroom", "webhooks", "read"])
    def get_control_room_webhook(self, webhook_id: Any) -> Record:
        """Return one webhook (its id or dictionary): ``id``, ``process``, ``enabled_events``, ``endpoint``
        and ``secret`` - a ``Secret`` that signs its deliveries (`Verify Control Room Webhook Signature`).

        Example:
        | ${hook} = | Get Control Room Webhook | ${hook_id} |
        | ${event} = | Verify Control Room Webhook Signature | ${body} | ${signature} | ${hook}[secret] |
        """
        hook = self.client.get_webhook(id_of(webhook_id, "webhook_id"))
        if hook.get("secret"):
            hook["secret"] = Secret(str(hook["secret"]))
        return hook

    @keyword(tags=["controlroom", "webhooks", "write"])
    def delete_control_room_webhook(self, webhook_id: Any) -> Record:
        """Delete a webhook (its id or dictionary); returns ``{id, deleted}``.

        Example:
        | Delete Control Room Webhook | ${hook} |
        """
        return self.client.delete_webhook(id_of(webhook_id, "webhook_id"))

    @keyword(tags=["controlroom", "webhooks", "read"])
    def verify_control_room_webhook_signature(
        self, body: str | bytes, signature: str | None, secret: Secret | str | None = None
    ) -> Record:
        """Check a Control Room webhook's ``x-rc-signature`` header and return the parsed event.

        ``body`` is the raw request body; ``secret`` the webhook's secret (default
        ``CONTROLROOM_WEBHOOK_SECRET``). Fails, in constant time, when the signature does not match.

        Example:
        | ${event} = | Verify Control Room Webhook Signature | ${body} | ${headers}[x-rc-signature] |
        | Log | ${event}[event] |
        """
        return ControlRoomClient.verify_webhook(body, signature, secret)


class ControlRoomAssetKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "assets", "read"])
    def list_control_room_assets(self) -> list[Record]:
        """Return the workspace's assets: ``id`` and ``name``.

        Example:
        | ${assets} = | List Control Room Assets |
        | ${first} = | Get Control Room Asset | ${assets}[0][name] |
        """
        return self.client.list_assets()

    @keyword(tags=["controlroom", "assets", "read"])
    def get_control_room_asset(self, name: str, as_bytes: bool = False) -> Any:
        """Return the content of the asset ``name``: a dictionary or list for JSON, text for ``text/*``.

        Other content types come as bytes, as does everything with ``as_bytes=True``.

        Example:
        | ${config} = | Get Control Room Asset | invoice-settings |
        | Log | ${config}[currency] |
        """
        return self.client.get_asset(name, as_bytes)

    @keyword(tags=["controlroom", "assets", "write"])
    def set_control_room_asset(self, name: str, value: Any, content_type: str | None = None) -> Record:
        """Store ``value`` as the asset ``name``, creating the asset when it does not exist.

        A dictionary or list is stored as JSON, text as ``text/plain`` and bytes as
        ``application/octet-stream`` unless ``content_type`` says otherwise. Content under 5 MB goes in
        one request; larger content through an upload link. Returns ``id``, ``name``, ``content_type``.

        Example:
        | Set Control Room Asset | invoice-settings | ${{ {"currency": "EUR"} }} |
        | Set Control Room Asset | template | ${html} | content_type=text/html |
        """
        return self.client.set_asset(name, value, content_type)

    @keyword(tags=["controlroom", "assets", "write"])
    def delete_control_room_asset(self, name: str) -> Record:
        """Delete the asset ``name``; returns ``{id, deleted}``.

        Example:
        | Delete Control Room Asset | invoice-settings |
        """
        return self.client.delete_asset(name)


class ControlRoomWorkerKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "workers", "read"])
    def list_workers(self, limit: int = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the workspace's workers: ``id``, ``name`` and ``state`` (``offline``, ``idle``, ``busy``).

        Example:
        | ${workers} = | List Workers |
        | ${idle} = | Evaluate | [w for w in $workers if w["state"] == "idle"] |
        """
        limit_ = arguments.limit(limit)
        return collect(self.client.list_workers(limit_), limit_, "workers")


def _payload_or_none(payload: Any) -> Any:
    # None (or an empty text from a .robot file) means no payload: the process's default work item.
    return None if payload is None or payload == "" else payload_of(payload)


def _payloads(payloads: Any) -> list[Any]:
    """A list of payloads; a text or a dictionary is one payload, not a list of them."""
    if isinstance(payloads, str) and payloads.strip()[:1] == "[":
        payloads = payload_of(payloads, "payloads")
    if not arguments.is_list(payloads):
        raise ValidationError(
            f"payloads must be a list of payloads, got {arguments.describe(payloads)}.",
            vendor="Control Room",
            hint="Make it with Create List; for one payload use Trigger Process Run.",
        )
    return [payload_of(payload, f"payloads[{index}]") for index, payload in enumerate(payloads)]
