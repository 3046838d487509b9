"""The sandbox's Cobot data as API 2 resources: JSON:API objects in the shapes of Cobot's OpenAPI spec.

One store serves both APIs (a booking made through API 1 is there for API 2); these functions only
translate records into the spec's resources: camelCase attributes, prices as ``{net, gross, currency,
taxes}``, dates as ``YYYY-MM-DD``, times in UTC, relationships as linkage or ``links.related``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from connectors_sandbox.cobot.data import cobot_id, money

Resource = dict[str, Any]
TAX_RATE = 21.0


def jsonapi(kind: str, resource_id: Any, attributes: dict[str, Any], relationships: dict[str, Any]) -> Resource:
    """A JSON:API resource object, as every API 2 answer carries them."""
    return {"id": resource_id, "type": kind, "attributes": attributes, "relationships": relationships}


def linkage(kind: str, resource_id: str | None) -> dict[str, Any]:
    return {"data": {"type": kind, "id": resource_id} if resource_id else None}


def related(url: str) -> dict[str, Any]:
    return {"links": {"related": url}}


def utc(text: str) -> str:
    """A stored ISO time as the spec's UTC date-time (``2025-03-01T09:00:00Z``)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def price(net: float, currency: str = "EUR", rate: float = TAX_RATE) -> dict[str, Any]:
    tax = round(net * rate / 100, 2)
    return {
        "net": money(net),
        "gross": money(net + tax),
        "currency": currency,
        "taxes": [{"name": "VAT", "rate": f"{rate:.1f}", "amount": money(tax)}],
    }


def address(source: dict[str, Any], country_code: str = "BE") -> dict[str, Any]:
    lines = str(source.get("full_address") or "").split("\n")
    city_line = lines[-1] if len(lines) > 1 else ""
    post_code, _, city = city_line.partition(" ")
    return {
        "name": source.get("name"),
        "company": source.get("company") or None,
        "fullAddress": str(source.get("full_address") or ""),
        "street": lines[-2] if len(lines) > 2 else None,
        "postCode": post_code or None,
        "city": city or None,
        "state": None,
        "countryCode": country_code,
    }


def space(record: dict[str, Any], api: str) -> Resource:
    base = f"{api}/spaces/{record['id']}"
    links = {
        name: related(f"{base}/{path}")
        for name, path in (
            ("availableResources", "resources/available"),
            ("calendarBlockers", "calendar_blockers"),
            ("costCenters", "cost_centers"),
            ("revenueAccounts", "revenue_accounts"),
            ("products", "products"),
            ("resources", "resources"),
            ("bookings", "bookings"),
            ("allocations", "allocations"),
            ("events", "events"),
            ("teams", "teams"),
            ("accessToken", "access_token"),
            ("paymentMethods", "payment_methods"),
        )
    }
    attributes = {
        "name": record["name"],
        "email": record.get("email") or "",
        "description": record.get("description"),
        "subdomain": record["subdomain"],
        "createdAt": str(record["created_at"])[:10],
        "countryCode": "BE",
        "locale": str(record.get("locale") or "en"),
        "logo": None,
        "inEu": bool(record.get("in_eu", True)),
        "timeZone": str(record.get("time_zone_name") or "Europe/Brussels"),
        "defaultTaxes": [{"name": "VAT", "rate": str(record.get("tax_rate") or "21.0")}],
        "hourFormat": 24 if record.get("hour_format", 24) == 24 else 12,
        "priceDisplay": "gross" if record.get("price_display") == "gross" else "net",
        "priceDecimals": 2,
    }
    return jsonapi("spaces", record["id"], attributes, {**links, "owner": linkage("users", record.get("owner_id"))})


def team_of(space_record: dict[str, Any], membership_id: str) -> str | None:
    for team in space_record["teams"].values():
        if membership_id in team["membership_ids"]:
            return str(team["id"])
    return None


def membership(record: dict[str, Any], space_record: dict[str, Any], api: str) -> Resource:
    relationships: dict[str, Any] = {
        "space": linkage("spaces", space_record["id"]),
        "bookingCredits": related(f"{api}/memberships/{record['id']}/booking_credits"),
    }
    team = team_of(space_record, record["id"])
    if team:
        relationships["team"] = linkage("teams", team)
    canceled = record.get("canceled_to")
    attributes = {
        "name": record["name"],
        "email": record["email"],
        "phone": record["phone"] or None,
        "company": record["address"]["company"] or None,
        "confirmedAt": str(record["confirmed_at"])[:10] if record.get("confirmed_at") else None,
        "canceledAt": str(canceled)[:10] if canceled else None,
        "photo": None,
    }
    return jsonapi("memberships", record["id"], attributes, relationships)


def plan(record: dict[str, Any]) -> Resource:
    plan_record = record["plan"]
    attributes = {
        "accountingCode": None,
        "canceledAt": None,
        "cycleDuration": plan_record["cycle_duration"],
        "description": None,
        "extras": [],
        "name": plan_record["name"],
        "pricePerCycle": price(float(plan_record["price_per_cycle"]), plan_record["currency"]),
        "startsAt": record["starts_at"],
    }
    return jsonapi(
        "membershipPlans",
        cobot_id("plan", record["id"], plan_record["name"]),
        attributes,
        {"membership": linkage("memberships", record["id"])},
    )


def invoice(record: dict[str, Any], space_record: dict[str, Any], api: str) -> Resource:
    net, tax = float(record["net_amount"]), float(record["tax_amount"])
    total = {
        "net": money(net),
        "gross": money(net + tax),
        "currency": record["currency"],
        "taxes": [{"name": "VAT", "rate": "21.0", "amount": money(tax)}],
    }
    items = [
        {
            "description": item["description"],
            "quantity": item["quantity"],
            "accountingCode": None,
            "amount": price(float(item["amount"]), record["currency"]),
            "totalAmount": price(float(item["total_amount"]), record["currency"]),
        }
        for item in record["items"]
    ]
    member = space_record["memberships"].get(record["membership_id"]) or {}
    attributes = {
        "invoiceText": None,
        "billingEmails": [member["email"]] if member.get("email") else [],
        "invoiceDate": record["invoice_date"],
        "paidDate": record["due_date"] if record["paid"] else None,
        "paidStatus": "paid" if record["paid"] else "unpaid",
        "dueDate": record["due_date"],
        "eInvoicingReady": False,
        "remindAt": record["due_date"],
        "number": record["invoice_number"],
        "sentStatus": "sent",
        "reminderStatus": "notSent",
        "sentRemindersCount": 0,
        "lastReminderSentAt": None,
        "senderTaxId": None,
        "taxId": None,
        "customerNumber": member.get("customer_number"),
        "canUpdate": not record["paid"],
        "recipientAddress": address(record["address"]),
        "senderAddress": address({"name": space_record["name"], "full_address": space_record["name"]}),
        "notes": None,
        "items": items,
        "payableAmount": money(0 if record["paid"] else net + tax),
        "paidAmount": money(net + tax if record["paid"] else 0),
        "totalAmount": total,
    }
    return jsonapi(
        "invoices",
        record["id"],
        attributes,
        {
            "membership": linkage("memberships", record["membership_id"]),
            "debitor": linkage("memberships", record["membership_id"]),
            "space": linkage("spaces", space_record["id"]),
            "paymentMethods": related(f"{api}/invoices/{record['id']}/payment_methods"),
        },
    )


def booking(record: dict[str, Any], space_record: dict[str, Any], api: str) -> Resource:
    member = record.get("membership") or None
    attributes = {
        "name": member["name"] if member else None,
        "title": record.get("title"),
        "url": None,
        "comments": record.get("comments"),
        "attendeesMessage": None,
        "hasCustomPrice": False,
        "price": price(float(record["price"]), record["currency"], 0.0),
        "from": utc(record["from"]),
        "to": utc(record["to"]),
        "units": int(record.get("units") or 1),
        "canUpdate": bool(record.get("can_change", True)),
        "cancellationPeriod": 24,
    }
    return jsonapi(
        "bookings",
        record["id"],
        attributes,
        {
            "membership": linkage("memberships", member["id"] if member else None),
            "space": linkage("spaces", space_record["id"]),
            "resource": linkage("resources", record["resource"]["id"]),
            "externalBooking": {"data": None},
        },
    )


def resource(record: dict[str, Any], space_record: dict[str, Any], api: str) -> Resource:
    attributes = {
        "name": record["name"],
        "resourceType": "room" if record["capacity"] > 1 else "other",
        "usage": "bookable",
        "pricing": {
            "currency": record["currency"],
            "pricePerHour": price(float(record["price_per_hour"]), record["currency"]),
            "discounts": [],
            "priceCaps": [],
            "priceCap": None,
            "taxes": [{"name": "VAT", "rate": str(record["tax_rate"])}],
        },
        "accountingCode": None,
        "area": [{"unit": "sqm", "number": None}, {"unit": "sqft", "number": None}],
        "areaPreferredUnit": "sqm",
        "costCenter": None,
        "revenueAccount": None,
        "description": record.get("description"),
        "hidden": bool(record["hidden"]),
        "onlyAdminsCanBook": False,
        "canBook": bool(record["can_book"]),
        "units": 1,
        "capacity": record["capacity"],
        "cancellationPeriod": int(record["cancellation_period"]),
        "bookingCutoff": 0,
        "minBookingDuration": int(record["min_booking_duration"]),
        "maxBookingDuration": record.get("max_booking_duration"),
        "color": "#3f7fbf",
        "photo": None,
        "bookingTimes": [dict(times) for times in record["booking_times"]],
        "bookingTimesString": None,
    }
    return jsonapi(
        "resources",
        record["id"],
        attributes,
        {
            "categories": {"data": []},
            "resourceAvailability": related(f"{api}/resources/{record['id']}/availability"),
            "space": linkage("spaces", space_record["id"]),
        },
    )


def check_in(record: dict[str, Any], space_record: dict[str, Any]) -> Resource:
    return jsonapi(
        "checkIns",
        record["id"],
        {"validFrom": utc(record["valid_from"]), "validUntil": utc(record["valid_until"])},
        {
            "space": linkage("spaces", space_record["id"]),
            "membership": linkage("memberships", record["membership_id"]),
        },
    )


def event(record: dict[str, Any], space_record: dict[str, Any], api: str) -> Resource:
    attributes = {
        "from": utc(record["from"]),
        "to": utc(record["to"]),
        "title": record["title"],
        "canDepublish": True,
        "color": None,
        "audience": record["audience"],
        "publishedState": record["published_state"],
        "publicPage": record["audience"] == "public",
        "publicUrl": None,
        "description": None,
        "videoUrl": None,
        "image": None,
        "location": record.get("location"),
        "capacity": record.get("capacity"),
        "tags": list(record.get("tags") or []),
        "price": None,
        "visitorPrice": None,
        "accountingCode": None,
        "visitorAccountingCode": None,
        "costCenter": None,
        "revenueAccount": None,
        "visitorCostCenter": None,
        "visitorRevenueAccount": None,
    }
    return jsonapi(
        "events",
        record["id"],
        attributes,
        {
            "resources": {"data": [{"type": "resources", "id": rid} for rid in record.get("resource_ids") or []]},
            "bookings": {"data": []},
            "messages": related(f"{api}/events/{record['id']}/messages"),
            "space": linkage("spaces", space_record["id"]),
            "publication": related(f"{api}/events/{record['id']}/publication"),
            "attendances": {"data": [], "links": {"related": f"{api}/events/{record['id']}/attendances"}},
        },
    )


def contact(record: dict[str, Any], space_record: dict[str, Any]) -> Resource:
    """A membership's contact (Cobot keeps a contact per member: who gets invoices and mail)."""
    attributes = {
        "email": record["email"],
        "address": {
            "name": record["address"]["name"],
            "company": record["address"]["company"] or None,
            "fullAddress": record["address"]["full_address"],
        },
        "phone": record["phone"] or None,
        "photo": None,
    }
    return jsonapi(
        "contacts",
        cobot_id("contact", record["id"]),
        attributes,
        {
            "space": linkage("spaces", space_record["id"]),
            "membership": linkage("memberships", record["id"]),
        },
    )


def team(record: dict[str, Any], space_record: dict[str, Any]) -> Resource:
    attributes = {
        "billingAddress": address(record["address"]),
        "billingEmails": list(record["billing_emails"]),
        "name": record["name"],
        "taxId": record.get("tax_id"),
        "customerNumber": record["customer_number"],
        "photo": None,
    }
    return jsonapi("teams", record["id"], attributes, {"space": linkage("spaces", space_record["id"])})


def user(record: dict[str, Any], admin_of: list[str], member_of: list[str], memberships: list[str]) -> Resource:
    return jsonapi(
        "users",
        record["id"],
        {"email": record["email"]},
        {
            "adminOf": {"data": [{"type": "spaces", "id": sid} for sid in admin_of]},
            "memberOf": {"data": [{"type": "spaces", "id": sid} for sid in member_of]},
            "memberships": {"data": [{"type": "memberships", "id": mid} for mid in memberships]},
        },
    )


def sparse(resource_object: Resource, fields: dict[str, set[str]]) -> Resource:
    """JSON:API sparse fieldsets: only the listed attributes and relationships of a type (``fields[type]=a,b``)."""
    wanted = fields.get(str(resource_object.get("type")))
    if wanted is None:
        return resource_object
    trimmed = dict(resource_object)
    for part in ("attributes", "relationships"):
        if part in trimmed:
            trimmed[part] = {k: v for k, v in trimmed[part].items() if k in wanted}
    return trimmed
