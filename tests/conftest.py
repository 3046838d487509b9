"""Shared fixtures: a sandbox on a free port for the whole session, reset before each test that uses it; and
the skip guard: with ``CI`` set, a skipped or xfailed test fails the run unless tests/allowed_skips.txt lists it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from Connectors.core import repeats
from Connectors.core.stores import forget_local_state
from Connectors.vendors import VENDORS
from connectors_sandbox.server import SandboxProcess
from support import skip_guard

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


# What this session skipped, and which of it CI refuses (pytest_runtest_logreport receives no config to stash on).
_skips: list[skip_guard.Skip] = []
_failing: list[skip_guard.Skip] = []


def pytest_configure(config: pytest.Config) -> None:
    try:
        skip_guard.load_allowed()  # a malformed allow-list fails before any test runs, in one line
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module skipped whole while collected (``pytest.importorskip`` of a missing package) reports here."""
    if report.skipped:
        _skips.append(skip_guard.Skip(report.nodeid, _reason(report.longrepr)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        _skips.append(skip_guard.Skip(report.nodeid, str(report.wasxfail) or "xfail", "xfailed"))
        return
    _skips.append(skip_guard.Skip(report.nodeid, _reason(report.longrepr)))


def _reason(longrepr: object) -> str:
    """A skip's reason: pytest keeps it as (path, line, "Skipped: reason")."""
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(reason).removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if skip_guard.in_ci():
        _failing[:] = skip_guard.unexpected(_skips, skip_guard.load_allowed())
        if _failing and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in skip_guard.describe(_skips, _failing, skip_guard.in_ci()):
        terminalreporter.write_line(line, red=bool(_failing), yellow=not _failing)
