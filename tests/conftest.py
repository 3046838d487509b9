"""Shared fixtures: a sandbox on a free port for the whole session, reset before each test that uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from Connectors.core import repeats
from Connectors.core.stores import forget_local_state
from Connectors.vendors import VENDORS
from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
# The variables of every vendor start with its key in capitals (ROBAWS_URL …).
PREFIXES = tuple(vendor.key.upper() for vendor in VENDORS)


@pytest.fixture(autouse=True)
def fresh_write_journal() -> Iterator[None]:
    """Each test starts with no remembered uncertain writes (the journal is process-wide on purpose)."""
    repeats.journal.clear()
    yield
    repeats.journal.clear()


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    log_file = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with SandboxProcess(demo=True, log_file=log_file) as process:
        yield process


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> SandboxProcess:
    """The shared sandbox, reset to demo data, with every ``<VENDOR>_*`` variable pointing at it."""
    sandbox_process.configure(rate_scale=1.0, faults="", seed=None, time_scale=1.0, reset=True)
    forget_local_state()  # the client's memory of the old server's limits and daily counts
    for name in list(os.environ):
        if name.split("_", 1)[0] in PREFIXES:
            monkeypatch.delenv(name)
    monkeypatch.delenv("CONNECTORS_THROTTLE_STORE", raising=False)
    for name, value in sandbox_process.environment().items():
        monkeypatch.setenv(name, value)
    return sandbox_process
