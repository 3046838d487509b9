"""The Robaws sandbox honours only what Robaws documents (api-notes/robaws.md, "Filtering, paging, sorting").

Which filters each collection honours, and why:
- every collection: paging (``page``, ``size``), ``sort``, ``include``, extra fields (``extraFields[Name]``),
  the database mode - the vendor's general pages document them for all collections;
- every collection: ``updatedFrom`` - documented for "most collections" (which ones is not said: all here);
- sales and purchase invoices: ``type`` (INVOICE | CREDIT_NOTE), ``fromDate``, ``toDate`` - documented for them.

Nothing else is documented for API v2 (not a supplier's VAT number, not a client's name, not an invoice's
client; v1 had some, unconfirmed for v2), and a server ignores a parameter it does not know. So the sandbox
ignores every other parameter - answering as if it were absent, and logging its name - instead of turning it
into an exact-match filter that would hide a robot's reliance on it. An encoded slash in a path is data,
never a separator: the sandbox answers 400, as a Tomcat-style server does.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import httpx
import pytest

from connectors_sandbox.app import create_app
from connectors_sandbox.options import SandboxOptions
from connectors_sandbox.robaws.api import PASSWORD, USERNAME
from connectors_sandbox.robaws.store import COLLECTION_FILTERS, COLLECTIONS, STANDARD_PARAMS, honoured

API = "/robaws/api/v2"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()}


class Robaws:
    """Requests straight into the sandbox's ASGI application, with the demo credentials."""

    def __init__(self) -> None:
        self.app = create_app(SandboxOptions(demo=True, public_url="http://testserver", rate_scale=100))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, API + path, headers=AUTH, **kwargs)

        return asyncio.run(send())

    def items(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        response = self.request("GET", f"/{collection}", params={"size": 100, **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def ids(self, collection: str, **params: Any) -> list[int]:
        return [item["id"] for item in self.items(collection, **params)]


@pytest.fixture(scope="module")
def robaws() -> Robaws:
    return Robaws()


def test_what_each_collection_honours_is_what_robaws_documents() -> None:
    invoices = ("type", "fromDate", "toDate")
    assert set(STANDARD_PARAMS) == {"page", "size", "sort", "include", "database-mode", "updatedFrom"}
    assert {"sales-invoices": invoices, "purchase-invoices": invoices} == COLLECTION_FILTERS
    for collection in COLLECTIONS:
        own = invoices if collection.endswith("-invoices") else ()
        assert set(honoured(collection)) == set(STANDARD_PARAMS) | set(own), collection


def test_invoices_filter_on_type_and_dates(robaws: Robaws) -> None:
    invoices = robaws.items("sales-invoices")
    credit = robaws.items("sales-invoices", type="CREDIT_NOTE")
    assert credit and {i["id"] for i in credit} == {i["id"] for i in invoices if i["type"] == "CREDIT_NOTE"}
    window = robaws.items("sales-invoices", fromDate="2024-03-01", toDate="2024-06-30")
    assert {i["id"] for i in window} == {i["id"] for i in invoices if "2024-03-01" <= i["date"] <= "2024-06-30"}
    assert robaws.request("GET", "/sales-invoices", params={"updatedFrom": "yesterday"}).status_code == 400


@pytest.mark.parametrize("collection", ["clients", "suppliers", "sales-invoices", "articles"])
def test_updated_from_filters_most_collections(robaws: Robaws, collection: str) -> None:
    everything = robaws.items(collection)
    pivot = sorted(item["updatedAt"] for item in everything)[len(everything) // 2]
    recent = robaws.ids(collection, updatedFrom=pivot)
    assert recent and set(recent) == {item["id"] for item in everything if item["updatedAt"] >= pivot}


@pytest.mark.parametrize(
    ("collection", "params"),
    [
        ("suppliers", {"vatNumber": "BE0400123451"}),  # what the robots used to rely on
        ("clients", {"name": "Hotel Aurora"}),  # a v1 filter, unconfirmed for v2
        ("sales-invoices", {"clientId": "1001"}),
        ("purchase-invoices", {"supplierId": "1001", "searchText": "x", "status": "OPEN"}),
        ("clients", {"noSuchField": "x"}),
        ("clients", {"type": "CREDIT_NOTE", "fromDate": "2099-01-01"}),  # invoice filters mean nothing here
    ],
)
def test_an_undocumented_parameter_is_ignored_and_logged(
    robaws: Robaws, caplog: pytest.LogCaptureFixture, collection: str, params: dict[str, str]
) -> None:
    with caplog.at_level(logging.INFO, logger="connectors.sandbox.robaws"):
        assert robaws.ids(collection, **params) == robaws.ids(collection)
    lines = [r.getMessage() for r in caplog.records if r.name == "connectors.sandbox.robaws"]
    assert any(all(repr(name) in line for name in params) and "ignores" in line for line in lines), lines
    assert not any(str(value) in line for line in lines for value in params.values() if len(value) > 3)


def test_extra_field_filters_and_paging_are_honoured(robaws: Robaws) -> None:
    clients = robaws.items("clients", include="extraFields")
    via = next(
        c["extraFields"]["Contact via"]["stringValue"] for c in clients if "Contact via" in c.get("extraFields", {})
    )
    matching = robaws.ids("clients", **{"extraFields[Contact via]": via})
    assert matching and len(matching) < len(clients)
    page = robaws.request("GET", "/clients", params={"page": 1, "size": 5}).json()
    assert page["currentPage"] == 1 and page["size"] == 5 and len(page["items"]) == 5


@pytest.mark.parametrize(
    "path", ["/clients%2F1001%2Fcontacts", "/clients/1001%2fcontacts", "/clients/10%2F01", "/clients/a%5C..%5Cb"]
)
def test_an_encoded_slash_is_refused_with_400(robaws: Robaws, path: str) -> None:
    response = robaws.request("GET", path)
    assert response.status_code == 400, response.text
    assert "encoded" in response.json()["message"]


def test_a_nested_collection_is_served_by_plain_segments(robaws: Robaws) -> None:
    client = robaws.items("clients", include="contacts")[0]
    contacts = robaws.request("GET", f"/clients/{client['id']}/contacts").json()["items"]
    assert [c["id"] for c in contacts] == [c["id"] for c in client.get("contacts", [])]
    assert robaws.request("GET", "/clients/1001/%252F").status_code == 404  # a literal "%2F" is data
