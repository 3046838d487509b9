"""Cobot API 2 without the sandbox: JSON:API flattening, errors[] in one line, paging decisions, the scope a 403
names, and hostile input (ids with ``/``, ``..``, ``?``, control characters; 5 MB bodies) refused in one line
or sent as one encoded segment - never outside the API - against a small recording server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from Connectors import CobotClient
from Connectors.core.errors import ConfigurationError, ConnectorError, PermissionDenied, ValidationError
from Connectors.vendors.cobot import jsonapi
from Connectors.vendors.cobot.api2 import scope_hint
from Connectors.vendors.cobot.client import api2_period
from Connectors.vendors.cobot.operations import OPERATIONS
from Connectors.vendors.cobot.profile import COBOT

SPACE_ID = "f9a99a71ac8df98d29de357180d273d3"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("COBOT_", "CONNECTORS_")):
            monkeypatch.delenv(name)


# -- flattening ---------------------------------------------------------------------------------------


def test_a_resource_becomes_a_flat_dictionary_with_related_ids_and_included_resources() -> None:
    document = {
        "data": {
            "id": "b1",
            "type": "bookings",
            "attributes": {"title": "Sync", "from": "2025-03-04T10:00:00Z"},
            "relationships": {
                "resource": {"data": {"type": "resources", "id": "r1"}},
                "membership": {"data": None},
                "attendees": {"data": [{"type": "memberships", "id": "m1"}, {"type": "memberships", "id": "m2"}]},
                "recurringBookings": {"links": {"related": "https://api.cobot.me/recurring_bookings/x"}},
            },
        },
        "included": [{"type": "resources", "id": "r1", "attributes": {"name": "Atlas"}}],
    }
    booking = jsonapi.record(document)
    assert booking == {
        "id": "b1",
        "type": "bookings",
        "title": "Sync",
        "from": "2025-03-04T10:00:00Z",
        "resourceId": "r1",
        "resource": {"id": "r1", "type": "resources", "name": "Atlas"},
        "membershipId": None,
        "attendeesIds": ["m1", "m2"],
    }


def test_an_attribute_wins_over_a_derived_key_and_cycles_stop() -> None:
    a = {"type": "spaces", "id": "s1", "attributes": {"ownerId": "from-attributes"}}
    a["relationships"] = {"owner": {"data": {"type": "users", "id": "u1"}}}
    u = {"type": "users", "id": "u1", "relationships": {"space": {"data": {"type": "spaces", "id": "s1"}}}}
    flat = jsonapi.flatten(a, jsonapi.index([a, u]))
    assert flat["ownerId"] == "from-attributes"
    assert flat["owner"]["space"]["id"] == "s1" and "space" not in flat["owner"]["space"]


def test_paging_follows_links_next_then_total_pages() -> None:
    assert jsonapi.has_next({"links": {"next": "/x?page[number]=2"}}, 1)
    assert not jsonapi.has_next({"links": {"next": None}, "meta": {"totalPages": 5}}, 1)
    assert jsonapi.has_next({"meta": {"totalPages": 2}}, 1) and not jsonapi.has_next({"meta": {"totalPages": 2}}, 2)
    assert not jsonapi.has_next({"data": []}, 1)


# -- errors -------------------------------------------------------------------------------------------


def _response(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


def test_json_api_errors_read_as_fields() -> None:
    body = {
        "errors": [
            {"source": {"pointer": "/data/attributes/name"}, "detail": "can't be blank"},
            {"source": {"pointer": "/data/relationships/resource"}, "detail": "is invalid"},
            {"status": "403", "title": "Forbidden", "detail": "Only admins may do this."},
        ]
    }
    assert COBOT.error_format.read(_response(422, body)) == (
        "name: can't be blank; resource: is invalid; Only admins may do this."
    )


def test_the_403_hint_names_every_scope_of_the_operation() -> None:
    hint = scope_hint(OPERATIONS["get-space-bookings"])
    assert "read_bookings and read_events and read_external_bookings" in hint
    assert "--scope read_bookings --scope read_events --scope read_external_bookings" in hint


def test_default_login_scopes_cover_every_keyword_operation() -> None:
    used = {
        "get-user",
        "get-space",
        "get-space-memberships",
        "get-membership",
        "get-space-membership-plans",
        "get-space-invoices",
        "get-invoice",
        "get-invoice-pdf",
        "get-space-bookings",
        "get-booking",
        "create-admin-booking",
        "update-space-booking",
        "delete-space-booking",
        "get-resources",
        "get-resource-availbility",
        "create-check-in",
        "create-check-out",
        "list-space-check-ins-current",
        "get-membership-check-ins",
        "list-events",
        "get-space-contacts",
        "get-space-teams",
    }
    assert COBOT.oauth is not None
    missing = {s for op in used for s in OPERATIONS[op].scope.split()} - set(COBOT.oauth.scopes)
    assert missing == set()


def test_periods_as_the_spec_takes_them() -> None:
    assert api2_period("2025-03-01", "2025-03-31") == {"filter[from]": "2025-03-01", "filter[to]": "2025-03-31"}
    assert api2_period("2025-03-01", "2025-03-01", times=True) == {
        "filter[from]": "2025-03-01T00:00:00Z",
        "filter[to]": "2025-03-01T23:59:59Z",
    }
    assert api2_period("2025-03-01T10:00", "2025-03-01T11:00+02:00", times=True) == {
        "filter[from]": "2025-03-01T10:00:00Z",
        "filter[to]": "2025-03-01T11:00:00+02:00",
    }
    with pytest.raises(ValidationError, match="start must be an ISO 8601 date"):
        api2_period("March", None)


def test_api_must_be_1_or_2() -> None:
    with pytest.raises(ConfigurationError, match="api must be 1 or 2, got '3'"):
        CobotClient(access_token="t0k3n-abc", api="3")


def test_a_sandbox_cobot_url_without_an_api_url_sends_nothing_to_production() -> None:
    client = CobotClient("http://127.0.0.1:9/cobot", access_token="t0k3n-abc", space="demo")
    with pytest.raises(ConfigurationError, match="COBOT_API_URL is not set") as refused:
        client.get_user()
    assert "\n" not in str(refused.value) and client.transport.stats["requests"] == 0


# -- hostile input against a recording server ----------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    seen: list[tuple[str, str, dict[str, str]]]


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/api2/user"):
            space = {"type": "spaces", "id": SPACE_ID, "attributes": {"subdomain": "my-space"}}
            body: Any = {"data": {"id": "u1", "type": "users"}, "included": [space]}
        elif self.path.startswith("/api2/invoices/forbidden"):
            self._send(403, {"errors": [{"status": "403", "detail": "Forbidden"}]})
            return
        else:
            body = {"data": {"id": "x", "type": "things"}}
        self._send(200, body)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(("127.0.0.1", 0), Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_of(server: Recorder) -> CobotClient:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return CobotClient(
        base + "/v1", api_url=base + "/api2", access_token="tok-api2-0001", space="my-space", rate_limit="off"
    )


HOSTILE_IDS = ["a/b", "..", ".", "a?b=1", "a#b", "x\ny", "x\x00y", "\u2028", " ", "%2e%2e", "../../etc"]


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_hostile_ids_are_one_segment_or_refused(recorder: Recorder, value: str) -> None:
    client = client_of(recorder)
    calls = [
        lambda: client.get_invoice(value),
        lambda: client.get_booking(value),
        lambda: client.check_out(value),
        lambda: client.call_api("get-membership", id=value),
        lambda: client.download_invoice_pdf(value),
    ]
    for call in calls:
        before = len(recorder.seen)
        try:
            call()
        except ConnectorError as error:
            assert "\n" not in str(error) and "Traceback" not in str(error)
            continue
        sent = recorder.seen[before:]
        assert sent, value
        for _method, path, headers in sent:
            assert path.startswith("/api2/"), path
            target = path.split("?", 1)[0]
            assert "/../" not in target and "//" not in target
            assert requests.utils.quote(value, safe="") in target, (value, target)
            assert headers.get("Authorization") == "Bearer tok-api2-0001"


def test_a_5_mb_body_is_refused_before_sending(recorder: Recorder) -> None:
    client = client_of(recorder)
    body = {"data": {"type": "bookings", "attributes": {"comments": "x" * (5 * 1024 * 1024)}}}
    with pytest.raises(ValidationError, match=r"body has 524\d{4} bytes") as refused:
        client.call_api("create-admin-booking", body=body)
    assert "\n" not in str(refused.value)
    with pytest.raises(ValidationError):
        client.create_booking("r1", "2025-03-01T10:00:00Z", "2025-03-01T11:00:00Z", comments="x" * (5 * 1024 * 1024))
    assert recorder.seen == []


def test_unknown_operations_and_parameters_are_refused_before_sending(recorder: Recorder) -> None:
    client = client_of(recorder)
    with pytest.raises(ValidationError, match="Unknown operation 'get-users'"):
        client.call_api("get-users")
    with pytest.raises(ValidationError, match=r"unknown url for operation get-user"):
        client.call_api("get-user", url="http://evil.example/")
    with pytest.raises(ValidationError, match="body is not valid JSON"):
        client.call_api("create-admin-booking", body="{not json")
    assert recorder.seen == []


def test_a_space_is_resolved_once_per_client(recorder: Recorder) -> None:
    client = client_of(recorder)
    client.call_api("get-space", spaceId=client.api2.space_id())
    client.get_space()
    users = [path for _m, path, _h in recorder.seen if path.startswith("/api2/user")]
    assert len(users) == 1 and "include=adminOf%2CmemberOf" in users[0]
    with pytest.raises(ConfigurationError, match="neither an admin nor a member of a space 'other-space'"):
        client.get_space("other-space")


def test_a_403_names_the_scope(recorder: Recorder) -> None:
    client = client_of(recorder)
    with pytest.raises(PermissionDenied) as refused:
        client.get_invoice("forbidden")
    assert "HTTP 403" in str(refused.value) and "--scope read_invoices" in str(refused.value)


# -- docs/cobot.md -----------------------------------------------------------------------------------------


def test_the_coverage_page_is_fresh_and_lists_every_keyword() -> None:
    from pathlib import Path

    from robot.libdocpkg import LibraryDocumentation

    from Connectors.vendors.cobot import coverage

    page = Path(__file__).resolve().parents[2] / "docs" / "cobot.md"
    assert page.read_text(encoding="utf-8") == coverage.render(), "run python -m Connectors.vendors.cobot.coverage"
    library = {keyword.name for keyword in LibraryDocumentation("Connectors.Cobot").keywords}
    assert library == set(coverage.keywords())
    assert all(operation in OPERATIONS for operations in coverage.API2.values() for operation in operations)


def test_an_unreachable_api_2_names_cobot_api_url() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CobotClient(
        f"http://127.0.0.1:{port}/cobot", api_url=f"http://127.0.0.1:{port}/api2", access_token="t0k3n-abc", space="s"
    )
    with pytest.raises(ConnectorError, match=r"Check COBOT_API_URL \(now http://127\.0\.0\.1:\d+/api2\)") as failed:
        client.get_user()
    assert "\n" not in str(failed.value)
