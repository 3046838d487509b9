"""Deterministic demo data for the Robaws sandbox (a Belgian installation company's tenant)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors_sandbox.robaws.store import Store

_START = datetime(2024, 1, 8, 8, 0, tzinfo=timezone.utc)

SUPPLIERS = ["Bouwmaterialen Peeters", "Elektro Janssens", "Sanitair De Smet", "Van Dyck Tools", "Isolatie Maes"]
CLIENTS = [
    "Bakkerij Claes",
    "Garage Willems",
    "Dierenarts Jacobs",
    "Brouwerij Mertens",
    "Hotel Aurora",
    "School De Regenboog",
    "Kinesist Goossens",
    "Restaurant Het Anker",
    "Apotheek Wouters",
    "Fietsen Dubois",
    "Immo Lambert",
    "Tandarts Dupont",
    "Kapsalon Noa",
    "Boekhandel Pauwels",
    "Slagerij Hermans",
    "Camping De Lier",
    "Sporthal Oost",
    "Residentie Zonneweelde",
    "Drukkerij Martens",
    "Advocaten Leclercq",
    "Bloemen Vermeulen",
    "Optiek Desmet",
    "Schrijnwerkerij Aerts",
    "Café Sport",
    "Yoga Studio Lotus",
    "Transport Verhoeven",
    "Gemeente Lindeke",
    "Zorgcentrum Sint-Jan",
    "Brasserie Du Parc",
    "Tuincentrum Groen",
    "Woonzorg Horizon",
    "Kantoor Renard",
    "Atelier Simon",
    "Bouwbedrijf Lemmens",
    "Manege De Hoef",
]
CONTACT_VIA = ["Social media", "Website", "Phone", "Trade fair"]
ARTICLE_GROUPS = [
    ("Heat pump", "Daikin"),
    ("Solar panel", "SunPower"),
    ("Inverter", "SMA"),
    ("Boiler", "Vaillant"),
    ("Radiator", "Henrad"),
    ("Thermostat", "Nest"),
    ("Cable 3G2.5", "Nexans"),
    ("Circuit breaker", "Hager"),
    ("Water softener", "Kinetico"),
    ("Charging station", "Alfen"),
]
EMPLOYEES = [
    ("Jan", "Peeters"),
    ("Els", "Maes"),
    ("Tom", "Claes"),
    ("Sofie", "Wouters"),
    ("Pieter", "Goossens"),
    ("Lien", "Hermans"),
    ("Koen", "Jacobs"),
    ("An", "Dubois"),
    ("Bart", "Lambert"),
    ("Nina", "Mertens"),
]


def _stamp(days: float) -> str:
    return (_START + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load(store: Store) -> None:
    rng = random.Random(20240408)
    day = 0.0

    def stamps() -> dict[str, Any]:
        nonlocal day
        day += 3.5
        return {"created": _stamp(day - 30), "updated": _stamp(day)}

    suppliers = []
    for index, name in enumerate(SUPPLIERS):
        short = name.split()[-1].lower()
        suppliers.append(
            store.insert(
                "suppliers",
                {
                    "name": name,
                    "email": f"invoices@{short}.be",
                    "vatNumber": f"BE0{400123450 + index}",
                    "contacts": [{"name": f"Contact {name.split()[-1]}", "email": f"sales@{short}.be"}],
                },
                **stamps(),
            )
        )

    clients = []
    for index, name in enumerate(CLIENTS):
        body: dict[str, Any] = {
            "name": name,
            "email": f"info@{name.lower().replace(' ', '').replace('é', 'e')}.be",
            "city": rng.choice(["Gent", "Antwerpen", "Leuven", "Brugge", "Hasselt", "Mechelen"]),
            "vatNumber": f"BE0{700100200 + index * 7}",
            "active": index % 9 != 4,
            "contacts": [{"name": f"{EMPLOYEES[index % 10][0]} {name.split()[-1]}", "role": "Owner"}],
        }
        if index % 3 == 0:
            body["extraFields"] = {"Contact via": {"stringValue": CONTACT_VIA[index // 3 % len(CONTACT_VIA)]}}
        clients.append(store.insert("clients", body, **stamps()))

    for index in range(40):
        kind, brand = ARTICLE_GROUPS[index % len(ARTICLE_GROUPS)]
        store.insert(
            "articles",
            {
                "name": f"{kind} {brand} {100 + index * 5}",
                "code": f"ART-{1000 + index}",
                "salePrice": round(20 + rng.random() * 2000, 2),
                "unit": "piece",
                "extraFields": {
                    "Brand": {"stringValue": brand},
                    "Outdoor": {"booleanValue": kind in ("Solar panel", "Heat pump", "Charging station")},
                    "Warranty years": {"integerValue": 2 + index % 4 * 3},
                    "Weight kg": {"decimalValue": round(0.5 + (index * 3.67) % 90, 2)},
                    "Introduced": {"dateValue": f"202{index % 4}-0{1 + index % 9}-1{index % 10}"},
                },
            },
            **stamps(),
        )

    for first, last in EMPLOYEES:
        store.insert(
            "employees",
            {
                "name": first,
                "surname": last,
                "email": f"{first.lower()}@demo.robaws.test",
                "function": rng.choice(["Technician", "Installer", "Planner", "Sales"]),
            },
            **stamps(),
        )

    for index, client in enumerate(clients[:4]):
        store.insert(
            "projects",
            {
                "name": f"Renovation {client['name']}",
                "clientId": client["id"],
                "status": ["OPEN", "IN_PROGRESS", "DONE", "OPEN"][index],
            },
            **stamps(),
        )

    for index in range(12):
        client = clients[(index * 5) % len(clients)]
        amount = round(150 + rng.random() * 4000, 2)
        kind = "CREDIT_NOTE" if index % 4 == 3 else "INVOICE"
        invoice_date = f"2024-{1 + index:02d}-{5 + index:02d}"
        store.insert(
            "sales-invoices",
            {
                "number": f"2024/{index + 1:04d}",
                "clientId": client["id"],
                "type": kind,
                "date": invoice_date,
                "dueDate": f"2024-{1 + index:02d}-28",
                "currency": "EUR",
                "totalExclVat": -amount if kind == "CREDIT_NOTE" else amount,
                "lineItems": [{"description": "Installation works", "quantity": 1, "unitPrice": amount}],
            },
            **stamps(),
        )

    for index in range(6):
        supplier = suppliers[index % len(suppliers)]
        kind = "CREDIT_NOTE" if index == 5 else "INVOICE"
        store.insert(
            "purchase-invoices",
            {
                "number": f"PI-{2024}-{index + 1:03d}",
                "supplierId": supplier["id"],
                "type": kind,
                "date": f"2024-{2 + index:02d}-1{index}",
                "currency": "EUR",
                "totalExclVat": round(80 + rng.random() * 1500, 2),
                "documentId": None,
            },
            **stamps(),
        )

    for index, client in enumerate(clients[4:7]):
        store.insert(
            "offers",
            {
                "title": f"Offer heat pump {client['name']}",
                "clientId": client["id"],
                "status": "SENT" if index else "DRAFT",
            },
            **stamps(),
        )
    store.insert(
        "work-orders",
        {"title": "Yearly boiler service", "clientId": clients[1]["id"], "date": "2024-05-14"},
        **stamps(),
    )
    store.insert(
        "users", {"email": "api@demo.robaws.test", "name": "API user", "apiOnly": True, "admin": True}, **stamps()
    )
    store.insert(
        "users",
        {"email": "limited@demo.robaws.test", "name": "Limited API user", "apiOnly": True, "admin": False},
        **stamps(),
    )
