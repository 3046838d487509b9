"""Robostack pieces without a server: the sandbox's aggregation pipeline, the client's guards and parsing."""

from __future__ import annotations

from typing import Any

import pytest

from Connectors.core.errors import ConfigurationError, ConnectorError, RateLimited, ValidationError
from Connectors.vendors.robostack import client as client_module
from Connectors.vendors.robostack.client import RobostackClient
from connectors_sandbox.robostack.aggregation import PipelineError, run_pipeline

ORDERS = [
    {"id": 1, "status": "pending", "quantity": 10000, "amount": 400.0, "supplier": {"id": 1001}},
    {"id": 2, "status": "pending", "quantity": 500, "amount": 675.0, "supplier": {"id": 1002}},
    {"id": 3, "status": "invoiced", "quantity": 250, "amount": 525.0, "supplier": {"id": 1003}},
    {"id": 4, "status": "pending", "quantity": 10000, "amount": 400.0, "supplier": {"id": 1001}},
    {"id": 5, "status": "cancelled", "quantity": 4, "amount": None},
]


# -- pipeline ------------------------------------------------------------------------------------


def test_group_accumulators() -> None:
    result = run_pipeline(
        ORDERS,
        [
            {
                "$group": {
                    "_id": "$status",
                    "n": {"$count": {}},
                    "sum": {"$sum": "$amount"},
                    "avg": {"$avg": "$quantity"},
                    "min": {"$min": "$quantity"},
                    "max": {"$max": "$quantity"},
                    "ids": {"$push": "$id"},
                }
            },
            {"$sort": {"_id": 1}},
        ],
    )
    assert result == [
        {"_id": "cancelled", "n": 1, "sum": 0, "avg": 4.0, "min": 4, "max": 4, "ids": [5]},
        {"_id": "invoiced", "n": 1, "sum": 525.0, "avg": 250.0, "min": 250, "max": 250, "ids": [3]},
        {
            "_id": "pending",
            "n": 3,
            "sum": 1475.0,
            "avg": 20500 / 3,
            "min": 500,
            "max": 10000,
            "ids": [1, 2, 4],
        },
    ]


def test_group_by_null_nested_path_and_composite_key() -> None:
    assert run_pipeline(ORDERS, [{"$group": {"_id": None, "total": {"$sum": 1}}}]) == [{"_id": None, "total": 5}]
    by_supplier = run_pipeline(
        ORDERS,
        [
            {"$match": {"status": "pending"}},
            {"$group": {"_id": "$supplier.id", "q": {"$sum": "$quantity"}}},
            {"$sort": {"q": -1}},
        ],
    )
    assert by_supplier == [{"_id": 1001, "q": 20000}, {"_id": 1002, "q": 500}]
    composite = run_pipeline(
        ORDERS,
        [
            {"$group": {"_id": {"s": "$status", "q": "$quantity"}, "n": {"$count": {}}}},
            {"$match": {"n": {"$gt": 1}}},
        ],
    )
    assert composite == [{"_id": {"s": "pending", "q": 10000}, "n": 2}]


def test_match_operators_and_order_of_stages_matters() -> None:
    assert [d["id"] for d in run_pipeline(ORDERS, [{"$match": {"quantity": {"$gte": 500, "$lt": 10000}}}])] == [2]
    assert [d["id"] for d in run_pipeline(ORDERS, [{"$match": {"status": {"$in": ["invoiced", "cancelled"]}}}])] == [
        3,
        5,
    ]
    assert [d["id"] for d in run_pipeline(ORDERS, [{"$match": {"$or": [{"id": 1}, {"amount": None}]}}])] == [
        1,
        5,
    ]
    assert [d["id"] for d in run_pipeline(ORDERS, [{"$match": {"supplier": {"$exists": False}}}])] == [5]
    # Exact match does not treat true as 1.
    assert run_pipeline([{"id": 1, "flag": True}], [{"$match": {"flag": 1}}]) == []
    limit_then_sort = run_pipeline(ORDERS, [{"$limit": 2}, {"$sort": {"quantity": 1}}])
    sort_then_limit = run_pipeline(ORDERS, [{"$sort": {"quantity": 1}}, {"$limit": 2}])
    assert [d["id"] for d in limit_then_sort] == [2, 1]
    assert [d["id"] for d in sort_then_limit] == [5, 3]


def test_sort_skip_limit_project_count() -> None:
    result = run_pipeline(
        ORDERS,
        [
            {"$sort": {"quantity": -1, "id": -1}},
            {"$skip": 1},
            {"$limit": 2},
            {"$project": {"id": 1, "value": {"$multiply": ["$quantity", 2]}}},
        ],
    )
    assert result == [{"id": 1, "value": 20000}, {"id": 2, "value": 1000}]
    assert run_pipeline(ORDERS, [{"$project": {"supplier": 0, "amount": 0, "quantity": 0}}, {"$limit": 1}]) == [
        {"id": 1, "status": "pending"}
    ]
    assert run_pipeline(ORDERS, [{"$match": {"status": "pending"}}, {"$count": "pending"}]) == [{"pending": 3}]
    assert run_pipeline(ORDERS, [{"$match": {"status": "nope"}}, {"$count": "n"}]) == []
    assert run_pipeline(ORDERS, []) == ORDERS


def test_pipeline_does_not_change_the_records() -> None:
    records = [{"id": 1, "a": {"b": 1}}]
    run_pipeline(records, [{"$project": {"a": 0}}])
    assert records == [{"id": 1, "a": {"b": 1}}]


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ({"$match": {}}, "must be a list of stages"),
        ([{"$match": {}, "$limit": 1}], "stage 1: a stage must be an object with exactly one key"),
        (["$match"], "stage 1: a stage must be an object"),
        ([{"$lookup": {}}], "unknown stage '$lookup'"),
        ([{"$match": []}], r"stage 1 ($match): expects an object"),
        ([{"$match": {"q": {"$regex": "x"}}}], "unknown operator '$regex'"),
        ([{"$match": {"q": {"$in": 5}}}], "$in on 'q' expects a list"),
        ([{"$group": {"n": {"$sum": 1}}}], "'_id' group key"),
        ([{"$group": {"_id": None, "n": {"$median": "$q"}}}], "unknown accumulator '$median'"),
        ([{"$group": {"_id": None, "n": {"$count": "$q"}}}], "$count takes an empty object"),
        ([{"$group": {"_id": None, "n": 1}}], "needs one accumulator"),
        ([{"$sort": {}}], "non-empty object"),
        ([{"$sort": {"q": "asc"}}], "direction of 'q' must be 1 or -1"),
        ([{"$limit": 0}], "positive whole number"),
        ([{"$limit": "5"}], "positive whole number"),
        ([{"$skip": -1}], "0 or more"),
        ([{"$project": {"a": 1, "b": 0}}], "cannot mix excluding 'b'"),
        ([{"$project": {"a": {"$concat": ["$a"]}}}], "unknown expression operator '$concat'"),
        ([{"$count": ""}], "name of the output field"),
        ([{"$group": {"_id": None, "x": {"$sum": {"$divide": ["$quantity", 0]}}}}], "$divide by zero"),
    ],
)
def test_malformed_pipelines_name_the_problem(pipeline: Any, message: str) -> None:
    with pytest.raises(PipelineError) as raised:
        run_pipeline(ORDERS, pipeline)
    assert message in str(raised.value)


# -- client without a server ---------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> RobostackClient:
    for name in (
        "ROBOSTACK_URL",
        "ROBOSTACK_RATE_LIMIT",
        "ROBOSTACK_RATE_BURST",
        "ROBOSTACK_CHUNK_SIZE",
        "CONNECTORS_VAULT_SECRET",
        "CONNECTORS_THROTTLE_STORE",
    ):
        monkeypatch.delenv(name, raising=False)
    # Port 9 (discard) on loopback: any request that slipped through the guards would fail loudly.
    return RobostackClient("app-1", "key-123456", "secret-abcdef", url="http://127.0.0.1:9")


@pytest.mark.parametrize("selection", [{}, None, [], [{}], [{"a": 1}, {}]])
def test_guard_refuses_match_all_selections(offline: RobostackClient, selection: Any) -> None:
    with pytest.raises(ValidationError, match="Refusing to delete") as raised:
        offline.delete("orders", selection)
    assert "allow_all=True" in str(raised.value)
    assert offline.transport.stats["requests"] == 0


def test_update_requires_matching_shapes(offline: RobostackClient) -> None:
    with pytest.raises(ValidationError, match="both be single dictionaries or both be lists"):
        offline.update("orders", [{"a": 1}], {"b": 2})
    with pytest.raises(ValidationError, match="2 selections and 1 updations"):
        offline.update("orders", [{"a": 1}, {"a": 2}], [{"b": 2}])
    with pytest.raises(ValidationError, match="updation is empty"):
        offline.update("orders", {"a": 1}, {})
    with pytest.raises(ValidationError, match=r"selection\[1\] must be a dictionary, got str"):
        offline.delete("orders", [{"a": 1}, "a=1"])
    assert offline.transport.stats["requests"] == 0


def test_settings_and_defaults(offline: RobostackClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert offline.resource_path("orders") == "/external/api/app-1/orders/"
    assert offline.throttle.status.rate == "5/s burst 10"
    assert offline.chunk_size == 100
    assert offline.auth.identity.startswith("app-1-") and "key-123456" not in offline.auth.identity
    # A resource name is data: one encoded segment, never a path.
    assert offline.resource_path("orders/../1") == "/external/api/app-1/orders%2F..%2F1/"
    with pytest.raises(ValidationError, match="resource is a dot segment"):
        offline.resource_path("..")
    with pytest.raises(ValidationError, match="resource is empty"):
        offline.resource_path(" ")
    monkeypatch.setenv("ROBOSTACK_CHUNK_SIZE", "0")
    with pytest.raises(ConfigurationError, match="Invalid chunk size '0' for Robostack"):
        RobostackClient("app-1", "key-123456", "secret-abcdef")
    monkeypatch.delenv("ROBOSTACK_API_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="ROBOSTACK_API_SECRET"):
        RobostackClient("app-1", "key-123456", chunk_size=5)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"results": [{"id": 1}]}, [{"id": 1}]),
        ([{"id": 2}, "noise"], [{"id": 2}]),
        ({"data": [{"id": 3}]}, [{"id": 3}]),
        ({"result": {"id": 4}}, [{"id": 4}]),
        ({"id": 5, "fieldName": "x"}, [{"id": 5, "fieldName": "x"}]),
        ({"success": True}, []),
        (None, []),
    ],
)
def test_answers_of_other_shapes_are_tolerated(body: Any, expected: list[dict]) -> None:
    assert client_module._records(body) == expected


def test_chunk_failure_says_what_was_created() -> None:
    error = RateLimited("too many", vendor="Robostack", retry_after=3.0, status=429)
    partial = client_module._partial(error, 3, 4, 200)
    assert isinstance(partial, RateLimited) and partial.retry_after == 3.0
    assert "chunk 3 of 4 failed after 200 records were created" in str(partial)
    generic = client_module._partial(ConnectorError("boom"), 2, 2, 100)
    assert type(generic) is ConnectorError and "100 records" in str(generic)
