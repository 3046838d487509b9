"""Argument checks at the client boundary: one line naming the argument and what it should be,
before anything is sent (the property suite, test_hostile_properties.py, covers every call)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from Connectors import CobotClient, ControlRoomClient, RobawsClient, RobostackClient
from Connectors.ControlRoom import ControlRoom
from Connectors.core import arguments
from Connectors.core.errors import ConfigurationError, ConnectorError, ValidationError
from Connectors.Robaws import Robaws
from Connectors.Robostack import Robostack

DEAD = "http://127.0.0.1:9"  # the discard port: a request that slipped through fails loudly


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("ROBAWS_", "COBOT_", "ROBOSTACK_", "CONNECTORS_")):
            monkeypatch.delenv(name)


def robaws() -> RobawsClient:
    return RobawsClient(DEAD, username="u", password="pw-arguments-1")


def cobot(api: str = "1") -> CobotClient:
    return CobotClient(DEAD, access_token="tok-arguments-1", space="my-space", api=api, api_url=DEAD + "/api2")


def robostack() -> RobostackClient:
    return RobostackClient("app-1", "key-arguments-1", "secret-arguments-1", url=DEAD)


def one_line(error: pytest.ExceptionInfo[ConnectorError], *words: str) -> str:
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    for word in words:
        assert word in text, text
    return text


def all_refused_before_sending(client: Any, cases: list[tuple[Any, str]]) -> None:
    """Each call fails with one line containing its words, and the client sent nothing at all."""
    for call, words in cases:
        with pytest.raises(ConnectorError) as raised:
            call()
        one_line(raised, words)
    assert client.transport.stats["requests"] == 0


# -- the validators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, ["body must be a dictionary, got nothing"]),
        ("name=ACME", ["body must be a dictionary, got str"]),
        ([{"name": "x"}], ["body must be a dictionary, got list"]),
        ({1: "x"}, ["key that is not text"]),
        ({"": 1}, ["an empty key"]),
        ({"na\nme": 1}, ["field names are 1 to 128 printable ASCII"]),
        ({"naïve": 1}, ["printable ASCII"]),
        ({"x" * 129: 1}, ["printable ASCII"]),
        ({"a": b"raw"}, ["body['a'] is bytes", "not a JSON value"]),
        ({"a": {"b": [1, math.nan]}}, ["body['a']['b'][1] is nan"]),
        ({"a": "\ud800"}, ["body['a'] contains invalid Unicode"]),
        ({"a": {1, 2}}, ["body['a'] is set"]),
    ],
)
def test_mapping_refuses_what_is_not_a_body(value: Any, words: list[str]) -> None:
    with pytest.raises(ValidationError) as raised:
        arguments.mapping(value, "body")
    one_line(raised, *words)


def test_mapping_accepts_json_and_deep_non_ascii_keys() -> None:
    body = {"name": "ACME", "extraFields": {"Contact via": "Social media", "Référence": None}, "n": [1, 2.5, True]}
    assert arguments.mapping(body, "body") == body
    deep: Any = "leaf"
    for _ in range(arguments.MAX_DEPTH + 2):
        deep = {"d": deep}
    with pytest.raises(ValidationError, match="nested more than 32 levels"):
        arguments.mapping(deep, "body")


def test_records_refuses_a_string_or_one_dictionary() -> None:
    for value in ("abc", {"a": 1}, None, 5, b"ab"):
        with pytest.raises(ValidationError, match="records must be a list of dictionaries"):
            arguments.records(value, "records")
    with pytest.raises(ValidationError, match=r"records\[1\] must be a dictionary, got str"):
        arguments.records([{"a": 1}, "b"], "records")
    assert arguments.records(iter([{"a": 1}]), "records") == [{"a": 1}]


def test_texts_flags_numbers_and_limits() -> None:
    assert arguments.texts("a, b,,c", "ids") == ["a", "b", "c"]
    with pytest.raises(ValidationError, match=r"ids\[0\] contains a control character"):
        arguments.texts(["a\nb"], "ids")
    with pytest.raises(ValidationError, match="allow_all must be True or False, got str 'False'"):
        arguments.flag("False", "allow_all")
    assert arguments.flag(None, "allow_all") is False
    with pytest.raises(ValidationError, match="tolerance must be a finite number of at least 0"):
        arguments.number("-1", "tolerance", minimum=0)
    with pytest.raises(ValidationError, match=r"limit .* is out of range"):
        arguments.limit(2**64)
    assert arguments.limit("0") is None and arguments.limit(" 7 ") == 7
    assert arguments.optional_text("  ", "title") is None
    with pytest.raises(ValidationError, match="title contains a control character"):
        arguments.optional_text("a\r\nX-Injected: 1", "title")
    assert arguments.optional_text("two\nlines", "comments", multiline=True) == "two\nlines"


def test_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"does not exist"):
        arguments.existing_file(tmp_path / ("x" * 600), "path")
    with pytest.raises(ValidationError, match="path must be a file path, got int"):
        arguments.existing_file(7, "path")
    with pytest.raises(ValidationError, match="not a usable file path"):
        arguments.existing_file("a\x00b", "path")
    (tmp_path / "f.pdf").write_bytes(b"%PDF")
    assert arguments.existing_file(str(tmp_path / "f.pdf"), "path").name == "f.pdf"


# -- at the clients and keywords ----------------------------------------------------------------


def test_robaws_refuses_before_sending() -> None:
    client = robaws()
    cases: list[tuple[Any, str]] = [
        (lambda: client.create("clients", None), "body must be a dictionary, got nothing"),
        (lambda: client.get("clients", ""), "entity_id is empty"),
        (lambda: client.get("clients", None), "entity_id must be a text or a whole number, got nothing"),
        (lambda: client.get("..", 1), "collection is a dot segment"),
        (lambda: client.update("clients", 1, {}), "changes is empty"),
        (lambda: client.create("clients", {"a": 1}, idempotency_key=b"k"), "idempotency_key must be a text"),
        (lambda: client.create("clients", {"a": 1}, idempotency_key="a\nb"), "not printable ASCII"),
        # requests refuses such a header value: it must fail here, not as six "network" failures.
        (lambda: client.create("clients", {"a": 1}, idempotency_key=" k "), "idempotency_key has spaces around it"),
        (lambda: list(client.list("clients", extra_fields="Contact via")), "extra_fields must be a dictionary"),
        (lambda: list(client.list("clients", sort=["name", None])), r"sort[1] is not an id"),
        (lambda: list(client.list("clients", name=b"x")), "name must be a text, a number"),
        (lambda: list(client.list("clients", name="\ud800")), "name contains invalid Unicode"),
        (lambda: client.upload_document(None), "path must be a file path, got nothing"),
        (lambda: client.register_webhook("https://x", "   "), "events is empty"),
        (lambda: RobawsClient.verify_webhook(b"{}", 7, "whsec-arguments"), "not ASCII text"),
        (lambda: RobawsClient.verify_webhook(b"{}", "t=1,v1=é", "whsec-arguments"), "not ASCII text"),
        (lambda: RobawsClient.verify_webhook({}, "t=1,v1=0", "whsec-arguments"), "body must be the raw request"),
        (lambda: client.idempotency_key_for("invoice", None), "part 2 is empty"),
    ]
    all_refused_before_sending(client, cases)


def test_robaws_keyword_merges_check_the_dictionary_first() -> None:
    library = Robaws()
    library.client = robaws()
    with pytest.raises(ValidationError, match="client must be a dictionary, got str"):
        library.run_keyword("create_robaws_client", ["name=ACME"], {"email": "x@acme.be"})
    with pytest.raises(ValidationError, match="entity_id is empty"):
        library.run_keyword("get_robaws_resource", ["clients", ""], {})
    assert library.client.transport.stats["requests"] == 0


def test_cobot_refuses_before_sending() -> None:
    client = cobot()
    cases: list[tuple[Any, str]] = [
        (lambda: client.get_booking("b1", space=-1), "is not a Cobot space subdomain"),
        (lambda: client.get_booking("b1", space=["x"]), "space must be a text, got list"),
        (lambda: client.list_bookings(b"2025", "2025-03-02"), "start must be a date or an ISO 8601 text"),
        (lambda: client.list_bookings("2025-03-01", "2025\n03"), "end contains a control character"),
        (lambda: client.create_booking("r1", "2025-03-01T10:00", "2025-03-01T11:00", title=b"x"), "title must be a"),
        (lambda: client.create_booking("", "2025-03-01", "2025-03-01"), "resource_id is empty"),
        (lambda: client.subscribe_webhook(None, "https://x"), "event must be a text, got nothing"),
        (lambda: client.get_identity("\ud800"), "The id token is not a JWT"),
        (lambda: client.list_invoices(ids=[1, None]), r"ids[1] is not an id"),
    ]
    all_refused_before_sending(client, cases)


def test_robostack_refuses_before_sending() -> None:
    client = robostack()
    cases: list[tuple[Any, str]] = [
        (lambda: client.create("orders", None), "record must be a dictionary, got nothing"),
        (lambda: client.create("orders", {}), "record is empty"),
        (lambda: client.create_many("orders", "abc"), "records must be a list of dictionaries, got str"),
        (lambda: client.create_many("orders", None), "records must be a list of dictionaries, got nothing"),
        (lambda: client.create_many("orders", [{"a": 1}, {}]), r"records[1] is empty"),
        (lambda: client.create_many("orders", [{"a": 1}], chunk_size="x"), "chunk_size must be a positive"),
        (lambda: client.get("orders", None), "record_id must be a number or a text, got nothing"),
        (lambda: client.get("orders", " "), "record_id is empty"),
        (lambda: client.find("orders", "status=pending"), "selection must be a dictionary, got str"),
        (lambda: client.find("orders", status=b"x"), "selection['status'] is bytes"),
        (lambda: client.aggregate("orders", "$match"), "must be a list of stages"),
        (lambda: client.delete("orders", {"status": "x"}, allow_all="False"), "allow_all must be True or False"),
        (lambda: client.update("orders", {"a": 1}, "b=2"), "updation must be a dictionary, got str"),
    ]
    all_refused_before_sending(client, cases)


def test_robostack_keyword_merges_check_the_dictionary_first() -> None:
    library = Robostack()
    library.client = robostack()
    with pytest.raises(ValidationError, match="record must be a dictionary, got str"):
        library.run_keyword("create_robostack_record", ["orders", "status=pending"], {"n": "1"})
    with pytest.raises(ValidationError, match="limit must be a whole number"):
        library.run_keyword("find_robostack_records", ["orders"], {"limit": "all"})
    assert library.client.transport.stats["requests"] == 0


def controlroom() -> ControlRoomClient:
    return ControlRoomClient("ws-1", "rc-wskey-arguments-1", url=DEAD)


PROCESS = "0f8d3c1e-2b4a-4c6d-8e9f-a1b2c3d4e5f6"


def test_controlroom_refuses_before_sending(tmp_path: Path) -> None:
    client = controlroom()
    cases: list[tuple[Any, str]] = [
        # The example: a text is not a list of payloads (it started three runs, one per character).
        (lambda: client.trigger_runs(PROCESS, "abc"), "payloads must be a list of payloads"),
        (lambda: client.trigger_run(PROCESS, {"pdf": b"%PDF"}), "payload['pdf'] is bytes"),
        (lambda: client.trigger_run(PROCESS, callback="https://x"), "callback must be a dictionary"),
        (lambda: client.trigger_run_with_work_items(PROCESS, None), "No work item ids given"),
        (lambda: client.trigger_run_with_work_items(PROCESS, ["a", None]), r"work_item_ids[1] is not an id"),
        (lambda: client.get_run(""), "run_id is empty"),
        (lambda: client.get_run(".."), "run_id is a dot segment"),
        (lambda: list(client.list_runs(state=["new"])), "state must be a text, got list"),
        (lambda: list(client.list_runs(since="yesterday")), "since is not an ISO 8601 moment"),
        (lambda: list(client.list_runs(limit="all")), "limit must be a whole number"),
        (lambda: list(client.list_work_items(include_data="yes")), "include_data must be True or False"),
        (lambda: client.list_step_runs(" "), "run_id is empty"),
        (lambda: client.stop_run("r1", reason=b"x"), "reason must be a text"),
        (lambda: client.stop_run("r1", terminate_ongoing="False"), "terminate_ongoing must be True or False"),
        (lambda: client.update_work_item_payload("i1", {"n": float("inf")}), "payload['n'] is inf"),
        (lambda: client.create_work_item(PROCESS, files="missing.pdf"), "does not exist"),
        (lambda: client.create_work_item(PROCESS, files=5), "files must be a list of file paths"),
        (lambda: client.wait_for_run("r1", timeout="soon"), "timeout must be a number"),
        (lambda: client.wait_for_runs(None), "run_ids must be a list of ids"),
        (lambda: client.download_artifacts("r1", "a\x00b", step_run_id="s1"), "folder contains a control"),
        (lambda: client.set_asset("a", {"x": 1}, content_type="日本"), "content_type must be a media type"),
        (lambda: client.set_asset("a", "\ud800"), "value contains invalid Unicode"),
        (lambda: client.create_webhook(PROCESS, "https://x", ["process_run.done"]), "Unknown webhook event"),
        (lambda: ControlRoomClient.verify_webhook(b"{}", 0, "whsec-arguments-1"), "not ASCII text"),
        (lambda: ControlRoomClient.verify_webhook({}, "00", "whsec-arguments-1"), "body must be the raw request"),
        (lambda: client.process_id_by_name(["a"]), "name must be a text, got list"),
        (lambda: client.retry_work_items(["a", "b\nc"]), r"item_ids[1] contains a control character"),
    ]
    all_refused_before_sending(client, cases)
    assert client.run_link("../x").endswith("/processes/runs/..%2Fx")


def test_controlroom_keywords_check_ids_and_payloads() -> None:
    library = ControlRoom()
    library.client = controlroom()
    cases: list[tuple[Any, str]] = [
        (
            lambda: library.run_keyword("get_process_run", [{"state": "new"}], {}),
            "run_id is a dictionary without an 'id'",
        ),
        (lambda: library.run_keyword("get_process_run", [None], {}), "run_id must be a text, got nothing"),
        (lambda: library.run_keyword("trigger_process_runs", [PROCESS, "abc"], {}), "payloads must be a list"),
        (lambda: library.run_keyword("trigger_process_run", [PROCESS, "{not json"], {}), "payload is not valid JSON"),
        (lambda: library.run_keyword("list_processes", [], {"limit": "all"}), "limit must be a whole number"),
        (lambda: library.run_keyword("wait_for_process_run", ["r1"], {"timeout": ""}), "timeout must be a number"),
        (lambda: library.run_keyword("retry_work_items", [[{"id": "a"}, {}]], {}), "work_item_ids[1] is a dictionary"),
    ]
    all_refused_before_sending(library.client, cases)
