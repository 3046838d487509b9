"""Unattended OAuth: a robot that runs again and again, each time in a fresh environment, as every
Control Room run does - and many workers sharing one rotating refresh token.

A "fresh environment" is a new HOME, a new temporary folder and working folder, with nothing kept from
the run before: only the variables a scheduled process would have. Before each run every access token
is expired at the provider (the sandbox's Robaws OAuth server), so each run must refresh - and Robaws
rotates refresh tokens, so a run that refreshes spends the token the next run would have used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors_sandbox.server import SandboxProcess
from support.redis_server import RedisServer, redis_or_skip

pytest.importorskip("robocorp.vault", reason="robocorp-vault is not installed")
pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
ROBOT = ROOT / "tests" / "integration" / "robots" / "oauth_robot.robot"
WORKER = ROOT / "tests" / "support" / "oauth_worker.py"
PASSED_ON = ("ROBAWS_URL", "ROBAWS_CLIENT_ID", "ROBAWS_CLIENT_SECRET")
VAULT = ("RC_API_SECRET_HOST", "RC_API_SECRET_TOKEN", "RC_WORKSPACE_ID")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


def fresh_environment(sandbox: SandboxProcess, folder: Path, **variables: str) -> dict[str, str]:
    """What a scheduled run has: the process's variables, a new HOME and temporary folder, nothing else."""
    facts = sandbox.environment()
    env = {"PATH": os.environ["PATH"], "HOME": str(folder), "TMPDIR": str(folder), "LANG": "C.UTF-8"}
    env.update({name: facts[name] for name in (*PASSED_ON, *VAULT)})
    env.update(variables)
    return env


def in_fresh_environment(
    sandbox: SandboxProcess, command: list[str], seed: dict[str, bytes] | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a new folder that is deleted afterwards; ``seed`` files are what the robot ships."""
    folder = Path(tempfile.mkdtemp(prefix="fresh-run-"))
    try:
        for name, content in (seed or {}).items():
            (folder / name).write_bytes(content)
        env = fresh_environment(sandbox, folder, **variables)
        return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def log_in(sandbox: SandboxProcess, store: str) -> subprocess.CompletedProcess[str]:
    """The one interactive step: ``connectors login robaws --token-store <store>`` (on any machine)."""
    command = [sys.executable, "-m", "Connectors", "login", "robaws", "--fetch-authorize-url", "--token-store", store]
    result = in_fresh_environment(sandbox, [*command, "--timeout", "30"])
    assert result.returncode == 0, result.stderr
    return result


def run_robot(
    sandbox: SandboxProcess, seed: dict[str, bytes] | None = None, logs: Path | None = None, **variables: str
) -> tuple[int, str]:
    """The OAuth robot in a fresh environment, after every access token was expired at the provider;
    ``logs``: keep output.xml and log.html there, written at TRACE."""
    sandbox.admin("POST", "/_sandbox/robaws/expire-tokens", {})
    outputs = ["--loglevel", "TRACE", "--outputdir", str(logs)] if logs else ["--output", "NONE", "--log", "NONE"]
    command = [sys.executable, "-m", "robot", *outputs, "--report", "NONE", str(ROBOT)]
    result = in_fresh_environment(sandbox, command, seed, **variables)
    return result.returncode, result.stdout + result.stderr


def refreshes(sandbox: SandboxProcess) -> int:
    return int(sandbox.admin("GET", "/_sandbox/config")["vendors"]["robaws"]["oauth"]["refresh_count"])


def refused(sandbox: SandboxProcess) -> int:
    return int(sandbox.admin("GET", "/_sandbox/config")["vendors"]["robaws"]["oauth"]["refused_refresh_count"])


def three_runs(sandbox: SandboxProcess, store: str, logs: Path) -> None:
    log_in(sandbox, store)
    for number in range(1, 4):
        code, output = run_robot(sandbox, logs=logs / f"run-{number}", CONNECTORS_TOKEN_STORE=store)
        assert code == 0, f"run {number} with {store}: {output[-1500:]}"
    assert refreshes(sandbox) == 3  # one per run, each spending the token the previous run stored
    # Tokens read from and written to the store never reach the logs, at TRACE either.
    written = "".join(path.read_text(errors="replace") for path in logs.glob("run-*/*.*"))
    assert written.count("List Robaws Clients") >= 3  # the logs of three runs were searched
    leaked = [secret[:4] + "…" for secret in sandbox.admin("GET", "/_sandbox/secrets") if secret in written]
    assert leaked == []


def test_three_fresh_runs_pass_with_the_redis_store(
    sandbox: SandboxProcess, redis_server: RedisServer, tmp_path: Path
) -> None:
    three_runs(sandbox, redis_server.url, tmp_path)


def test_three_fresh_runs_pass_with_the_vault_store(sandbox: SandboxProcess, tmp_path: Path) -> None:
    three_runs(sandbox, "vault:robaws_oauth", tmp_path)
    # The secret holds the last rotation, in its own keys.
    assert "robaws_oauth" in sandbox.admin("GET", "/_sandbox/config")["vendors"]["controlroom"]["vault"]["secrets"]


def failure_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "OAuth2 token" in line and "::" not in line]
    assert len(lines) == 1, output
    return lines[0]


def test_a_token_file_does_not_survive_a_fresh_environment(sandbox: SandboxProcess) -> None:
    log_in(sandbox, "tokens.json")  # logged in on some machine; the run's environment never sees the file
    code, output = run_robot(sandbox)
    assert code == 1
    line = failure_line(output)
    assert line.startswith("No OAuth2 token stored under 'robaws:") and "/.connectors/tokens.json" in line
    assert "fresh environment" in line and "connectors login robaws --token-store vault:<secret name>" in line


def test_a_token_file_shipped_with_the_robot_dies_at_the_second_run(sandbox: SandboxProcess) -> None:
    """The tempting workaround: commit tokens.json with the robot. The first run rotates the refresh
    token; the next fresh environment starts from the same file again, with a spent token."""
    folder = Path(tempfile.mkdtemp())
    try:
        command = [sys.executable, "-m", "Connectors", "login", "robaws", "--fetch-authorize-url"]
        env = fresh_environment(sandbox, folder)
        login = subprocess.run(
            [*command, "--token-store", str(folder / "tokens.json"), "--timeout", "30"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert login.returncode == 0, login.stderr
        shipped = {"tokens.json": (folder / "tokens.json").read_bytes()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    first, output = run_robot(sandbox, shipped, CONNECTORS_TOKEN_STORE="tokens.json")
    assert first == 0, output
    second, output = run_robot(sandbox, shipped, CONNECTORS_TOKEN_STORE="tokens.json")
    assert second == 1
    line = failure_line(output)
    assert "invalid_grant" in line and "already spent" in line and "--token-store vault:<secret name>" in line


# -- many workers, one token -------------------------------------------------------------------------

WORKERS = 16
ROUNDS = 2


def many_workers(
    sandbox: SandboxProcess, folder: Path, store: str, count: int = WORKERS, **variables: str
) -> list[int]:
    """16 worker processes sharing ``store``; every round they call at once with an expired token.
    Returns the provider's refresh count after each round."""
    sandbox.configure(rate_scale=20.0)  # 32 calls at once stay within Robaws' burst
    log_in(sandbox, store)
    env = fresh_environment(sandbox, folder, CONNECTORS_TOKEN_STORE=store, ROBAWS_RATE_SCALE="20", **variables)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(folder), str(ROUNDS), str(number)],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(count)
    ]
    counts = []
    try:
        wait_for(folder, "ready-", count, workers)
        for number in range(1, ROUNDS + 1):
            sandbox.admin("POST", "/_sandbox/robaws/expire-tokens", {})
            (folder / f"go-{number}").write_text("")
            wait_for(folder, f"done-{number}-", count, workers)
            statuses = {path.read_text() for path in folder.glob(f"done-{number}-*")}
            assert statuses == {"200"}, statuses
            counts.append(refreshes(sandbox))
        for worker in workers:
            assert worker.wait(60) == 0, worker.stderr.read() if worker.stderr else ""
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return counts


def wait_for(folder: Path, prefix: str, count: int, workers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 240
    while len(list(folder.glob(prefix + "*"))) < count:
        failed = [worker for worker in workers if worker.poll() not in (None, 0)]
        if failed:
            raise AssertionError(failed[0].stderr.read() if failed[0].stderr else "a worker failed")
        assert time.monotonic() < deadline, f"only {len(list(folder.glob(prefix + '*')))} of {count} {prefix}"
        time.sleep(0.05)


def test_sixteen_workers_through_redis_refresh_once_a_round(
    sandbox: SandboxProcess, redis_server: RedisServer, tmp_path: Path
) -> None:
    counts = many_workers(sandbox, tmp_path, redis_server.url)
    print(f"Redis store, {WORKERS} workers: refresh count after each round {counts}, refused {refused(sandbox)}")
    assert counts == [1, 2] and refused(sandbox) == 0


def test_sixteen_workers_through_the_vault_all_continue(sandbox: SandboxProcess, tmp_path: Path) -> None:
    """No lock anywhere: the workers race, the provider rotates for one, the others are refused, read
    the winner's token from the Vault and go on."""
    counts = many_workers(sandbox, tmp_path, "vault:robaws_oauth")
    print(
        f"Vault store without a lock, {WORKERS} workers: refresh count after each round {counts}, "
        f"refused (lost races) {refused(sandbox)}"
    )
    assert counts == [1, 2]  # the provider honours one refresh per token; every worker still got its 200
    # The stored token works afterwards, for a new run.
    code, output = run_robot(sandbox, CONNECTORS_TOKEN_STORE="vault:robaws_oauth")
    assert code == 0, output[-1500:]


def test_sixteen_workers_through_the_vault_lock_in_the_throttle_store(
    sandbox: SandboxProcess, redis_server: RedisServer, tmp_path: Path
) -> None:
    counts = many_workers(sandbox, tmp_path, "vault:robaws_oauth", CONNECTORS_THROTTLE_STORE=redis_server.url)
    print(
        f"Vault store, lock in Redis, {WORKERS} workers: refresh count after each round {counts}, "
        f"refused {refused(sandbox)}"
    )
    assert counts == [1, 2] and refused(sandbox) == 0


def test_a_rotation_the_vault_refuses_to_store_is_not_used(sandbox: SandboxProcess) -> None:
    log_in(sandbox, "vault:robaws_oauth")
    read_only = sandbox.environment()["CONTROLROOM_VAULT_READONLY_TOKEN"]
    code, output = run_robot(sandbox, CONNECTORS_TOKEN_STORE="vault:robaws_oauth", RC_API_SECRET_TOKEN=read_only)
    assert code == 1
    line = failure_line(output)
    assert line.startswith("The refreshed OAuth2 token was not used: Vault secret 'robaws_oauth' could not be written")
    assert "HTTP 403" in line and "keeps its previous values" in line and "log in again" in line
    assert refreshes(sandbox) == 1


def test_workers_through_the_vault_lock_beside_a_sqlite_throttle_store(sandbox: SandboxProcess, tmp_path: Path) -> None:
    workers = tmp_path / "workers"
    workers.mkdir()
    store = f"sqlite:///{tmp_path}/throttle.db"
    counts = many_workers(sandbox, workers, "vault:robaws_oauth", 6, CONNECTORS_THROTTLE_STORE=store)
    print(
        f"Vault store, lock beside SQLite, 6 workers: refresh count after each round {counts}, "
        f"refused {refused(sandbox)}"
    )
    assert counts == [1, 2] and refused(sandbox) == 0
