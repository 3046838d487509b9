"""``ControlRoomClient``: one facade over Control Room's two API generations.

``api=current`` (``/api/v1``, ``current.py``) follows Robocorp's OpenAPI spec; ``api=legacy``
(``/process-v1``, ``legacy.py``) translates the legacy answers to the same shapes. Waiting lives in
``waiting.py``; webhooks, assets and workers in ``resources.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from Connectors.core import arguments, log
from Connectors.core.config import Credential
from Connectors.core.errors import (
    ConfigurationError,
    ConnectorError,
    NotFound,
    PermissionDenied,
    ServerError,
    UncertainOutcome,
    ValidationError,
)
from Connectors.core.paging import Page, paginate
from Connectors.core.paths import segment
from Connectors.core.repeats import fingerprint, journal
from Connectors.vendors.base import BaseClient, named
from Connectors.vendors.controlroom import waiting
from Connectors.vendors.controlroom.current import CurrentApi
from Connectors.vendors.controlroom.enums import (
    CallbackEvent,
    ControlRoomApi,
    RunState,
    checked,
    value_of,
)
from Connectors.vendors.controlroom.errors import (
    ProcessRunFailed,
    ProcessRunTimeout,
    RunTriggerUncertain,
    permission_hint,
)
from Connectors.vendors.controlroom.items import WorkItemsMixin
from Connectors.vendors.controlroom.legacy import LegacyApi
from Connectors.vendors.controlroom.profile import CLOUD_LEGACY_URL, CONTROLROOM
from Connectors.vendors.controlroom.resources import ResourcesMixin
from Connectors.vendors.controlroom.steps import StepRunsMixin

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

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


class ControlRoomClient(StepRunsMixin, WorkItemsMixin, ResourcesMixin, BaseClient):
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
        self.process_names: dict[str, str] = {}  # id -> name
        self.run_process: dict[str, str] = {}  # run id -> process id (the legacy API needs both)
        self.last_wait: dict[str, Any] = {}
        current = self.api is ControlRoomApi.CURRENT
        self.backend: CurrentApi | LegacyApi = CurrentApi(self) if current else LegacyApi(self)

    # -- plumbing: the one place a response is read and a 403 explained ---------------------------
    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        try:
            response = self.transport.request(method, path, **kwargs)
        except PermissionDenied as error:
            error.hint = permission_hint(operation, error.vendor_message, self.workspace_id)
            raise error from None
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

    def _pages(
        self,
        path: str,
        operation: str,
        params: dict[str, Any],
        limit: int | None,
        page_size: int | None = None,
        send_limit: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Items of a ``{"data", "has_more", "next"}`` listing, fetching the next page only when needed."""
        limit = arguments.limit(limit)
        page_size = None if page_size is None else arguments.whole_number(page_size, "page_size", minimum=1)
        query = {k: v for k, v in params.items() if v not in (None, "")}
        if send_limit:
            query["limit"] = page_size or (min(limit, 100) if limit else 100)

        def fetch(next_url: Any) -> Page[dict[str, Any]]:
            body = (
                self._call("GET", next_url, operation) if next_url else self._call("GET", path, operation, params=query)
            )
            return Page(list(body.get("data") or []), body.get("next") if body.get("has_more") else None)

        return paginate(fetch, None, limit)

    def _current(self, what: str) -> CurrentApi:
        if not isinstance(self.backend, CurrentApi):
            raise ConfigurationError(
                f"{what} is part of the current API only.", hint="Connect with api=current (the default)."
            )
        return self.backend

    # -- processes -----------------------------------------------------------------------------------
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
    def _start(self, process_id: str, body: dict[str, Any] | None, legacy: tuple[str, Any]) -> list[str]:
        """Send one start request; the run ids it started (none: Control Room had no inputs waiting).

        A request that may or may not have started a run raises ``RunTriggerUncertain`` with the process
        and the moment to list runs from; it is never sent twice.
        """
        since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat(timespec="seconds")
        since = since.replace("+00:00", "Z")
        try:
            if isinstance(self.backend, CurrentApi):
                run_id = self.backend.start(process_id, body)
                ids = [run_id] if run_id else []
            else:
                ids = self.backend.start_legacy(process_id, *legacy)
        except (UncertainOutcome, ServerError) as error:
            name = self.process_names.get(process_id, "")
            raise RunTriggerUncertain(
                f"a run of process {name or process_id} may or may not have started: {error.message}",
                process_id=process_id,
                process_name=name,
                since=since,
                vendor=self.vendor,
                method="POST",
                path=error.path,
                status=error.status,
            ) from None
        for run_id in ids:
            self.run_process[run_id] = process_id
        return ids

    def _read_back(self, run_id: str, process_id: str) -> dict[str, Any]:
        """The started run; if reading it fails, the run id with what is known (the run was accepted)."""
        try:
            return self.get_run(run_id, process_id)
        except ConnectorError as error:
            log.info(f"Started run {run_id} of process {process_id}, but could not read it back: {error}")
            name = self.process_names.get(process_id, "")
            return {"id": run_id, "state": RunState.NEW.value, "process": {"id": process_id, "name": name}}

    def trigger_run(self, process: str, payload: Any = None, callback: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start one run whose single input work item carries ``payload`` (an empty one when None)."""
        return self.trigger_runs(process, [payload], callback)[0]

    def trigger_runs(
        self, process: str, payloads: Sequence[Any], callback: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One run per payload (the legacy API does it in one ``runs-batch`` call)."""
        if not arguments.is_list(payloads):
            # A text is not a list of payloads: "abc" would start three runs.
            raise ValidationError(
                f"payloads must be a list of payloads (one run each), got {arguments.describe(payloads)}.",
                vendor=self.vendor,
                hint="Pass a list; for one run use trigger_run.",
            )
        rows = [arguments.json_value(p if p is not None else {}, f"payloads[{i}]") for i, p in enumerate(payloads)]
        callback = _callback(callback)
        pid = self.resolve_process(process)
        if not rows:
            return []
        if isinstance(self.backend, LegacyApi):
            self._no_callback(callback)
        if isinstance(self.backend, LegacyApi) and len(rows) > 1:
            ids = self._start(pid, None, ("runs-batch", rows))
        else:
            ids = [i for row in rows for i in self._start_once(pid, row, callback)]
        return [self._read_back(run_id, pid) for run_id in ids]

    def _start_once(self, pid: str, payload: Any, callback: dict[str, Any] | None) -> list[str]:
        """Start one run with ``payload`` - unless an earlier attempt of this same trigger, whose answer was
        lost, did start it: then that run is the answer (Control Room has no idempotency keys, so the
        runs of the process since that attempt are looked at for one whose work item carries the payload)."""
        write = fingerprint("trigger", self.url, self.workspace_id, pid, payload)
        pending = journal.pending(write)
        if pending:
            found = self._run_started_earlier(pid, payload, pending.started_at)
            if found:
                log.info(f"Run {found} of process {pid} was started by the earlier attempt; not triggering again.")
                journal.forget(write)
                return [found]
        started = time.time()
        try:
            if isinstance(self.backend, LegacyApi):
                ids = self._start(pid, None, ("runs", payload))
            else:
                ids = self._start(pid, _body("with_payloads", callback, payloads=[payload]), ("", 0))
        except RunTriggerUncertain:
            journal.remember(write, None, started)
            raise
        journal.forget(write)
        return ids

    def _run_started_earlier(self, pid: str, payload: Any, started_at: float) -> str | None:
        since = datetime.fromtimestamp(started_at - 5, timezone.utc)
        for run in self.list_runs(pid, since=since, limit=50):
            items = self.list_work_items(process=pid, run_id=str(run["id"]), include_data=True, limit=5)
            if any(item.get("payload") == payload for item in items):
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
        if isinstance(self.backend, LegacyApi):
            self._no_callback(callback)
        body = _body("with_work_item_ids", callback, work_item_ids=ids)
        (run_id,) = self._start(pid, body, ("run-request", {"type": "workItemIds", "workItemIds": ids}))
        return self._read_back(run_id, pid)

    def trigger_run_with_inputs(self, process: str, callback: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Start a run with the items waiting in the process's input queue; None when none are waiting."""
        self._current("Starting a run with the waiting input work items")
        callback = _callback(callback)
        pid = self.resolve_process(process)
        ids = self._start(pid, _body("with_inputs", callback), ("", None))
        return self._read_back(ids[0], pid) if ids else None

    def _no_callback(self, callback: dict[str, Any] | None) -> None:
        if callback:
            self._current("A run callback")

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
        """Runs, newest first; ``since`` keeps those created at or after that moment (ISO 8601 or datetime)."""
        state = checked(state, RunState, "run")
        limit = arguments.limit(limit)
        pid = self.resolve_process(process) if process else None
        after = _moment(since) if since is not None and since != "" else None
        rows = self.backend.list_runs(pid, state, None if after else limit, page_size)
        produced = 0
        for row in rows:
            if after and (not row.get("created_at") or _moment(row["created_at"]) < after):
                continue
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

    def wait_for_run(self, run_id: str, **options: Unpack[waiting.WaitOptions]) -> dict[str, Any]:
        """Poll until the run is completed or unresolved; ``options`` as for ``wait_for_runs``."""
        unknown = sorted(set(options) - waiting.WaitOptions.__optional_keys__)
        if unknown:
            names = ", ".join(sorted(waiting.WaitOptions.__optional_keys__))
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
        """Wait for several runs with one shared back-off; the finished runs in the order given."""
        polling = (timeout, poll_interval, max_interval, backoff)
        return waiting.wait_for_runs(self, run_ids, *polling, process, fail_on_unresolved)


def _api_of(value: ControlRoomApi | str | None) -> ControlRoomApi:
    try:
        return ControlRoomApi(str(value_of(value) or "current").lower())
    except ValueError:
        raise ConfigurationError(f"Unknown Control Room API {value!r}.", hint="Use api=current or api=legacy.")


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


def _callback(callback: Any) -> dict[str, Any] | None:
    # A run callback as the client takes it (callback_of builds one): a dictionary of JSON values.
    return None if callback is None else arguments.mapping(callback, "callback")


def _body(kind: str, callback: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, **fields}
    if callback:
        body["callback"] = callback
    return body


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
