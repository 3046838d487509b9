"""Demo data of the Cobot sandbox: two coworking spaces with members, resources, bookings, invoices,
check-ins and time passes.

Ids are derived from names (Cobot's ids are 32 hex digits), so a test can rely on them across resets
and sandbox processes. Dates are relative to today, so "last month's invoices" always exist.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

DEMO_SPACE = "demo-coworking"
OTHER_SPACE = "harbour-hub"


def cobot_id(*parts: object) -> str:
    return hashlib.md5("/".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def money(value: float) -> str:
    return f"{value:.2f}"


def month_start(day: date, shift: int) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


ALICE = {"id": cobot_id("user", "alice"), "email": "alice.admin@example.com"}
BOB = {"id": cobot_id("user", "bob"), "email": "bob.member@example.com"}
USERS = [ALICE, BOB]

_PLANS = {
    "Flex Desk": 250.0,
    "Fixed Desk": 340.0,
    "Private Office": 890.0,
    "Day Pass Bundle": 120.0,
}

_MEMBERS: dict[str, list[tuple[str, str, str, str, str, dict[str, str] | None]]] = {
    DEMO_SPACE: [
        # name, company, email, phone, plan, user
        ("Alice Admin", "Demo Coworking BV", ALICE["email"], "+32 470 11 11 11", "Fixed Desk", ALICE),
        ("Bob Member", "", BOB["email"], "+32 470 22 22 22", "Flex Desk", BOB),
        (
            "Carla Jansen",
            "Jansen Design",
            "carla@jansen-design.example",
            "+32 470 33 33 33",
            "Private Office",
            None,
        ),
        ("Dirk Peeters", "Peeters & Co", "dirk@peeters.example", "+32 470 44 44 44", "Fixed Desk", None),
        ("Eva Maes", "", "eva.maes@example.com", "", "Flex Desk", None),
        (
            "Frank Claes",
            "Claes Consulting",
            "frank@claes.example",
            "+32 470 66 66 66",
            "Day Pass Bundle",
            None,
        ),
    ],
    OTHER_SPACE: [
        ("Gert Wouters", "Harbour Logistics", "gert@harbour.example", "+32 470 77 77 77", "Flex Desk", None),
        ("Hanne Smets", "", "hanne@example.com", "", "Fixed Desk", None),
    ],
}

_SPACES: dict[str, dict[str, Any]] = {
    DEMO_SPACE: {
        "name": "Demo Coworking",
        "country": "Belgium",
        "admins": [ALICE["id"]],
        "email": "hello@demo-coworking.example",
    },
    OTHER_SPACE: {
        "name": "Harbour Hub",
        "country": "Belgium",
        "admins": [ALICE["id"]],
        "email": "desk@harbour-hub.example",
    },
}

_RESOURCES = {
    DEMO_SPACE: [
        ("Meeting Room Atlas", 25.0, 8),
        ("Meeting Room Borealis", 18.0, 4),
        ("Phone Booth", 0.0, 1),
    ],
    OTHER_SPACE: [("Dock Room", 20.0, 6)],
}


# The documented fields of a space (create, update and details answers) and what the sandbox sets when
# a request leaves them out.
SPACE_DEFAULTS: dict[str, Any] = {
    "email": None,
    "description": None,
    "country": "Belgium",
    "currency": "EUR",
    "tax_rate": "21.0",
    "locale": "en",
    "in_eu": True,
    "price_display": "gross",
    "time_zone_name": "Europe/Brussels",
    "time_zone_offset": 1,
    "hour_format": 24,
}
PUBLIC_SPACE_KEYS = ("id", "subdomain", "name", "url", "created_at", "owner_id", *SPACE_DEFAULTS)


def new_space(subdomain: str, url: str, name: str, owner_id: str, **details: Any) -> dict[str, Any]:
    """An empty space; ``details`` override SPACE_DEFAULTS (and ``created_at``)."""
    return {
        "id": cobot_id("space", subdomain),
        "subdomain": subdomain,
        "name": name,
        "url": url,
        "created_at": details.pop("created_at", None) or iso(datetime.now(timezone.utc)),
        "owner_id": owner_id,
        **SPACE_DEFAULTS,
        **details,
        "admins": [owner_id],
        "memberships": {},
        "resources": {},
        "bookings": {},
        "invoices": {},
        "check_ins": {},
        "time_passes": {},
        "subscriptions": {},
        # API 2 only: teams, events, and the check-in tokens (RFID, MAC) of memberships.
        "teams": {},
        "events": {},
        "check_in_tokens": {},
    }


def public_space(space: dict[str, Any]) -> dict[str, Any]:
    return {key: space[key] for key in PUBLIC_SPACE_KEYS}


def build(space_url: str, today: date | None = None) -> dict[str, Any]:
    """Fresh demo data; ``space_url`` is a format string with ``{subdomain}`` for resource links."""
    today = today or datetime.now(timezone.utc).date()
    spaces: dict[str, dict[str, Any]] = {}
    for subdomain, facts in _SPACES.items():
        base = space_url.format(subdomain=subdomain)
        space = new_space(
            subdomain,
            base,
            facts["name"],
            facts["admins"][0],
            email=facts["email"],
            description=f"{facts['name']}, a sandbox coworking space.",
            country=facts["country"],
            created_at="2021-01-04T09:00:00+00:00",
        )
        space["admins"] = list(facts["admins"])
        for number, (name, company, email, phone, plan, user) in enumerate(_MEMBERS[subdomain], start=1):
            membership_id = cobot_id("membership", subdomain, name)
            space["memberships"][membership_id] = {
                "id": membership_id,
                "name": name,
                "email": email,
                "phone": phone,
                "customer_number": f"{number:04d}",
                "address": {
                    "name": name,
                    "company": company,
                    "full_address": f"{name}\n{company + chr(10) if company else ''}"
                    f"Coworkstraat {number}\n2000 Antwerpen",
                    "country": facts["country"],
                },
                "plan": {
                    "name": plan,
                    "price_per_cycle": money(_PLANS[plan]),
                    "currency": "EUR",
                    "cycle_duration": 1,
                },
                "user": {"id": user["id"]} if user else None,
                "picture": f"{base}/avatars/{membership_id}.png",
                "starts_at": "2024-01-01",
                "canceled_to": None,
                "confirmed_at": "2023-12-20T10:00:00+00:00",
                "url": f"{base}/api/memberships/{membership_id}",
            }
        for name, price, capacity in _RESOURCES[subdomain]:
            resource_id = cobot_id("resource", subdomain, name)
            space["resources"][resource_id] = {
                "id": resource_id,
                "name": name,
                "price_per_hour": money(price),
                "tax_rate": "21.0",
                "hidden": False,
                "capacity": capacity,
                "currency": "EUR",
                "description": None,
                "cancellation_period": 24,
                "can_book": True,
                "color": None,
                "photo": None,
                "min_booking_duration": 30,
                "max_booking_duration": 480,
                "booking_url": f"{base}/resources/{resource_id}/bookings/new",
                "booking_times": [{"from": "08:00", "to": "20:00", "weekdays": [1, 2, 3, 4, 5]}],
            }
        for number, membership_id in enumerate(space["memberships"], start=1):
            space["check_in_tokens"][check_in_token(subdomain, number)] = membership_id
        _teams(space)
        _events(space, today)
        _bookings(space, today)
        _invoices(space, today)
        _check_ins(space, today)
        _time_passes(space)
        spaces[subdomain] = space
    return spaces


def check_in_token(subdomain: str, number: int) -> str:
    """The demo check-in token (an RFID badge) of a space's ``number``-th membership."""
    return f"rfid-{subdomain}-{number:04d}"


def _teams(space: dict[str, Any]) -> None:
    companies = [m for m in space["memberships"].values() if m["address"]["company"]]
    if not companies:
        return
    lead = companies[0]
    team_id = cobot_id("team", space["subdomain"], lead["address"]["company"])
    space["teams"][team_id] = {
        "id": team_id,
        "name": lead["address"]["company"],
        "customer_number": f"T{lead['customer_number']}",
        "tax_id": None,
        "billing_emails": [lead["email"]],
        "address": dict(lead["address"]),
        "membership_ids": [lead["id"]],
    }


def _events(space: dict[str, Any], today: date) -> None:
    resources = list(space["resources"].values())
    for offset, (title, audience) in enumerate((("Members breakfast", "membersOnly"), ("Open house", "public"))):
        start = datetime.combine(today + timedelta(days=offset), time(8 + offset * 8), tzinfo=timezone.utc)
        event_id = cobot_id("event", space["subdomain"], title)
        space["events"][event_id] = {
            "id": event_id,
            "title": title,
            "from": iso(start),
            "to": iso(start + timedelta(hours=2)),
            "audience": audience,
            "published_state": "published",
            "location": resources[0]["name"] if resources else None,
            "capacity": 20,
            "tags": ["community"],
            "resource_ids": [resources[0]["id"]] if resources else [],
        }


def _bookings(space: dict[str, Any], today: date) -> None:
    members = list(space["memberships"].values())
    resources = list(space["resources"].values())
    for offset in range(-3, 8):
        day = today + timedelta(days=offset)
        resource = resources[offset % len(resources)]
        member = members[offset % len(members)]
        start = datetime.combine(day, time(9 + offset % 5), tzinfo=timezone.utc)
        booking_id = cobot_id("booking", space["subdomain"], offset)
        hours = 1 + offset % 2
        space["bookings"][booking_id] = booking_record(
            space,
            booking_id,
            resource,
            member,
            start,
            start + timedelta(hours=hours),
            f"Meeting {offset + 4}",
        )


def booking_record(
    space: dict[str, Any],
    booking_id: str,
    resource: dict[str, Any],
    member: dict[str, Any] | None,
    start: datetime,
    end: datetime,
    title: str | None,
    comments: str | None = None,
) -> dict[str, Any]:
    hours = (end - start).total_seconds() / 3600
    return {
        "id": booking_id,
        "from": iso(start),
        "to": iso(end),
        "title": title,
        "comments": comments,
        "price": money(float(resource["price_per_hour"]) * hours),
        "currency": "EUR",
        "paid": False,
        "canceled": False,
        "can_cancel": True,
        "can_change": True,
        "units": 1,
        "membership": {"id": member["id"], "name": member["name"], "email": member["email"]} if member else None,
        "resource": {
            "id": resource["id"],
            "name": resource["name"],
            "url": f"{space['url']}/api/resources/{resource['id']}",
        },
        "url": f"{space['url']}/api/bookings/{booking_id}",
    }


def _invoices(space: dict[str, Any], today: date) -> None:
    number = 0
    for shift in (-3, -2, -1, 0):
        first = month_start(today, shift)
        if first > today:
            continue
        for member in space["memberships"].values():
            number += 1
            plan = member["plan"]
            net = float(plan["price_per_cycle"])
            items = [
                {
                    "description": f"{plan['name']} ({first:%B %Y})",
                    "quantity": "1.0",
                    "amount": money(net),
                    "tax_rate": "21.0",
                    "total_amount": money(net),
                }
            ]
            if member["name"].startswith("Carla"):
                items.append(
                    {
                        "description": "Meeting room hours",
                        "quantity": "3.0",
                        "amount": "25.00",
                        "tax_rate": "21.0",
                        "total_amount": "75.00",
                    }
                )
                net += 75.0
            tax = round(net * 0.21, 2)
            invoice_id = cobot_id("invoice", space["subdomain"], first.isoformat(), member["id"])
            paid = shift < -1
            space["invoices"][invoice_id] = invoice_record(
                space, invoice_id, f"{first.year}-{number:04d}", first, member, items, net, tax, paid
            )


def invoice_record(
    space: dict[str, Any],
    invoice_id: str,
    invoice_number: str,
    invoice_date: date,
    member: dict[str, Any],
    items: list[dict[str, str]],
    net: float,
    tax: float,
    paid: bool,
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "invoice_number": invoice_number,
        "invoice_date": invoice_date.isoformat(),
        "created_at": iso(datetime.combine(invoice_date, time(6), tzinfo=timezone.utc)),
        "due_date": (invoice_date + timedelta(days=14)).isoformat(),
        "membership_id": member["id"],
        "space_id": space["id"],
        "currency": "EUR",
        "address": dict(member["address"]),
        "items": items,
        "net_amount": money(net),
        "tax_amount": money(tax),
        "total_amount": money(net + tax),
        "paid": paid,
        "paid_status": "paid" if paid else "unpaid",
        "canceled_at": None,
        "url": f"{space['url']}/api/invoices/{invoice_id}",
    }


def _check_ins(space: dict[str, Any], today: date) -> None:
    members = list(space["memberships"].values())
    for back in range(0, 10):
        day = today - timedelta(days=back)
        for index, member in enumerate(members[:3]):
            if (back + index) % 3 == 2:
                continue
            start = datetime.combine(day, time(8 + index), tzinfo=timezone.utc)
            check_in_id = cobot_id("check_in", space["subdomain"], day.isoformat(), member["id"])
            space["check_ins"][check_in_id] = check_in_record(check_in_id, member, start, start + timedelta(hours=9))


def check_in_record(check_in_id: str, member: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "id": check_in_id,
        "membership_id": member["id"],
        "membership": {"id": member["id"], "name": member["name"]},
        "valid_from": iso(start),
        "valid_until": iso(end),
        "created_at": iso(start),
    }


def _time_passes(space: dict[str, Any]) -> None:
    for member in space["memberships"].values():
        if member["plan"]["name"] != "Day Pass Bundle":
            continue
        for number in range(1, 4):
            pass_id = cobot_id("time_pass", member["id"], number)
            space["time_passes"][pass_id] = {
                "id": pass_id,
                "membership_id": member["id"],
                "name": "Day Pass",
                "price": "25.00",
                "currency": "EUR",
                "created_at": "2024-02-01T09:00:00+00:00",
                "used": False,
            }
