"""Step runs of both API generations: their details, console, events and artifacts."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

from Connectors.core import arguments
from Connectors.core.errors import ConfigurationError, PermissionDenied, ValidationError
from Connectors.core.redact import signed


class StepRunsMixin:
    """Mixed into ``ControlRoomClient``."""

    backend: Any
    transport: Any
    _current: Any
    _process_of_run: Any

    # -- step runs and artifacts -------------------------------------------------------------------
    def list_step_runs(self, run_id: str, process: str | None = None) -> list[dict[str, Any]]:
        run_id = arguments.text(run_id, "run_id", max_length=200)
        return self.backend.list_step_runs(run_id, self._process_of_run(run_id, process))

    def get_step_run(self, step_run_id: str) -> dict[str, Any]:
        return self._current("Reading one step run").get_step_run(step_run_id)

    def list_console_messages(self, step_run_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._current("Console messages").list_console_messages(step_run_id, limit)

    def list_step_run_events(self, step_run_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._current("Step run events").list_step_run_events(step_run_id, limit)

    def list_artifacts(
        self, run_id: str, step_run_id: str | None = None, process: str | None = None
    ) -> list[dict[str, Any]]:
        """Artifacts (``id``, ``name``, ``size``) of one step run or of every step run of the run."""
        run_id = arguments.text(run_id, "run_id", max_length=200)
        step_run_id = arguments.optional_text(step_run_id, "step_run_id", max_length=200)
        pid = self._process_of_run(run_id, process)
        step_ids = [step_run_id] if step_run_id else [str(s["id"]) for s in self.list_step_runs(run_id, pid)]
        return [
            dict(row, step_run_id=sid, process_run_id=run_id)
            for sid in step_ids
            for row in self.backend.list_artifacts(sid, run_id, pid)
        ]

    def _artifact_url(self, artifact: dict[str, Any], process: str | None = None) -> str:
        return signed(
            self.backend.artifact_url(artifact, self._process_of_run(str(artifact["process_run_id"]), process))
        )

    def download_artifacts(
        self,
        run_id: str,
        folder: str | Path,
        pattern: str = "*",
        process: str | None = None,
        step_run_id: str | None = None,
    ) -> list[Path]:
        """Download the run's artifacts whose file name matches ``pattern`` (``fnmatch``) into ``folder``."""
        target = _folder(folder)
        pattern = arguments.text(pattern, "pattern", max_length=500)
        saved: list[Path] = []
        for artifact in self.list_artifacts(run_id, step_run_id, process):
            name = Path(str(artifact["name"])).name
            if not fnmatch.fnmatch(name, pattern):
                continue
            content = self._fetch_signed(self._artifact_url(artifact, process))
            path = target / name
            if path in saved:
                path = target / f"{artifact['step_run_id']}-{name}"
            path.write_bytes(content)
            saved.append(path)
        return saved

    def _fetch_signed(self, url: str) -> bytes:
        # Storage, not the API: no RC-WSKEY header (it would leak the key to a third party), no throttle.
        try:
            return self.transport.request("GET", signed(url), authenticate=False, throttle=False).content
        except PermissionDenied as error:
            error.hint = "The storage refused the pre-signed link (it expires quickly); download again for a new one."
            raise error from None


def _folder(folder: Any) -> Path:
    """The download folder, created if needed; a bad path is one line naming ``folder``."""
    if not isinstance(folder, (str, PurePath)) or not str(folder).strip():
        raise ValidationError(f"folder must be a folder path, got {arguments.describe(folder)}.")
    target = Path(arguments.line(str(folder), "folder"))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"Cannot create the folder {arguments.describe(str(target))} ({error.strerror}).",
            hint="Pass a folder you can write to.",
        ) from None
    return target
