"""Nested Robaws collections (``clients/42/contacts``, supply-order line items, an entity's documents tab)
through the recording server of the hostile-input tests: every request stays inside ``/api/v2/``, each
segment arrives encoded on its own, and each crafted segment is refused with one line before anything is sent.
"""

# ruff: noqa: F811 - the tests take the imported recording-server fixture as an argument of the same name

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_hostile_properties import Recorder
from test_hostile_properties import recorder as recording_server  # noqa: F401 - the fixture, by this name

from Connectors import RobawsClient
from Connectors.core.errors import ConnectorError, ValidationError
from Connectors.core.paths import segments
from Connectors.core.repeats import journal
from Connectors.Robaws import Robaws

API = "/robaws/api/v2/"


@pytest.fixture
def robaws(recording_server: Recorder) -> Iterator[RobawsClient]:
    common: dict[str, Any] = {"rate_limit": "off", "timeout": 5, "daily_quota": "none"}
    with RobawsClient(
        recording_server.url + "/robaws", username="user", password="pa55-nested-robaws", **common
    ) as client:
        recording_server.take()
        yield client
    journal.clear()


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "plan.pdf"
    path.write_bytes(b"%PDF-1.4 nested\n")
    return path


def sent(recorder: Recorder) -> list[str]:
    paths = [seen.path.split("?", 1)[0] for seen in recorder.take()]
    assert all(path.startswith(API) for path in paths), paths
    return [path[len(API) - 1 :] for path in paths]


@pytest.mark.parametrize(
    ("collection", "path"),
    [
        ("clients/42/contacts", "/clients/42/contacts"),
        ("suppliers/7/contacts", "/suppliers/7/contacts"),
        ("purchase-supply-orders/3/line-items", "/purchase-supply-orders/3/line-items"),
        ("offers/5/documents", "/offers/5/documents"),
        ("clients/caf\u00e9 & co/contacts", "/clients/caf%C3%A9%20%26%20co/contacts"),
        ("clients/..%2F..%2Fx/contacts", "/clients/..%252F..%252Fx/contacts"),
    ],
)
def test_a_nested_collection_is_sent_segment_by_segment(
    robaws: RobawsClient, recording_server: Recorder, collection: str, path: str
) -> None:
    list(robaws.list(collection, limit=1))
    assert sent(recording_server) == [path]


def test_the_nested_methods_reach_their_paths(robaws: RobawsClient, recording_server: Recorder, document: Path) -> None:
    list(robaws.list_client_contacts(42))
    robaws.create_client_contact(42, {"name": "Jan"})
    list(robaws.list_supplier_contacts("S-7"))
    robaws.create_supplier_contact(7, {"name": "Els"})
    list(robaws.list_supply_order_line_items(3))
    robaws.get_supply_order_line_item(3, 9)
    robaws.update_supply_order_line_item(3, 9, {"quantity": 4})
    robaws.upload_document_to_entity("offers", 5, document)
    robaws.upload_document_to_entity("work-orders", 6, document)
    robaws.get("purchase-supply-orders/3/line-items", 9)
    assert sent(recording_server) == [
        "/clients/42/contacts",
        "/clients/42/contacts",
        "/suppliers/S-7/contacts",
        "/suppliers/7/contacts",
        "/purchase-supply-orders/3/line-items",
        "/purchase-supply-orders/3/line-items/9",
        "/purchase-supply-orders/3/line-items/9",
        "/offers/5/documents",
        "/work-orders/6/documents",
        "/purchase-supply-orders/3/line-items/9",
    ]


def test_an_id_with_a_slash_stays_one_segment(robaws: RobawsClient, recording_server: Recorder) -> None:
    list(robaws.list_client_contacts("42/../../_sandbox"))
    robaws.get_supply_order_line_item("3", "9/../../x")
    assert sent(recording_server) == [
        "/clients/42%2F..%2F..%2F_sandbox/contacts",
        "/purchase-supply-orders/3/line-items/9%2F..%2F..%2Fx",
    ]


CRAFTED = [
    "..",
    ".",
    "clients/..",
    "clients/../_sandbox/stats",
    "clients/./contacts",
    "clients/ .. /contacts",
    "../../_sandbox/reset",
    "clients//contacts",
    "/clients",
    "clients/",
    "//evil.example/x",
    "clients?page=0&size=1",
    "clients/42/contacts?x=1",
    "clients#top",
    "clients/42\\..\\..\\contacts",
    "clients/4\x002/contacts",
    "clients/42/contacts\r\nX-Injected: 1",
    "clients/\u2028/contacts",
    "clients/ 42/contacts",
    "",
    " ",
]


@pytest.mark.parametrize("collection", CRAFTED)
def test_a_crafted_collection_is_refused_in_one_line_and_nothing_is_sent(
    robaws: RobawsClient, recording_server: Recorder, document: Path, collection: str
) -> None:
    calls = [
        lambda: list(robaws.list(collection, limit=1)),
        lambda: robaws.get(collection, 1),
        lambda: robaws.create(collection, {"name": "x"}),
        lambda: robaws.update(collection, 1, {"name": "x"}),
        lambda: robaws.delete(collection, 1),
        lambda: robaws.upload_document_to_entity(collection, 1, document),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as error:
            call()
        text = str(error.value)
        assert "collection" in text and "\n" not in text and "\r" not in text, text
    assert recording_server.take() == []


@pytest.mark.parametrize("collection", ["clients/../x", "offers//documents", "offers?x", "offers#y"])
def test_the_keywords_refuse_the_same(
    recording_server: Recorder, robaws: RobawsClient, document: Path, collection: str
) -> None:
    library = Robaws()
    library.client = robaws
    for call in (
        lambda: library.list_robaws_resources(collection),
        lambda: library.upload_robaws_document_to_entity(collection, 1, str(document)),
    ):
        with pytest.raises(ConnectorError, match="collection"):
            call()
    assert recording_server.take() == []


def test_segments_encode_each_part_and_keep_single_ids_as_one() -> None:
    assert segments("clients/42/contacts", "collection") == ["clients", "42", "contacts"]
    assert segments("a b/%2F", "collection") == ["a%20b", "%252F"]
    assert segments(42, "collection") == ["42"]
    with pytest.raises(ValidationError, match="empty segment"):
        segments("a//b", "collection")
    with pytest.raises(ValidationError, match="dot segment"):
        segments("a/../b", "collection")
