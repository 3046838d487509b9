"""Hostile and mistaken input over every public client method and keyword (hypothesis).

Each argument of each call is replaced, one at a time, by something a hurried user or an attacker
would pass: text with dot segments, ``/``, ``?``, ``#``, ``%``, control characters, Unicode, very long
text; ``None``, numbers, lists, dictionaries, bytes; empty values. Whatever it is, the call either
works - with the value encoded as one path segment when it is an id - or fails with one line of the
library's own (a ``ConnectorError``), never a raw ``TypeError``/``KeyError``/``AttributeError``, and a
value refused on the client side sends nothing. A recording server (not the sandbox) answers every
request with a generic success and checks that none leaves the vendor's API prefix.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from Connectors import CobotClient, ControlRoomClient, RobawsClient, RobostackClient
from Connectors.core.errors import ConnectorError, TransportError
from Connectors.core.redact import redactor
from Connectors.core.repeats import journal
from Connectors.vendors import VENDORS
from Connectors.vendors.base import BaseClient

# -- the recording server -----------------------------------------------------------------------

CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-api-secret")
# One answer that every method can read: an entity, an empty page, a find result, an upload, a started
# and finished run, a pre-signed storage link (on the recorder, outside every API).
ANSWER = {
    "id": 1,
    "items": [],
    "totalPages": 1,
    "results": [{"id": 1, "a": 1}],
    "documentId": "doc-1",
    "secret": "whsec-recorded-0001",
    "data": [],
    "has_more": False,
    "started": True,
    "accepted": True,
    "state": "completed",
    "status": "completed",
    "payload": {},
    "name": "asset",
    "content_type": "application/json",
}
STORAGE = "/storage/"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Recorder:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[Seen]:
        with self.lock:
            taken, self.seen = self.seen, []
        return taken


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    record = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this each answer waits for a delayed ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: object) -> None:
            return None

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with record.lock:
                record.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            link = f"http://127.0.0.1:{self.server.server_address[1]}{STORAGE}object"
            data = json.dumps({**ANSWER, "url": link, "upload_url": link}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    record.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield record
    httpd.shutdown()
    httpd.server_close()


# -- hostile values -----------------------------------------------------------------------------

SPECIAL_TEXTS = [
    "",
    " ",
    "\t",
    ".",
    "..",
    " .. ",
    "../..",
    "../../_sandbox/stats",
    "..%2F..%2F_sandbox",
    "%2e%2e",
    "/",
    "//evil.example/x",
    "https://evil.example/steal",
    "a/b",
    "a\\..\\b",
    "?x=1",
    "x?page=2&size=1",
    "#top",
    "%",
    "%00",
    "a\x00b",
    "line\nbreak",
    "\r\nX-Injected: 1",
    "\x7f",
    "\u2028",
    "\ud800",
    "é",
    "日本語",
    "😀",
    "x" * 600,
    "1 OR 1=1",
    "{}",
    "[]",
]
WRONG_TYPES: list[Any] = [
    None,
    0,
    -1,
    2**64,
    1.5,
    float("nan"),
    True,
    False,
    [],
    [None],
    ["a", "b"],
    [{"a": 1}, "x"],
    {},
    {"": 1},
    {"a\nb": 1},
    {1: 2},
    {"x" * 300: 1},
    {"a": {"b": [1, None]}},
    b"bytes",
    bytearray(b"xy"),
    (),
    ("a",),
    {"a"},
]
SPECIALS = SPECIAL_TEXTS + WRONG_TYPES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
hostile = st.one_of(
    st.sampled_from(SPECIALS),
    any_text,
    st.text(alphabet="./%?#\\ \x00\n", max_size=12),
    st.integers(),
    st.binary(max_size=8),
    json_values,
)


# -- what each argument normally holds ----------------------------------------------------------

PROCESS = "0f8d3c1e-2b4a-4c6d-8e9f-a1b2c3d4e5f6"

ARGUMENTS: dict[str, dict[str, Any]] = {
    "robaws": {
        "collection": "clients",
        "entity_id": 1,
        "body": {"name": "ACME"},
        "changes": {"name": "ACME NV"},
        "operations": [{"op": "replace", "path": "/name", "value": "x"}],
        "client": {"name": "ACME"},
        "invoice": {"supplierId": 1, "clientId": 1},
        "idempotency_key": None,
        "document": None,
        "invoice_id": 1,
        "document_id": "doc-1",
        "limit": 5,
        "extra_fields": None,
        "sort": None,
        "include": None,
        "page_size": 100,
        "url": "https://example.com/hook",
        "events": ["client.created"],
        "webhook_id": 1,
        "path": "__document__",
        "file_name": None,
        "content_type": None,
        "chunked": None,
        "signature": "t=1,v1=00",
        "secret": "whsec-recorded-0001",
        "tolerance": 300,
        "parts": "a",
        "filters": ("name", "ACME"),
        "fields": ("name", "ACME"),
        "client_id": 1,
        "supplier_id": 1,
        "order_id": 1,
        "line_id": 1,
        "contact": {"name": "Jan"},
        "vat_number": "BE0400123450",
        "index": None,
        "entity": {"id": 1, "extraFields": {"Contact via": {"stringValue": "Website"}}},
        "checkpoint": "crm-export",
        "window": 60,
        "after": None,
    },
    "cobot": {
        "resource_id": "r1",
        "start": "2025-03-01",
        "end": "2025-03-02",
        "booking_id": "b1",
        "membership_id": "m1",
        "subscription_id": "s1",
        "subdomain": "my-space",
        "space": None,
        "ids": None,
        "event": "created_booking",
        "callback_url": "https://example.com/cb",
        "title": None,
        "comments": None,
        "details": False,
        "limit": 5,
        "id_token": "not-a-jwt",
        "client_id": "app-1",
        "fields": ("title", "Sync"),
        "invoice_id": "i1",
        "check_in_token": "rfid-0001",
        "check_in_id": "c1",
        "published_state": "published",
        "paid_status": None,
        "operation_id": "get-booking",
        "body": None,
        "parameters": ("id", "b1"),
        "path": "__document__",
    },
    "controlroom": {
        "process": PROCESS,
        "payload": {"invoice": "INV-1"},
        "payloads": [{"invoice": "INV-1"}],
        "callback": None,
        "callback_url": None,
        "callback_secret": None,
        "callback_events": None,
        "files": (),
        "run_id": "run-1",
        "run_ids": ["run-1"],
        "step_run_id": "step-1",
        "item_id": "item-1",
        "item_ids": ["item-1"],
        "work_item_id": "item-1",
        "work_item_ids": ["item-1"],
        "webhook_id": "hook-1",
        "endpoint": "https://example.com/hook",
        "events": None,
        "name": "asset-1",
        "value": {"a": 1},
        "as_bytes": False,
        "content_type": None,
        "folder": "__folder__",
        "pattern": "*",
        "state": None,
        "include_data": False,
        "limit": 5,
        "page_size": None,
        "since": None,
        "reason": "",
        "set_remaining_work_items_as_done": False,
        "terminate_ongoing": False,
        "timeout": 5,
        "poll_interval": 0.01,
        "max_interval": 0.02,
        "backoff": 1.5,
        "options": ("poll_interval", 0.01),
        "fail_on_unresolved": True,
        "body": "{}",
        "signature": "t=1,v1=00",
        "secret": "whsec-recorded-0001",
    },
    "robostack": {
        "resource": "orders",
        "selection": {"status": "pending"},
        "record": {"a": 1},
        "records": [{"a": 1}],
        "chunk_size": None,
        "record_id": 1,
        "pipeline": [{"$match": {"a": 1}}],
        "updation": {"b": 2},
        "allow_all": False,
        "stages": {"$match": {"a": 1}},
        "limit": 5,
        "fields": ("status", "pending"),
    },
}
# Arguments whose value becomes one path segment: a text that works must arrive encoded, whole.
PATH_ARGUMENTS = {
    "run_id",
    "step_run_id",
    "item_id",
    "work_item_id",
    "collection",
    "entity_id",
    "invoice_id",
    "webhook_id",
    "resource",
    "booking_id",
    "membership_id",
    "subscription_id",
    "subdomain",
    "resource_id",
}
# Path arguments of one vendor only (Cobot's client_id is an OAuth client, Robaws' a customer's id).
VENDOR_PATH_ARGUMENTS = {("robaws", name) for name in ("client_id", "supplier_id", "order_id", "line_id")}
# Arguments that may hold several segments (a nested collection): each arrives encoded on its own.
MULTI_SEGMENT = {("robaws", "collection")}
# Not input handling: connecting (a URL the user configures is trusted), modes, status, plumbing.
SKIPPED = {
    "connect_to_robaws",
    "connect_to_cobot",
    "connect_to_robostack",
    "connect_to_control_room",
    "use_robaws_live_mode",
    "use_robaws_replica_mode",
    "use_live_mode",
    "use_replica_mode",
    "stored_id_token",
    "openid_provider",
    "idempotency_key_for",
}


# Where each vendor's API lives on the recording server; nothing may be sent anywhere else.
API = {
    "robaws": re.compile(r"^/robaws/api/v2/"),
    # A space's own API lives under its subdomain, which is data too (validated, never a path).
    "cobot": re.compile(r"^/cobot/(api2/|(spaces/[a-z0-9][a-z0-9-]{0,99}/)?(api/|\.well-known/))"),
    "robostack": re.compile(r"^/robostack/external/api/app-1/"),
    "controlroom": re.compile(r"^/controlroom/api/v1/workspaces/ws-1(/|$)"),
}
# Ids that go into a body, or that the call does not need to send (with a step run id given, Control
# Room's current API lists that step run's artifacts without the run id).
BODY_IDS = {
    ("create_booking", "membership_id"),
    ("create_cobot_booking", "membership_id"),
    # Cobot API 2 links the resource in the JSON:API body.
    ("create_booking", "resource_id"),
    ("create_cobot_booking", "resource_id"),
    ("list_artifacts", "run_id"),
    ("download_artifacts", "run_id"),
    ("list_run_artifacts", "run_id"),
    ("download_run_artifacts", "run_id"),
}


def _client(vendor: str, url: str) -> BaseClient:
    common: dict[str, Any] = {"rate_limit": "off", "rate_scale": 1000, "timeout": 5}
    if vendor == "robaws":
        return RobawsClient(
            url + "/robaws", username="user", password="pa55-hostile-robaws", daily_quota="none", **common
        )
    if vendor == "cobot":
        return CobotClient(
            url + "/cobot",
            access_token="tok-hostile-cobot-0001",
            space="my-space",
            api_url=url + "/cobot/api2",
            **common,
        )
    if vendor == "controlroom":
        return ControlRoomClient("ws-1", "rc-wskey-hostile-0001", url=url + "/controlroom", **common)
    return RobostackClient("app-1", "key-hostile-0001", "secret-hostile-0001", url=url + "/robostack", **common)


LIBRARIES = {vendor.key: vendor.library() for vendor in VENDORS}


@dataclass(frozen=True)
class Slot:
    """One argument of one public call: the call is made with every other argument as usual."""

    vendor: str
    kind: str  # "client" or "keyword"
    call: str
    argument: str

    def __str__(self) -> str:
        return f"{self.vendor}-{self.kind}-{self.call}-{self.argument}"


CLIENTS: dict[str, type[BaseClient]] = {
    "robaws": RobawsClient,
    "cobot": CobotClient,
    "robostack": RobostackClient,
    "controlroom": ControlRoomClient,
}


def _client_calls(vendor: str) -> dict[str, inspect.Signature]:
    calls = {}
    for name, function in inspect.getmembers(CLIENTS[vendor], callable):
        if name.startswith("_") or hasattr(BaseClient, name) or name in SKIPPED:
            continue
        calls[name] = inspect.signature(function)
    return calls


def _keyword_calls(vendor: str) -> dict[str, inspect.Signature]:
    library = LIBRARIES[vendor]()
    calls = {}
    for name in library.get_keyword_names():
        method = getattr(library, name, None)
        if method is None or name in SKIPPED or "Rate Limit Status" in name:
            continue
        calls[name] = inspect.signature(method)
    return calls


def _slots() -> list[Slot]:
    slots = []
    for vendor in ARGUMENTS:
        for kind, calls in (("client", _client_calls(vendor)), ("keyword", _keyword_calls(vendor))):
            for call, signature in sorted(calls.items()):
                for parameter in signature.parameters.values():
                    if parameter.name == "self":
                        continue
                    slots.append(Slot(vendor, kind, call, parameter.name))
    return slots


SLOTS = _slots()


def test_every_argument_has_a_usual_value() -> None:
    """A new keyword or argument must get a usual value here, so that it is fuzzed too."""
    missing = sorted({f"{s.vendor}: {s.argument}" for s in SLOTS if s.argument not in ARGUMENTS[s.vendor]})
    assert not missing, f"add usual values to ARGUMENTS for {missing}"
    assert len(SLOTS) > 150


# -- making one call ----------------------------------------------------------------------------


@dataclass
class Outcome:
    result: Any = None
    error: BaseException | None = None
    seen: list[Seen] = field(default_factory=list)


class Harness:
    def __init__(self, recorder: Recorder, document: Path) -> None:
        self.recorder = recorder
        self.document = document
        self.clients: dict[str, BaseClient] = {}
        self.libraries: dict[str, Any] = {}

    def client(self, vendor: str) -> BaseClient:
        if vendor not in self.clients:
            self.clients[vendor] = _client(vendor, self.recorder.url)
        return self.clients[vendor]

    def library(self, vendor: str) -> Any:
        if vendor not in self.libraries:
            library = LIBRARIES[vendor]()
            library.client = self.client(vendor)
            self.libraries[vendor] = library
        return self.libraries[vendor]

    def usual(self, vendor: str, name: str) -> Any:
        value = ARGUMENTS[vendor][name]
        places = {"__document__": str(self.document), "__folder__": str(self.document.parent / "artifacts")}
        return places.get(value, value) if isinstance(value, str) else value

    def call(self, slot: Slot, value: Any) -> Outcome:
        target = self.client(slot.vendor) if slot.kind == "client" else self.library(slot.vendor)
        method = getattr(target, slot.call)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        parameters = list(inspect.signature(method).parameters.values())
        positional = any(p.kind is p.VAR_POSITIONAL for p in parameters)
        for parameter in parameters:
            given = parameter.name == slot.argument
            if parameter.kind is parameter.VAR_KEYWORD:
                name, usual = self.usual(slot.vendor, parameter.name)
                if given:
                    # Both a hostile field name and a hostile field value.
                    if isinstance(value, str) and value not in {p.name for p in parameters}:
                        kwargs[value] = usual
                    kwargs[name] = value
                continue
            current = value if given else self.usual(slot.vendor, parameter.name)
            by_position = parameter.kind is parameter.POSITIONAL_OR_KEYWORD and positional
            if parameter.kind is parameter.VAR_POSITIONAL or by_position:
                args.append(current)
            else:
                kwargs[parameter.name] = current
        self.recorder.take()
        outcome = Outcome()
        try:
            result = method(*args, **kwargs)
            if inspect.isgenerator(result) or isinstance(result, Iterator):
                result = list(itertools.islice(result, 3))
            outcome.result = result
        except Exception as error:  # the property below names what is not allowed
            outcome.error = error
        finally:
            journal.clear()
        outcome.seen = self.recorder.take()
        return outcome


@pytest.fixture(scope="module")
def harness(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith(("ROBAWS_", "COBOT_"))}
    saved.update({n: os.environ.pop(n) for n in list(os.environ) if n.startswith(("ROBOSTACK_", "CONNECTORS_"))})
    document = tmp_path_factory.mktemp("hostile") / "invoice.pdf"
    document.write_bytes(b"%PDF-1.4 hostile test\n")
    # Fuzzed credentials (a webhook secret, an id token) are registered with the process-wide redactor,
    # which would then mask them in the messages other tests check: forget them afterwards.
    masked = set(redactor._secrets)
    yield Harness(recorder, document)
    os.environ.update(saved)
    redactor._secrets = masked
    redactor.register()


def check(slot: Slot, value: Any, outcome: Outcome) -> None:
    """The property: one clear line or a result; nothing outside the API; values arrive encoded."""
    described = f"{slot} with {value!r:.80}"
    for seen in outcome.seen:
        raw = seen.path.split("?", 1)[0]
        if raw.startswith(STORAGE):
            # A pre-signed storage link the API handed out: fetched without the API's credentials.
            assert not any(name in seen.headers for name in CREDENTIAL_HEADERS), f"{described}: {seen}"
            continue
        assert API[slot.vendor].match(raw), f"{described}: request outside the API: {seen.path}"
        segments = [unquote(part) for part in raw.split("/")]
        assert not {".", ".."} & set(segments), f"{described}: dot segment sent: {seen.path}"
        assert "#" not in seen.path, f"{described}: fragment sent: {seen.path}"
        has_credentials = any(name in seen.headers for name in CREDENTIAL_HEADERS)
        assert has_credentials or slot.call in ("get_identity", "get_cobot_identity"), seen
    error = outcome.error
    if error is not None:
        assert isinstance(error, ConnectorError), f"{described}: raw {type(error).__name__}: {error}"
        text = str(error)
        assert text and "\n" not in text and "\r" not in text, f"{described}: not one line: {text!r}"
        assert "Traceback" not in text and 'File "' not in text, f"{described}: {text}"
        # The recording server is up and answers everything: a network error means the client failed
        # to build a request (an invalid header, say) and then reported it as the network's fault.
        assert not isinstance(error, TransportError), f"{described}: {text}"
        if error.status is None and slot.call not in ("get_identity", "get_cobot_identity"):
            # Refused before anything was sent: no partial work.
            writes = [s for s in outcome.seen if s.method != "GET"]
            assert not writes, f"{described}: refused ({text}) after sending {[s.path for s in writes]}"
        return
    path_argument = slot.argument in PATH_ARGUMENTS or (slot.vendor, slot.argument) in VENDOR_PATH_ARGUMENTS
    path_id = path_argument and (slot.call, slot.argument) not in BODY_IDS
    if path_id and isinstance(value, str) and value.strip():
        # Sent whole (or without the spaces around it) as one encoded segment, or as a query value.
        wanted = {quote(value, safe=""), quote(value.strip(), safe="")}
        if (slot.vendor, slot.argument) in MULTI_SEGMENT:
            encoded = "/".join(quote(part, safe="") for part in value.split("/"))
            assert any(f"/{encoded}" in s.path.split("?", 1)[0] for s in outcome.seen), f"{described}: {outcome.seen}"
            return
        if not outcome.seen and isinstance(outcome.result, str):  # a link or a path, built and returned
            assert any(f"/{w}" in outcome.result for w in wanted), f"{described}: {outcome.result}"
            return
        sent = {part for seen in outcome.seen for part in seen.path.split("?", 1)[0].split("/")}
        queried = {
            v for seen in outcome.seen for values in parse_qs(urlsplit(seen.path).query).values() for v in values
        }
        found = wanted & sent or {value, value.strip()} & queried
        assert outcome.seen and found, f"{described}: not sent as one encoded segment: {outcome.seen}"


# -- the properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("slot", SLOTS, ids=str)
def test_special_values(harness: Harness, slot: Slot) -> None:
    """Every known-nasty value in every argument of every call."""
    for value in SPECIALS:
        check(slot, value, harness.call(slot, value))


@pytest.mark.parametrize("slot", SLOTS, ids=str)
@settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "25")),
    deadline=None,
    derandomize=os.environ.get("HOSTILE_RANDOM") is None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=hostile)
def test_arbitrary_values(harness: Harness, slot: Slot, value: Any) -> None:
    """Arbitrary text, numbers, bytes and JSON-like values (``HOSTILE_RANDOM=1``: a new draw every run)."""
    check(slot, value, harness.call(slot, value))
