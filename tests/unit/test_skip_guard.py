"""Skips are failures in CI: the guard (tests/conftest.py, tests/support/skip_guard.py) and CI's entry point on a
machine without redis-server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import skip_guard

ROOT = Path(__file__).resolve().parents[2]
REDIS_TESTS = [
    "tests/unit/test_throttle_stores.py::test_the_redis_backend_admits_exactly_like_memory",
    "tests/unit/test_throttle_stores.py::test_a_redis_outage_falls_back_to_the_share_and_reconnects",
]


def _pytest_without_redis(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """The Redis store tests on a machine whose PATH has no redis-server (an empty folder: Python is run by path)."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = str(empty)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *REDIS_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_ci_without_redis_server_fails_naming_the_skipped_tests(tmp_path: Path) -> None:
    result = _pytest_without_redis(tmp_path, ci="true")
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    verdict = next(line for line in output.splitlines() if line.startswith("CI: 2 of them not in"))
    for test in REDIS_TESTS:
        assert test in verdict
    assert "SKIPPED tests/unit/test_throttle_stores.py::test_a_redis_outage" in output
    assert "redis-server is not installed" in output


def test_outside_ci_a_skip_is_listed_but_does_not_fail(tmp_path: Path) -> None:
    result = _pytest_without_redis(tmp_path, ci=None)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 test(s) skipped or xfailed:" in output and "CI:" not in output


def test_an_allowed_skip_needs_its_reason(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed.txt"
    allowed.write_text("# comment\n\ntests/unit/test_x.py::test_*  # this platform has no /proc\n")
    assert skip_guard.load_allowed(allowed) == {"tests/unit/test_x.py::test_*": "this platform has no /proc"}
    skips = [skip_guard.Skip("tests/unit/test_x.py::test_a", "no /proc"), skip_guard.Skip("Suite.Test", "no")]
    assert skip_guard.unexpected(skips, skip_guard.load_allowed(allowed)) == skips[1:]
    allowed.write_text("tests/unit/test_x.py::test_a\n")
    with pytest.raises(ValueError, match="has no reason"):
        skip_guard.load_allowed(allowed)


def test_the_allow_list_parses() -> None:
    assert isinstance(skip_guard.load_allowed(), dict)


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("0", False), ("false", False), ("true", True), ("1", True)]
)
def test_ci_is_read_from_the_environment(value: str, expected: bool) -> None:
    assert skip_guard.in_ci({"CI": value}) is expected


def test_ci_run_stops_when_redis_server_cannot_be_installed(tmp_path: Path) -> None:
    """.ci/run on a machine with neither redis-server nor apt-get: it fails before any test runs (no `make` is on
    this PATH either, so nothing heavier could start)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("dirname", "mktemp", "rm"):
        found = shutil.which(name)
        assert found, name
        (tools / name).symlink_to(found)
    bash = shutil.which("bash")
    assert bash
    result = subprocess.run(
        [bash, str(ROOT / ".ci" / "run")],
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "redis-server is not on PATH and could not be installed" in result.stderr
    assert "make test" not in result.stdout


def test_a_module_skipped_while_collected_fails_in_ci(tmp_path: Path) -> None:
    """``pytest.importorskip`` of a missing package skips a whole module at collection (the peer tests do)."""
    (tmp_path / "test_peer.py").write_text(
        'import pytest\n\npytest.importorskip("no_such_peer_package", reason="no_such_peer_package is not installed")\n'
        "\n\ndef test_peer() -> None:\n    pass\n"
    )
    env = {**{k: v for k, v in os.environ.items() if k != "CI"}, "CI": "1", "PYTHONPATH": str(ROOT / "tests")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest"]
    result = subprocess.run(
        [*command, "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "SKIPPED test_peer.py: no_such_peer_package is not installed" in result.stdout
    assert "skips fail CI" in result.stdout
