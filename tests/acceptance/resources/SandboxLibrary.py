"""Starts the offline sandbox for an acceptance suite and points the connectors at it.

Suite Setup:     Start Sandbox
Suite Teardown:  Stop Sandbox
"""

from __future__ import annotations

import os
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library

from Connectors.core.stores import forget_local_state
from connectors_sandbox.server import SandboxProcess


@library(scope="GLOBAL")
class SandboxLibrary:
    def __init__(self) -> None:
        self.process: SandboxProcess | None = None
        self._saved: dict[str, str | None] = {}

    @keyword
    def start_sandbox(
        self, rate_scale: float = 1.0, faults: str = "", seed: int | None = None, extra_args: list[str] | None = None
    ) -> str:
        """Start a sandbox with demo data on a free port; set ``<VENDOR>_URL`` and demo credentials."""
        url = os.environ.get("CONNECTORS_SANDBOX_URL")
        if url:  # a sandbox started by the caller (make run) is reused
            self.process = _External(url)
        else:
            log_dir = os.environ.get("SANDBOX_LOG_DIR")
            log_file = os.path.join(log_dir, "sandbox.log") if log_dir else None
            self.process = SandboxProcess(
                demo=True, rate_scale=rate_scale, faults=faults, seed=seed, log_file=log_file, extra_args=extra_args
            ).start()
        for name, value in self.process.environment().items():
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        logger.info(f"Sandbox at {self.process.url}")
        return self.process.url

    @keyword
    def reset_sandbox(self) -> None:
        assert self.process
        self.process.reset(demo=True)
        forget_local_state()  # the clients' memory of the old server's limits and daily counts

    @keyword
    def configure_sandbox(
        self,
        rate_scale: float | None = None,
        faults: str | None = None,
        seed: int | None = None,
        time_scale: float | None = None,
        run_seconds: float | None = None,
        reset: bool | None = None,
    ) -> dict[str, Any]:
        """Change sandbox settings; only the ones given are sent (the sandbox checks their JSON types,
        hence the typed arguments), except ``seed``, which is always sent: without one, faults are drawn
        unseeded.

        Returns the general settings only: the vendors' demo credentials in the full config must not
        reach Robot Framework's log, where return values are written at TRACE.
        """
        assert self.process
        given = {"rate_scale": rate_scale, "faults": faults, "time_scale": time_scale, "run_seconds": run_seconds}
        settings: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        if reset is not None:
            settings["reset"] = reset
        settings["seed"] = seed
        config = self.process.configure(**settings)
        return {key: value for key, value in config.items() if key != "vendors"}

    @keyword
    def get_sandbox_stats(self) -> dict[str, Any]:
        assert self.process
        return self.process.stats()

    @keyword
    def every_fault_asked_for_should_have_been_met(self, faults: str) -> dict[str, int]:
        """A fault matrix proves something only when the faults it asked for (``5xx=0.6,lost=0.2``) happened:
        call this before turning the faults off. Returns what was met, per kind."""
        met = dict(self.get_sandbox_stats()["faults_injected"])
        logger.info(f"Faults met: {met}")
        for kind in (part.split("=")[0].strip() for part in faults.split(",") if part.strip()):
            if not met.get(kind):
                raise AssertionError(f"No {kind} fault was met (asked for {faults}); the run proves nothing.")
        return met

    @keyword
    def get_sandbox_url(self, vendor: str = "") -> str:
        assert self.process
        return self.process.vendor_url(vendor) if vendor else self.process.url

    @keyword
    def stop_sandbox(self) -> None:
        if self.process:
            self.process.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


class _External(SandboxProcess):
    def __init__(self, url: str) -> None:
        super().__init__(port=1)
        self.url = url.rstrip("/")

    def stop(self) -> None:
        return None
