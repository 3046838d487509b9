"""Every Cobot keyword against the sandbox, through a layer that validates each API 2 request the client sends
and each answer the sandbox gives against Cobot's own OpenAPI spec (tests/spec/cobot.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from Connectors.Cobot import Cobot
from Connectors.core.errors import ConnectorError, PermissionDenied, ValidationError
from Connectors.core.transport import Transport
from Connectors.vendors.cobot.operations import OPERATIONS
from connectors_sandbox.cobot.api import DEMO_MEMBER_TOKEN
from connectors_sandbox.cobot.data import check_in_token
from connectors_sandbox.server import SandboxProcess
from spec.cobot import ValidatingSession

pytestmark = pytest.mark.timeout(300)
SCALE = 30


@pytest.fixture
def sessions(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ValidatingSession]]:
    """Every Cobot Transport built during the test gets a validating session (checking API 2 exchanges)."""
    made: list[ValidatingSession] = []
    original = Transport.__init__
    api_base = os.environ["COBOT_API_URL"]

    def init(self: Transport, config: Any, session: Any = None) -> None:
        if session is None and config.vendor == "Cobot":
            session = ValidatingSession(api_base)
            made.append(session)
        original(self, config, session)

    monkeypatch.setattr(Transport, "__init__", init)
    sandbox.configure(rate_scale=SCALE)
    yield made


class Keywords:
    """Runs keywords through the library's dynamic API and records which ran."""

    def __init__(self, **settings: Any) -> None:
        self.library = Cobot(rate_scale=SCALE, **settings)
        self.ran: set[str] = set()

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        keyword = name if name in self.library.get_keyword_names() else name.lower().replace(" ", "_")
        self.ran.add(keyword)
        return self.library.run_keyword(keyword, list(args), kwargs)


def test_every_keyword_conforms_to_the_spec(sessions: list[ValidatingSession], tmp_path: Path) -> None:
    kw = Keywords()
    kw("Connect To Cobot")
    assert kw("Get Cobot Rate Limit Status")["rate"]
    today = datetime.now(timezone.utc).date()
    user = kw("Get Cobot User")
    assert user["email"] == "alice.admin@example.com" and user["type"] == "users"
    space = kw("Get Cobot Space")
    assert space["subdomain"] == "demo-coworking" and space["id"] in user["adminOfIds"]
    assert [s["subdomain"] for s in kw("List Cobot Spaces")] == ["demo-coworking", "harbour-hub"]

    members = kw("List Cobot Memberships")
    assert len(members) == 6 and {"id", "name", "email", "spaceId"} <= set(members[0])
    carla = next(m for m in members if m["name"] == "Carla Jansen")
    assert kw("Get Cobot Membership", carla["id"])["company"] == "Jansen Design"
    plans = kw("List Cobot Membership Plans")
    assert {p["membershipId"] for p in plans} == {m["id"] for m in members}

    invoices = kw("List Cobot Invoices", (today - timedelta(days=120)).isoformat(), today.isoformat())
    assert invoices and all(i["type"] == "invoices" for i in invoices)
    paged = kw("List Cobot Invoices", "2000-01-01", today.isoformat(), limit=3)
    assert [i["id"] for i in paged] == [i["id"] for i in invoices[:3]]
    first = kw("Get Cobot Invoice", invoices[0]["id"])
    assert first["number"] == invoices[0]["number"]
    assert kw("List Cobot Invoices", ids=[invoices[1]["id"]])[0]["id"] == invoices[1]["id"]
    pdf = Path(kw("Download Cobot Invoice PDF", first["id"], str(tmp_path / "invoice.pdf")))
    assert pdf.read_bytes().startswith(b"%PDF")

    resources = kw("List Cobot Resources")
    room = resources[0]
    assert kw("List Cobot Resources", ids=[room["id"]]) == [room]
    start = datetime.combine(today + timedelta(days=30), datetime.min.time(), tzinfo=timezone.utc)
    day = (start.isoformat(), (start + timedelta(hours=23)).isoformat())
    assert kw("Get Cobot Resource Availability", room["id"], *day)["availableTimes"]
    booking = kw(
        "Create Cobot Booking",
        room["id"],
        (start + timedelta(hours=10)).isoformat(),
        (start + timedelta(hours=11)).isoformat(),
        title="Spec check",
        membership_id=carla["id"],
    )
    assert booking["resourceId"] == room["id"] and booking["membershipId"] == carla["id"]
    assert kw("Get Cobot Booking", booking["id"])["title"] == "Spec check"
    assert kw("Update Cobot Booking", booking["id"], title="Renamed")["title"] == "Renamed"
    listed = kw("List Cobot Bookings", start.date().isoformat(), start.date().isoformat(), resource_id=room["id"])
    assert [b["id"] for b in listed] == [booking["id"]]
    kw("Delete Cobot Booking", booking["id"])
    assert kw("List Cobot Bookings", start.date().isoformat(), start.date().isoformat()) == []

    badge = check_in_token("demo-coworking", 5)
    check_in = kw("Check In Cobot Member", badge)
    assert [c["id"] for c in kw("List Current Cobot Check Ins", badge)] == [check_in["id"]]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kw("Check Out Cobot Member", check_in["id"])["validUntil"] <= now
    assert kw("List Current Cobot Check Ins", badge) == []
    assert kw("List Cobot Check Ins")  # today's, API 1
    week = ((today - timedelta(days=7)).isoformat(), today.isoformat())
    assert kw("List Cobot Check Ins", members[0]["id"], *week)
    assert kw("List Cobot Time Passes") is not None

    assert [e["title"] for e in kw("List Cobot Events", today.isoformat(), (today + timedelta(days=2)).isoformat())]
    assert len(kw("List Cobot Contacts")) == 6
    assert kw("List Cobot Teams")[0]["name"]
    teams = kw(
        "Call Cobot API",
        "get-space-teams",
        spaceId=space["id"],
        **{"filter[from]": "2024-01-01"},
        **{"filter[to]": today.isoformat()},
    )
    assert teams["data"][0]["type"] == "teams" and teams["meta"]["totalPages"] == 1

    subscription = kw("Subscribe To Cobot Webhook", "created_booking", "http://127.0.0.1:9/cobot")
    assert [s["id"] for s in kw("List Cobot Webhook Subscriptions")] == [subscription["id"]]
    kw("Delete Cobot Webhook Subscription", subscription["id"])
    with pytest.raises(ConnectorError):
        kw("Get Cobot Identity")  # an access token carries no id token: one line, nothing sent

    session = sessions[0]
    print(
        f"\nAPI 2 exchanges: {len(session.exchanges)}; spec operations exercised: {len(session.operations)} of "
        f"{len(OPERATIONS)}: {', '.join(sorted(session.operations))}"
    )
    assert session.violations == [], "\n".join(session.violations)
    library_keywords = {name for name in kw.library.get_keyword_names()}
    assert library_keywords - kw.ran == set(), "every Cobot keyword runs in this test"


def test_a_token_without_the_scope_gets_403_naming_it(sessions: list[ValidatingSession]) -> None:
    limited = os.environ["COBOT_LIMITED_ACCESS_TOKEN"]
    kw = Keywords(access_token=limited)
    kw("Connect To Cobot", access_token=limited)
    with pytest.raises(PermissionDenied) as refused:
        kw("Get Cobot Invoice", "0" * 32)
    assert "read_invoices" in str(refused.value) and "connectors login cobot --scope read_invoices" in str(
        refused.value
    )
    assert "\n" not in str(refused.value)
    assert sessions[0].violations == []


def test_json_api_errors_read_into_one_line(sessions: list[ValidatingSession]) -> None:
    kw = Keywords()
    kw("Connect To Cobot")
    room = kw("List Cobot Resources")[0]
    with pytest.raises(ValidationError) as refused:
        kw("Create Cobot Booking", room["id"], "2031-01-01T11:00:00Z", "2031-01-01T10:00:00Z")
    message = str(refused.value)
    assert "HTTP 422" in message and "to: must be after from" in message and "\n" not in message
    assert sessions[0].violations == []


def test_call_cobot_api_refuses_before_sending(sessions: list[ValidatingSession]) -> None:
    kw = Keywords()
    kw("Connect To Cobot")
    with pytest.raises(ValidationError, match="Unknown operation 'no-such-op'"):
        kw("Call Cobot API", "no-such-op")
    with pytest.raises(ValidationError, match=r"missing filter\[from\], filter\[to\].*get-space-teams"):
        kw("Call Cobot API", "get-space-teams", spaceId="x")
    with pytest.raises(ValidationError, match="unknown colour"):
        kw("Call Cobot API", "get-user", colour="red")
    assert sessions[0].exchanges == []


def test_member_token_sees_own_data(sessions: list[ValidatingSession]) -> None:
    kw = Keywords(access_token=DEMO_MEMBER_TOKEN)
    kw("Connect To Cobot", access_token=DEMO_MEMBER_TOKEN)
    assert kw("Get Cobot User")["email"] == "bob.member@example.com"
    with pytest.raises(PermissionDenied):
        kw("List Cobot Invoices")
    assert sessions[0].violations == []


def test_paging_follows_links_until_the_last_page(sandbox: SandboxProcess) -> None:
    from Connectors import CobotClient

    sandbox.configure(rate_scale=SCALE)
    with CobotClient(rate_scale=SCALE) as client:
        every = list(client.api2.pages("get-space-invoices", {"spaceId": client.api2.space_id()}, page_size=5))
        requests_before = client.transport.stats["requests"]
        assert len(every) == len({i["id"] for i in every}) > 5
        few = list(client.api2.pages("get-space-invoices", {"spaceId": client.api2.space_id()}, limit=7))
        assert [i["id"] for i in few] == [i["id"] for i in every[:7]]
        assert client.transport.stats["requests"] - requests_before == 1  # one page of 7
    assert requests.get(os.environ["COBOT_API_URL"] + "/user", timeout=5).status_code == 406


def test_over_the_limit_a_429_with_retry_after_in_the_spec_s_shape(sandbox: SandboxProcess) -> None:
    api = os.environ["COBOT_API_URL"]
    session = ValidatingSession(api)
    session.headers.update(
        {"Authorization": f"Bearer {os.environ['COBOT_ACCESS_TOKEN']}", "Accept": "application/vnd.api+json"}
    )
    sandbox.admin("POST", "/_sandbox/cobot/limits", {"scale": 1 / 60})  # one request a minute
    try:
        answers = [session.get(api + "/user", timeout=5) for _ in range(2)]
    finally:
        sandbox.admin("POST", "/_sandbox/cobot/limits", {"scale": 1})
    assert [a.status_code for a in answers] == [200, 429]
    assert 1 <= int(answers[1].headers["Retry-After"]) <= 60
    assert answers[1].headers["Content-Type"].startswith("application/vnd.api+json")
    assert session.violations == []


def test_sparse_fieldsets_and_pages_through_call_cobot_api(sandbox: SandboxProcess) -> None:
    from Connectors import CobotClient

    sandbox.configure(rate_scale=SCALE)
    with CobotClient(rate_scale=SCALE) as client:
        user = client.call_api("get-user", **{"fields[users]": "email"})
        assert user["data"]["attributes"] == {"email": "alice.admin@example.com"}
        assert "relationships" not in user["data"] or user["data"]["relationships"] == {}
        space = client.api2.space_id()
        second = client.call_api("get-space-invoices", spaceId=space, **{"page[number]": "2", "page[size]": "5"})
        assert second["meta"]["currentPage"] == 2 and len(second["data"]) == 5
        with pytest.raises(ValidationError, match=r"unknown fields\[users\]x"):
            client.call_api("get-user", **{"fields[users]x": "email"})
