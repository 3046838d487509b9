"""The Robostack guard: an update or delete whose selection could match every record is refused
without ``allow_all=True``. Every match-all spelling of issue 12, and nested combinations of them."""

from __future__ import annotations

import os
from typing import Any

import pytest

from Connectors import RobostackClient
from Connectors.core.errors import ValidationError
from Connectors.Robostack import Robostack
from Connectors.vendors.robostack.selection import MATCH_ALL_OPERATORS, pins

MATCH_ALL: list[Any] = [
    None,
    {},
    {"$and": []},
    {"$or": []},
    {"$nor": []},
    {"$nor": [{"status": "x"}]},
    {"$not": {"status": "x"}},
    {"status": {"$exists": True}},
    {"status": {"$exists": False}},
    {"status": {"$ne": "cancelled"}},
    {"status": {"$nin": ["cancelled"]}},
    {"status": {"$not": {"$eq": "x"}}},
    {"status": {"$not": {"$in": []}}},
    {"status": {"$in": []}},
    {"status": {"$in": [None]}},
    {"status": {"$in": ["x", None]}},
    {"status": {"$in": [{"$regex": ".*"}]}},
    {"status": {"$eq": None}},
    {"status": {"$eq": {"$regex": ".*"}}},
    {"status": None},
    {"quantity": {"$gt": 0}},
    {"quantity": {"$gte": -1e308}},
    {"quantity": {"$lt": 10**30}},
    {"quantity": {"$lte": 10**30}},
    {"name": {"$gt": ""}},
    {"name": {"$regex": ".*"}},
    {"name": {"$regex": ""}},
    {"name": {"$regex": "^"}},
    {"name": {"$regex": "^.*$"}},
    {"name": {"$regex": "^.{0,}", "$options": "s"}},
    {"name": {"$type": "string"}},
    {"tags": {"$size": 0}},
    {"tags": {"$all": []}},
    {"tags": {"$elemMatch": {}}},
    {"n": {"$mod": [1, 0]}},
    {"$where": "true"},
    {"$expr": {"$eq": [1, 1]}},
    {"$text": {"$search": "a"}},
    {"$jsonSchema": {}},
    {"$comment": "all of them"},
    {"status": {}},
    {"status": []},
    {"status": {"$eq": "x", "field": 1}},
    {"supplier": {"id": {"$gt": 0}}},
    {"$and": [{}, {"status": {"$exists": True}}]},
    {"$and": [{"$or": []}]},
    {"$or": [{"status": "pending"}, {}]},
    {"$or": [{"status": "pending"}, {"quantity": {"$gt": 0}}]},
    {"$or": [{"$and": [{"status": "pending"}]}, {"$nor": [{"status": "x"}]}]},
    {"$and": [{"$or": [{"a": 1}, {"b": {"$ne": 1}}]}]},
    {"$and": "status"},
    {"$or": [{"a": 1}, "b"]},
]

PINNED: list[dict[str, Any]] = [
    {"status": "pending"},
    {"status": ""},
    {"id": 7},
    {"archived": False},
    {"amount": 0.0},
    {"status": {"$eq": "pending"}},
    {"status": {"$in": ["pending", "invoiced"]}},
    {"status": "pending", "quantity": {"$gt": 5}},
    {"status": {"$eq": "x", "$ne": "y"}},
    {"$and": [{"status": "pending"}, {"quantity": {"$gt": 5}}]},
    {"$or": [{"status": "pending"}, {"status": {"$in": ["x"]}}]},
    {"$or": [{"$and": [{"a": 1}, {"b": {"$exists": True}}]}, {"c": 2}]},
    {"$nor": [{"a": 1}], "b": 2},
    {"tags": ["a", "b"]},
    {"supplier": {"id": 1001}},
]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> RobostackClient:
    for name in list(os.environ):
        if name.startswith(("ROBOSTACK_", "CONNECTORS_")):
            monkeypatch.delenv(name)
    robostack = RobostackClient("app-1", "key-guard-0001", "secret-guard-0001", url="http://127.0.0.1:9")
    sent: list[tuple[str, Any]] = []

    def request_json(method: str, path: str, **kwargs: Any) -> Any:
        sent.append((method, kwargs.get("json")))
        return {"matched": 0}

    monkeypatch.setattr(robostack.transport, "request_json", request_json)
    robostack.sent = sent  # type: ignore[attr-defined]
    return robostack


@pytest.mark.parametrize("selection", MATCH_ALL, ids=repr)
def test_match_all_selections_are_refused(client: RobostackClient, selection: Any) -> None:
    if isinstance(selection, dict):
        assert not pins(selection)
    for call in (
        lambda: client.delete("orders", selection),
        lambda: client.update("orders", selection, {"status": "x"}),
        lambda: client.delete("orders", [{"id": 1}, selection or {}]),
        lambda: client.update("orders", [{"id": 1}, selection or {}], [{"a": 1}, {"a": 2}]),
    ):
        with pytest.raises(ValidationError) as raised:
            call()
        text = str(raised.value)
        assert "Refusing to" in text and "allow_all=True" in text and "\n" not in text
    assert client.sent == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("selection", MATCH_ALL[1:], ids=repr)
def test_allow_all_sends_them_on_purpose(client: RobostackClient, selection: Any) -> None:
    client.delete("orders", selection, allow_all=True)
    client.update("orders", selection, {"status": "x"}, allow_all=True)
    assert [method for method, _ in client.sent] == ["DELETE", "PATCH"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("selection", PINNED, ids=repr)
def test_pinned_selections_pass(client: RobostackClient, selection: dict[str, Any]) -> None:
    assert pins(selection)
    client.delete("orders", selection)
    client.update("orders", [selection, {"id": 2}], [{"a": 1}, {"a": 2}])
    assert client.sent == [  # type: ignore[attr-defined]
        ("DELETE", {"selection": selection}),
        ("PATCH", {"selection": [selection, {"id": 2}], "updation": [{"a": 1}, {"a": 2}]}),
    ]


def test_the_message_names_the_loose_selection(client: RobostackClient) -> None:
    with pytest.raises(ValidationError) as raised:
        client.delete("orders", [{"id": 1}, {"status": {"$exists": True}}])
    assert str(raised.value) == (
        'Robostack: Refusing to delete with selection 2 {"status": {"$exists": true}}, which pins no field '
        "to a value: it could delete every record of 'orders'. Pin a field to a value in every branch (field: "
        "value, field: {$eq: value} or field: {$in: [values]}), or pass allow_all=True to delete all matching "
        "records on purpose."
    )
    with pytest.raises(ValidationError, match="Refusing to update with an empty selection"):
        client.update("orders", None, {"a": 1})


def test_every_documented_operator_is_in_the_guard_tests() -> None:
    spelled = repr(MATCH_ALL)
    assert [op for op in MATCH_ALL_OPERATORS if f"'{op}'" not in spelled] == []


def test_keywords_apply_the_guard(client: RobostackClient) -> None:
    library = Robostack()
    library.client = client
    exists = {"status": {"$exists": True}}
    with pytest.raises(ValidationError, match="Refusing to delete"):
        library.run_keyword("delete_robostack_records", ["orders", exists], {})
    with pytest.raises(ValidationError, match="Refusing to update"):
        library.run_keyword("update_robostack_records", ["orders", exists], {"status": "x"})
    library.run_keyword("delete_robostack_records", ["orders", exists], {"allow_all": True})
    assert [method for method, _ in client.sent] == ["DELETE"]  # type: ignore[attr-defined]
