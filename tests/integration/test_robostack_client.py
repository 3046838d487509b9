"""RobostackClient against the sandbox: the seed page's request bodies, safety rules, errors, throttling."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from Connectors import RobostackClient
from Connectors.core.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    UncertainOutcome,
    ValidationError,
)
from connectors_sandbox.server import SandboxProcess


def requests_made(sandbox: SandboxProcess) -> int:
    return int(sandbox.stats().get("robostack", {}).get("requests", 0))


def stored(sandbox: SandboxProcess, resource: str) -> list[dict]:
    app = os.environ["ROBOSTACK_APP_UUID"]
    return list(sandbox.admin("GET", f"/_sandbox/robostack/apps/{app}/{resource}"))


@pytest.fixture
def client(sandbox: SandboxProcess) -> RobostackClient:
    return RobostackClient()


# -- the seed page's request body samples -------------------------------------------------------


def test_find_samples_match_exact_id_and_exact_and(client: RobostackClient) -> None:
    assert [r["id"] for r in client.find("orders", {"id": 1})] == [1]
    pending_10000 = client.find("orders", {"status": "pending", "quantity": 10000})
    assert [r["order_number"] for r in pending_10000] == ["PO-2024-0001", "PO-2024-0004"]
    assert all(r["status"] == "pending" and r["quantity"] == 10000 for r in pending_10000)
    # named arguments are the same selection
    assert client.find("orders", status="pending", quantity=10000) == pending_10000
    assert len(client.find("orders")) == 10


def test_create_samples_one_and_many(client: RobostackClient, sandbox: SandboxProcess) -> None:
    one = client.create("samples", {"fieldName": "Field Value"})
    assert one["fieldName"] == "Field Value" and isinstance(one["id"], int)
    many = client.create_many("samples", [{"fieldName": "Field Value 1"}, {"fieldName": "Field Value 2"}])
    assert [r["fieldName"] for r in many] == ["Field Value 1", "Field Value 2"]
    assert len({one["id"], *(r["id"] for r in many)}) == 3
    assert len(stored(sandbox, "samples")) == 4 + 3


def test_update_samples_single_and_paired(client: RobostackClient, sandbox: SandboxProcess) -> None:
    single = client.update("samples", {"fieldName": "Matching Field Value"}, {"fieldName": "New Field Value"})
    assert single["matched"] == 1 and single["modified"] == 1
    client.create("samples", {"fieldName": "Matching Field Value"})
    paired = client.update(
        "samples",
        [{"fieldName": "Matching Field Value"}, {"fieldName": ""}],
        [{"fieldName": "New Field Value"}, {"fieldName": "Unknown Field Value"}],
    )
    assert paired["matched"] == 2
    values = sorted(r["fieldName"] for r in stored(sandbox, "samples"))
    assert values == ["Another Field Value", "Field Value", "New Field Value", "New Field Value", "Unknown Field Value"]


def test_delete_samples_single_and_multiple(client: RobostackClient, sandbox: SandboxProcess) -> None:
    assert client.delete("samples", {"fieldName": "Field Value"})["deleted"] == 1
    multiple = client.delete("samples", [{"fieldName": ""}, {"fieldName": "Unknown Field Value"}])
    assert multiple["deleted"] == 1  # the empty value matches one record, the unknown value none
    assert sorted(r["fieldName"] for r in stored(sandbox, "samples")) == ["Another Field Value", "Matching Field Value"]


# -- reading -------------------------------------------------------------------------------------


def test_get_and_count(client: RobostackClient) -> None:
    assert client.get("orders", 3)["order_number"] == "PO-2024-0003"
    assert client.get("orders", "3")["id"] == 3
    with pytest.raises(NotFound, match="No record with id 999 in resource 'orders'"):
        client.get("orders", 999)
    assert client.count("orders", status="pending") == 5
    assert client.count("orders") == 10


def test_aggregation_pipeline(client: RobostackClient) -> None:
    totals = client.aggregate(
        "orders",
        [
            {"$match": {"status": "pending"}},
            {
                "$group": {
                    "_id": "$supplier_id",
                    "orders": {"$count": {}},
                    "total": {"$sum": "$amount"},
                    "average": {"$avg": "$quantity"},
                    "smallest": {"$min": "$quantity"},
                    "largest": {"$max": "$quantity"},
                }
            },
            {"$sort": {"total": -1}},
        ],
    )
    assert totals[0] == {"_id": 1005, "orders": 1, "total": 2580.0, "average": 120.0, "smallest": 120, "largest": 120}
    screws = next(t for t in totals if t["_id"] == 1001)
    assert screws["orders"] == 3 and screws["smallest"] == 5000 and screws["largest"] == 10000
    page = client.aggregate(
        "orders",
        {"pipeline": [{"$sort": {"id": 1}}, {"$skip": 2}, {"$limit": 3}, {"$project": {"order_number": 1, "_id": 0}}]},
    )
    assert page == [{"order_number": f"PO-2024-000{n}"} for n in (3, 4, 5)]
    assert client.aggregate("orders", [{"$match": {"status": "invoiced"}}, {"$count": "invoiced"}]) == [{"invoiced": 3}]


def test_malformed_pipeline_is_a_clear_400(client: RobostackClient) -> None:
    with pytest.raises(ValidationError, match=r"HTTP 400.*stage 2 \(\$group\).*'_id'"):
        client.aggregate("orders", [{"$match": {}}, {"$group": {"total": {"$sum": "$amount"}}}])
    with pytest.raises(ValidationError, match=r"unknown stage '\$lookup'"):
        client.aggregate("orders", [{"$lookup": {"from": "products"}}])
    with pytest.raises(ValidationError, match="must be a list of stages"):
        client.aggregate("orders", "not a pipeline")  # type: ignore[arg-type]


# -- safety --------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", [{}, None, [], [{}], [{"status": "pending"}, {}]])
def test_empty_selection_is_refused_before_any_request(
    client: RobostackClient, sandbox: SandboxProcess, selection: object
) -> None:
    before = requests_made(sandbox)
    refused = r"Refusing to delete .* every record of 'orders'.*allow_all=True"
    with pytest.raises(ValidationError, match=refused):
        client.delete("orders", selection)  # type: ignore[arg-type]
    updation = [{"status": "x"}] * len(selection) if isinstance(selection, list) else {"status": "x"}
    with pytest.raises(ValidationError, match=r"Refusing to update|paired by position"):
        client.update("orders", selection, updation)  # type: ignore[arg-type]
    assert requests_made(sandbox) == before
    assert len(stored(sandbox, "orders")) == 10


def test_allow_all_updates_and_deletes_everything(client: RobostackClient, sandbox: SandboxProcess) -> None:
    assert client.update("customers", {}, {"segment": "smb"}, allow_all=True)["matched"] == 4
    assert {r["segment"] for r in stored(sandbox, "customers")} == {"smb"}
    assert client.delete("customers", None, allow_all=True)["deleted"] == 4
    assert stored(sandbox, "customers") == []


def test_lost_answer_to_a_create_is_not_resent(client: RobostackClient, sandbox: SandboxProcess) -> None:
    sandbox.configure(faults="lost=1.0", seed=1)
    try:
        with pytest.raises(UncertainOutcome) as raised:
            client.create("orders", {"order_number": "PO-2024-0500", "status": "pending"})
    finally:
        sandbox.configure(faults="")
    message = str(raised.value)
    assert "may or may not have been created in 'orders'" in message
    assert "Find Robostack Records" in message
    assert client.transport.stats["retries"] == 0
    # The sandbox wrote it once: blindly resending would have made a duplicate.
    assert len(client.find("orders", order_number="PO-2024-0500")) == 1


def test_server_429_is_waited_out_even_for_create(sandbox: SandboxProcess) -> None:
    sandbox.admin("POST", "/_sandbox/robostack/rate-limit", {"per_second": 4, "burst": 1})
    client = RobostackClient(rate_limit="off")
    for number in range(3):
        client.create("orders", {"order_number": f"PO-2024-06{number:02d}", "status": "pending"})
    assert sandbox.stats()["robostack"]["rate_limited"] >= 1
    assert client.transport.stats["retries"] >= 1
    assert client.count("orders", status="pending") == 5 + 3  # each created exactly once


def test_default_throttle_is_conservative_and_configurable(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RobostackClient().throttle.status.rate == "5/s burst 10"
    monkeypatch.setenv("ROBOSTACK_RATE_LIMIT", "2/s")
    assert RobostackClient().throttle.status.rate == "2/s"
    assert RobostackClient(rate_limit="30/min", burst=3).throttle.status.rate == "30/min burst 3"


def test_create_many_sends_chunks(client: RobostackClient, sandbox: SandboxProcess) -> None:
    before = requests_made(sandbox)
    created = client.create_many("products", [{"sku": f"NEW-{n}"} for n in range(5)], chunk_size=2)
    assert requests_made(sandbox) - before == 3
    assert [r["sku"] for r in created] == [f"NEW-{n}" for n in range(5)]


# -- errors --------------------------------------------------------------------------------------


def test_wrong_secret_is_401_and_not_shown(sandbox: SandboxProcess) -> None:
    client = RobostackClient(api_secret="rss_wrong-secret-value")
    with pytest.raises(AuthenticationError, match=r"HTTP 401.*ROBOSTACK_API_SECRET") as raised:
        client.find("orders")
    assert "rss_wrong-secret-value" not in str(raised.value)
    assert os.environ["ROBOSTACK_API_KEY"] not in str(raised.value)


def test_token_not_granted_is_403(sandbox: SandboxProcess) -> None:
    client = RobostackClient(
        api_key=os.environ["ROBOSTACK_UNGRANTED_API_KEY"], api_secret=os.environ["ROBOSTACK_UNGRANTED_API_SECRET"]
    )
    with pytest.raises(PermissionDenied, match=r"HTTP 403.*Add Token Access"):
        client.find("orders")


def test_unknown_resource_is_404(client: RobostackClient) -> None:
    with pytest.raises(NotFound, match=r"HTTP 404.*'invoices' does not exist"):
        client.find("invoices")


def test_malformed_bodies_are_400(client: RobostackClient) -> None:
    with pytest.raises(ValidationError, match="Robostack assigns ids"):
        client.create("orders", {"id": 5, "status": "pending"})
    with pytest.raises(ValidationError, match="exact match"):
        client.find("orders", {"quantity": {"$gt": 5}})


# -- credentials ---------------------------------------------------------------------------------


def test_credentials_from_a_vault_secret(
    sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault.json"
    vault.write_text(
        json.dumps(
            {
                "robostack": {
                    "app_uuid": os.environ["ROBOSTACK_APP_UUID"],
                    "api_key": os.environ["ROBOSTACK_API_KEY"],
                    "api_secret": os.environ["ROBOSTACK_API_SECRET"],
                }
            }
        )
    )
    for name in ("ROBOSTACK_APP_UUID", "ROBOSTACK_API_KEY", "ROBOSTACK_API_SECRET"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.delenv("RPA_SECRET_MANAGER", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRETS_FILE", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRET_MANAGER", raising=False)
    assert RobostackClient(vault_secret="robostack").count("orders") == 10
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "robostack")
    assert RobostackClient().count("orders") == 10
