"""The ``connectors`` command (also ``python -m Connectors``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from Connectors.core.errors import ConnectorError

# Vendor sub-commands register here (e.g. ``login``): name → (help, add_arguments, run).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


SANDBOX_EXTRA = "pip install 'robotframework-connectors[sandbox]'"


def _fault_spec(text: str) -> str:
    from connectors_sandbox.options import FaultSpec

    try:
        FaultSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _sandbox_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--demo", action="store_true", help="load demo data (the demo credentials are fixed)")
    parser.add_argument("--rate-scale", type=float, default=1.0, help="multiply every rate limit (benchmarks)")
    parser.add_argument("--faults", type=_fault_spec, default="", help="e.g. 5xx=0.1,reset=0.05,lost=0.05,slow=0.02")
    parser.add_argument("--seed", type=int, default=None, help="seed for deterministic fault injection")
    parser.add_argument("--run-seconds", type=float, default=None, help="how long a Control Room run takes")
    parser.add_argument("--log-file", default=None, help="write the (redacted) access log here")
    parser.add_argument(
        "--admin-token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' on /_sandbox/* (for a sandbox shared on a network; "
        "default: CONNECTORS_SANDBOX_ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        help="write an rcc env.json pointing a robot at this sandbox (e.g. devdata/env.json; needs --demo)",
    )
    parser.add_argument(
        "--vault-file",
        metavar="PATH",
        help="write the demo credentials as a FileSecrets vault too; --env-file's vault variables name PATH as given "
        "(rcc runs tasks in the robot's folder, so devdata/vault.json works)",
    )


def _missing_sandbox_extra() -> str | None:
    """The name of a missing module of the [sandbox] extra, if any."""
    import importlib

    for names in (("starlette",), ("uvicorn",), ("python_multipart", "multipart"), ("jsonpatch",)):
        for name in names:
            try:
                importlib.import_module(name)
                break
            except ImportError:
                continue
        else:
            return names[0]
    return None


def _sandbox(args: argparse.Namespace) -> int:
    import errno
    import os

    from connectors_sandbox.options import ADMIN_TOKEN_VARIABLE
    from connectors_sandbox.server import bind, client_url, options_from_args

    missing = _missing_sandbox_extra()
    if missing:
        print(
            f"error: the sandbox needs the [sandbox] extra ({missing} is not installed): {SANDBOX_EXTRA}",
            file=sys.stderr,
        )
        return 1
    from connectors_sandbox.server import WriteError, create, serve, write_devdata

    if (args.env_file or args.vault_file) and not args.demo:
        print("error: --env-file and --vault-file write the demo credentials: add --demo.", file=sys.stderr)
        return 1
    if args.vault_file and not args.env_file:
        print("error: --vault-file needs --env-file (whose variables point the Vault at it).", file=sys.stderr)
        return 1
    token = args.admin_token or os.environ.get(ADMIN_TOKEN_VARIABLE)
    options = options_from_args(args.demo, args.rate_scale, args.faults, args.seed, args.run_seconds, token)
    url = f"http://{args.host}:{args.port}"
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = "the port is in use (another sandbox?)" if exc.errno == errno.EADDRINUSE else exc.strerror
        print(
            f"error: cannot start the sandbox on {args.host}:{args.port}: {reason}. "
            "Stop the other process or choose another port with --port.",
            file=sys.stderr,
        )
        return 1
    app = create(args.host, args.port, options)
    try:
        written = write_devdata(app, client_url(args.host, args.port), args.env_file, args.vault_file)
    except WriteError as exc:
        sock.close()
        print(f"error: {exc}. Choose another path.", file=sys.stderr)
        return 1
    prefixes = " ".join(f"/{name}" for name in options.vendors)
    where = f"{url}/_sandbox/config" + (" (with the admin token)" if token else "")
    if args.demo:
        files = f"; written for your robot: {' and '.join(written)}" if written else " (--env-file writes them)"
        credentials = f"demo data; demo credentials: {where}{files}"
    else:
        credentials = f"no demo data (add --demo); credentials: {where}"
    print(f"Sandbox on {url} ({prefixes}, admin /_sandbox) with {credentials}", flush=True)
    serve(args.host, args.port, options, args.log_file, sock, app)
    return 0


def _webhooks_serve(args: argparse.Namespace) -> int:
    from Connectors.webhooks.service import ReceiverSettings, serve

    settings = ReceiverSettings(
        store=args.store,
        work_items=args.work_items,
        process=args.process,
        max_body=args.max_body,
        max_backoff=args.max_backoff,
        cobot_token=args.cobot_token,
        cobot_dropped=tuple(args.cobot_drop or ()),
    )
    serve(settings, args.host, args.port)
    return 0


def _webhooks_status(args: argparse.Namespace) -> int:
    import json

    from Connectors.webhooks.service import format_status, status

    report = status(args.store, args.last)
    print(json.dumps(report, indent=2) if args.json else format_status(report), flush=True)
    return 0


def _webhooks_retry(args: argparse.Namespace) -> int:
    from Connectors.webhooks.service import retry

    count = retry(args.store, args.source)
    print(f"{count} failed event(s) queued again; a running receiver hands them off within a second.", flush=True)
    return 0


def _webhooks_args(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="webhooks_command", required=True)
    serve = sub.add_parser(
        "serve",
        help="verify, store, de-duplicate and hand off vendor webhooks",
        description="Receive signed Robaws (ROBAWS_WEBHOOK_SECRET) and Control Room (CONTROLROOM_WEBHOOK_SECRET) "
        "webhooks on POST /webhooks/robaws and /webhooks/controlroom, and Cobot's on POST /webhooks/cobot/<token> "
        "(COBOT_WEBHOOK_TOKEN), and hand each event off exactly once.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; put a reverse proxy in front)"
    )
    serve.add_argument("--port", type=int, default=8710)
    serve.add_argument("--store", default="webhook-events.db", help="SQLite file of received events")
    serve.add_argument(
        "--max-body", type=int, default=1024 * 1024, help="largest body accepted, in bytes (default 1 MB)"
    )
    serve.add_argument(
        "--max-backoff",
        type=float,
        default=60.0,
        help="longest pause, in seconds, between hand-off attempts while the target keeps failing (default 60)",
    )
    serve.add_argument(
        "--cobot-token",
        help="secret path token of POST /webhooks/cobot/<token> (default COBOT_WEBHOOK_TOKEN; prefer the variable: "
        "a command line is visible to other users)",
    )
    serve.add_argument(
        "--cobot-drop",
        action="append",
        metavar="TOKEN",
        help="an old Cobot path token to answer 410 Gone, so Cobot drops that subscription (repeatable; also "
        "COBOT_WEBHOOK_DROPPED_TOKENS, comma-separated)",
    )
    target = serve.add_mutually_exclusive_group()
    target.add_argument(
        "--work-items", help="folder (or .json file) receiving one input work item per event, plus work-items.json"
    )
    target.add_argument("--process", help="Control Room process id or name to start once per event")
    serve.set_defaults(run=_webhooks_serve)
    status = sub.add_parser("status", help="counts and the last events of a receiver's store")
    status.add_argument("--store", default="webhook-events.db", help="SQLite file of received events")
    status.add_argument("--last", type=int, default=10, help="how many of the latest events to list")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=_webhooks_status)
    retry = sub.add_parser("retry", help="queue the events whose hand-off failed again")
    retry.add_argument("--store", default="webhook-events.db", help="SQLite file of received events")
    retry.add_argument("--source", choices=["robaws", "controlroom", "cobot"], help="only this source's events")
    retry.set_defaults(run=_webhooks_retry)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectors", description="Robot Framework connectors for business APIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sandbox = sub.add_parser("sandbox", help="run the offline twin of the vendor APIs")
    _sandbox_args(sandbox)
    sandbox.set_defaults(run=_sandbox)
    _webhooks_args(sub.add_parser("webhooks", help="webhook receiver"))
    _load_vendor_commands()
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def _load_vendor_commands() -> None:
    import importlib

    for module in ("Connectors.commands",):
        try:
            importlib.import_module(module)
        except ImportError as exc:  # pragma: no cover - only when a module is missing in a partial install
            if exc.name != module:
                raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConnectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
