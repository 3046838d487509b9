"""Work items of both API generations: create with files, read, list, update, retry, mark done, delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from Connectors.core import arguments
from Connectors.core.errors import ValidationError
from Connectors.core.redact import redactor
from Connectors.vendors.controlroom.enums import WorkItemState, checked


@dataclass(frozen=True)
class WorkItemQuery:
    """Which work items to list, checked by the facade; each API generation reads it its own way."""

    process_id: str | None
    run_id: str | None
    state: str | None
    include_data: bool
    limit: int | None
    page_size: int | None


class WorkItemsMixin:
    """Mixed into ``ControlRoomClient``."""

    vendor: str
    backend: Any
    transport: Any
    resolve_process: Any
    _current: Any

    # -- work items ----------------------------------------------------------------------------------
    def create_work_item(self, process: str, payload: Any = None, files: Sequence[str | Path] = ()) -> dict[str, Any]:
        """An input work item waiting in the process's queue, with files uploaded through storage."""
        body = arguments.json_value(payload if payload is not None else {}, "payload")
        listed = [] if files is None else [files] if isinstance(files, (str, PurePath)) else files
        if not arguments.is_list(listed):
            raise ValidationError(f"files must be a list of file paths, got {arguments.describe(files)}.")
        paths = [arguments.existing_file(f, f"files[{index}]") for index, f in enumerate(listed)]
        pid = self.resolve_process(process)
        item_id = self.backend.create_work_item(pid, body)
        for path in paths:
            self._upload(pid, item_id, path)
        return self.get_work_item(item_id, pid)

    def _upload(self, process_id: str, item_id: str, path: Path) -> None:
        url, form = self.backend.upload_slot(process_id, item_id, path.name, path.stat().st_size)
        fields = {str(k): str(v) for k, v in form.items()}
        redactor.register(*(v for k, v in fields.items() if k.lower() != "key"))
        with path.open("rb") as handle:
            files = {"file": (path.name, handle)}
            self.transport.request(
                "POST", url, data=fields, files=files, authenticate=False, throttle=False, idempotent=False
            )

    def get_work_item(self, item_id: str, process: str | None = None, include_data: bool = True) -> dict[str, Any]:
        pid = self.resolve_process(process) if process else None
        return self.backend.get_work_item(item_id, pid, arguments.flag(include_data, "include_data"))

    def list_work_items(
        self,
        process: str | None = None,
        run_id: str | None = None,
        state: WorkItemState | str | None = None,
        include_data: bool = False,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Work items of a process and/or run; with ``include_data`` each item's payload is read as well."""
        state = checked(state, WorkItemState, "work item")
        run = arguments.optional_text(run_id, "run_id", max_length=200)
        data = arguments.flag(include_data, "include_data")
        limit = arguments.limit(limit)
        pid = self.resolve_process(process) if process else None
        return self.backend.list_work_items(WorkItemQuery(pid, run, state, data, limit, page_size))

    def update_work_item_payload(self, item_id: str, payload: Any) -> Any:
        if payload is None:
            raise ValidationError(
                "A work item payload cannot be null.", vendor=self.vendor, hint="Pass a dictionary or a list."
            )
        body = arguments.json_value(payload, "payload")
        return self._current("Updating a work item payload").update_payload(item_id, body)

    def _batch(self, operation: str, item_ids: Sequence[str], process: str | None) -> list[str]:
        ids = arguments.texts(item_ids, "item_ids", allow_empty=True)
        if ids:
            self.backend.batch(operation, ids, self.resolve_process(process) if process else None)
        return ids

    def retry_work_items(self, item_ids: Sequence[str], process: str | None = None) -> list[str]:
        """Ask Control Room to retry failed work items (items in another state are left as they are)."""
        return self._batch("retry", item_ids, process)

    def delete_work_items(self, item_ids: Sequence[str]) -> list[str]:
        return self._batch("delete", item_ids, None)

    def mark_work_items_done(self, item_ids: Sequence[str]) -> list[str]:
        return self._batch("mark_as_done", item_ids, None)
