"""Running the sandbox: in this process (``serve``) or as a child process for tests and robots.

Importing this module needs no ``[sandbox]`` extra: ``serve`` imports uvicorn and the application when
it runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from connectors_sandbox.options import ADMIN_TOKEN_VARIABLE, FaultSpec, SandboxOptions


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ``OSError`` (``errno.EADDRINUSE``) when the port is taken.

    Bound here rather than by uvicorn, so a busy port is found before anything claims to be running.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on TCP sockets it can recognise as such; without it a
    # kept-alive connection waits 40 ms for each answer (Nagle against delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # Like uvicorn: a port left in TIME_WAIT by a previous run is free; a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


# What an rcc robot's devdata/env.json needs besides the connectors' settings: the file adapters of both work-item
# libraries (RPA.Robocorp.WorkItems, robocorp.workitems) and a token store inside the robot's output.
ROBOT_VARIABLES = {
    "RPA_WORKITEMS_ADAPTER": "RPA.Robocorp.WorkItems.FileAdapter",
    "RC_WORKITEM_ADAPTER": "FileAdapter",
    "CONNECTORS_TOKEN_STORE": "output/tokens.json",
}


def client_url(host: str, port: int) -> str:
    """The URL a robot on this machine uses: a wildcard bind address is reached on the loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


def vendor_environment(app: Any, url: str) -> dict[str, str]:
    """Every vendor's URL and the demo settings it publishes in /_sandbox/config (its ``info()["env"]``)."""
    env: dict[str, str] = {}
    for name, vendor in app.state.vendors.items():
        env[f"{name.upper()}_URL"] = f"{url}/{name}"
        env.update({key: str(value) for key, value in (vendor.info().get("env") or {}).items()})
    return env


def vault_secrets(app: Any, url: str) -> dict[str, dict[str, str]]:
    """One FileSecrets secret per vendor: its ``<VENDOR>_*`` settings by the setting's own name (``api_key``)."""
    env = vendor_environment(app, url)
    secrets: dict[str, dict[str, str]] = {}
    for name in app.state.vendors:
        prefix = f"{name.upper()}_"
        secrets[name] = {key[len(prefix) :].lower(): value for key, value in env.items() if key.startswith(prefix)}
    return secrets


def devdata(app: Any, url: str, vault_file: str | None = None) -> dict[str, str]:
    """An rcc ``env.json`` for a robot using this sandbox; with ``vault_file`` (the path as the robot will read
    it, relative to the robot's folder where rcc runs tasks) both Vault libraries read that FileSecrets file."""
    env = vendor_environment(app, url)
    if vault_file:
        env.update(
            {
                "RPA_SECRET_MANAGER": "RPA.Robocorp.Vault.FileSecrets",
                "RPA_SECRET_FILE": vault_file,
                "RC_VAULT_SECRET_MANAGER": "FileSecrets",
                "RC_VAULT_SECRETS_FILE": vault_file,
            }
        )
    env.update(ROBOT_VARIABLES)
    return env


def write_devdata(app: Any, url: str, env_file: str | None, vault_file: str | None = None) -> list[str]:
    """Write ``env_file`` (and ``vault_file``) for this sandbox; returns the paths written.

    Each file is written whole to a temporary name and renamed, so a robot never reads half a file.
    """
    written = []
    if vault_file:
        _write_json(Path(vault_file), vault_secrets(app, url))
        written.append(vault_file)
    if env_file:
        _write_json(Path(env_file), devdata(app, url, vault_file))
        written.append(env_file)
    return written


class WriteError(Exception):
    """A devdata file could not be written; the message names it and why."""


def _write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise WriteError(f"cannot write {path}: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def create(host: str, port: int, options: SandboxOptions) -> Any:
    """The sandbox's application, its public URL set from where it listens."""
    from connectors_sandbox.app import create_app

    if not options.public_url:
        options.public_url = f"http://{host}:{port}"
    return create_app(options)


def serve(
    host: str = "127.0.0.1",
    port: int = 8700,
    options: SandboxOptions | None = None,
    log_file: str | None = None,
    sock: socket.socket | None = None,
    app: Any = None,
) -> None:
    import uvicorn

    options = options or SandboxOptions()
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        filename=log_file,
        force=True,
    )
    app = app or create(host, port, options)
    sock = sock or bind(host, port)
    # h11 keeps the transport reachable for the connection-reset faults; the access log is our
    # own (paths only), because uvicorn's would print query strings that can carry tokens.
    config = uvicorn.Config(
        app, host=host, port=port, http="h11", access_log=False, log_level="warning", timeout_keep_alive=30
    )
    uvicorn.Server(config).run(sockets=[sock])


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class SandboxProcess:
    """A sandbox in a child process on a free port; a context manager for tests and scripts.

    ``admin_token`` (default: ``CONNECTORS_SANDBOX_ADMIN_TOKEN``) is handed to the child through its
    environment, never its command line, and sent with every admin call.
    """

    def __init__(
        self,
        *,
        demo: bool = True,
        rate_scale: float = 1.0,
        faults: str = "",
        seed: int | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: str | Path | None = None,
        extra_args: list[str] | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.log_file = str(log_file) if log_file else None
        self.admin_token = admin_token or os.environ.get(ADMIN_TOKEN_VARIABLE) or None
        args = [
            sys.executable,
            "-m",
            "Connectors",
            "sandbox",
            "--host",
            host,
            "--port",
            str(self.port),
            "--rate-scale",
            str(rate_scale),
        ]
        if demo:
            args.append("--demo")
        if faults:
            args += ["--faults", faults]
        if seed is not None:
            args += ["--seed", str(seed)]
        if self.log_file:
            args += ["--log-file", self.log_file]
        self.args = args + list(extra_args or [])
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None

    def start(self, timeout: float = 30.0) -> SandboxProcess:
        # A file, not a pipe: nobody reads a pipe while the sandbox runs, and a full pipe would
        # block the server on its next log line.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child process
        env = dict(os.environ)
        if self.admin_token:
            env[ADMIN_TOKEN_VARIABLE] = self.admin_token
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self._stderr, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
                raise RuntimeError(f"The sandbox exited early: {err[-2000:]}")
            try:
                self.admin("GET", "/_sandbox/stats")
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"The sandbox did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        headers = {"Content-Type": "application/json"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        # Only http URLs of the sandbox this object started (or was pointed at) reach here.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def reset(self, demo: bool = True) -> Any:
        return self.admin("POST", "/_sandbox/reset", {"demo": demo})

    def stats(self) -> dict[str, Any]:
        return dict(self.admin("GET", "/_sandbox/stats"))

    def configure(self, **settings: Any) -> Any:
        return self.admin("POST", "/_sandbox/config", settings)

    def vendor_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    def environment(self) -> dict[str, str]:
        """Variables that point every connector at this sandbox with its demo credentials."""
        info = self.admin("GET", "/_sandbox/config")["vendors"]
        env: dict[str, str] = {}
        for vendor, facts in info.items():
            env.update({k: str(v) for k, v in (facts.get("env") or {}).items()})
            env[f"{vendor.upper()}_URL"] = self.vendor_url(vendor)
        return env


def options_from_args(
    demo: bool,
    rate_scale: float,
    faults: str | None,
    seed: int | None,
    run_seconds: float | None = None,
    admin_token: str | None = None,
) -> SandboxOptions:
    options = SandboxOptions(
        demo=demo, rate_scale=rate_scale, seed=seed, faults=FaultSpec.parse(faults), admin_token=admin_token or None
    )
    if run_seconds is not None:
        options.run_seconds = run_seconds
    env_vendors = os.environ.get("CONNECTORS_SANDBOX_VENDORS")
    if env_vendors:
        options.vendors = tuple(v.strip() for v in env_vendors.split(",") if v.strip())
    return options
