"""Work items of both API generations: create with files, read, list, update, retry, mark done, delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from Connectors.core.errors import ValidationError
from Connectors.core.redact import redactor
from Connectors.vendors.controlroom.enums import WorkItemState, checked


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
        pid = self.resolve_process(process)
        paths = [Path(f) for f in files]
        for path in paths:
            if not path.is_file():
                raise ValidationError(f"File {path} does not exist.", vendor=self.vendor, hint="Check the path.")
        item_id = self.backend.create_work_item(pid, payload if payload is not None else {})
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
        return self.backend.get_work_item(item_id, pid, include_data)

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
        pid = self.resolve_process(process) if process else None
        return self.backend.list_work_items(pid, run_id, state, include_data, limit, page_size)

    def update_work_item_payload(self, item_id: str, payload: Any) -> Any:
        if payload is None:
            raise ValidationError(
                "A work item payload cannot be null.", vendor=self.vendor, hint="Pass a dictionary or a list."
            )
        return self._current("Updating a work item payload").update_payload(item_id, payload)

    def _batch(self, operation: str, item_ids: Sequence[str], process: str | None) -> list[str]:
        ids = [str(i) for i in item_ids]
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
