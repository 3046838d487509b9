"""Cobot's API 2 (JSON:API, ``https://api.cobot.me``) under ``/cobot/api2``, by Cobot's OpenAPI spec.

``COBOT_API_URL=<sandbox>/cobot/api2``. Routes, methods and the scope each operation needs come from the
generated operation table (``operations.py``); a token lacking any scope of an operation gets a 403 naming it.
It serves the operations the library's keywords use, over the same data as API 1, on the same pipeline and
within the same budget (Cobot counts 60 requests a minute per user, whichever API: one fixed window).

What the spec says and the sandbox does: requests must accept ``application/vnd.api+json`` (else 406) and
send bodies as that media type (else 415); answers are that media type; collections are paged with
``page[number]`` (from 1) and ``page[size]`` (default 72, at most 200; more is a 400), with ``meta.totalPages``,
``meta.currentPage`` and ``links`` (``first``, ``self``, ``next``, ``prev``, ``last``); ``fields[type]=``
keeps the listed attributes; errors are JSON:API ``errors[]`` (``status``, ``title``, ``detail``, ``source``:
a ``pointer`` into the body or the query ``parameter``); 422 for invalid data; 429 with ``Retry-After``.
Decided here where the spec is silent: a required query parameter missing or malformed is a 400 naming it;
an id the caller may not see is a 404 (as if it did not exist); admins see a space's lists, members their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.cobot import data, render
from connectors_sandbox.cobot.operations import OPERATIONS
from connectors_sandbox.cobot.rules import membership_of, overlaps, parse_moment
from connectors_sandbox.common import ApiError, bearer_token, ceil_seconds, json_body
from connectors_sandbox.oauth import Grant
from connectors_sandbox.operations import Operation
from connectors_sandbox.pipeline import Call, ErrorFormat, RequestPipeline

if TYPE_CHECKING:
    from connectors_sandbox.cobot.api import CobotSandbox

PREFIX = "/api2"
MEDIA_TYPE = "application/vnd.api+json"
DEFAULT_PAGE_SIZE = 72
MAX_PAGE_SIZE = 200
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
# The enumerated query parameters of the served operations, as the spec lists them (a list parameter's
# values are comma-separated, its "Query params" rule): any other value is a 400 naming the parameter.
ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("get-space-bookings", "include"): frozenset({"membership", "event", "externalBooking"}),
    ("list-events", "include"): frozenset({"attendances", "attendances.attendee"}),
    ("list-events", "filter[publishedState]"): frozenset({"draft", "published"}),
    ("list-events", "filter[sortOrder]"): frozenset({"asc", "desc"}),
    ("get-space-invoices", "filter[dateFilterField]"): frozenset({"dueDate", "invoiceDate", "remindAt"}),
    ("get-space-invoices", "filter[paidStatus]"): frozenset({"unpaid", "paid", "writtenOff", "pending"}),
    ("get-resources", "filter[usage]"): frozenset({"bookable", "allocatable", "all"}),
    ("get-resources", "include"): frozenset({"categories", "media"}),
    ("get-user", "include"): frozenset({"memberOf", "adminOf", "memberships"}),
    ("get-invoice-pdf", "e_invoice"): frozenset({"true", "false"}),
}
Api2Call = Call[Operation, Grant]
Space = dict[str, Any]


class JsonApiErrors(ErrorFormat):
    """``{"errors": [{"status", "title", "detail", "source"}]}`` as ``application/vnd.api+json``."""

    def body(self, error: ApiError) -> Any:
        if error.body is not None:
            return error.body
        item: dict[str, Any] = {
            "status": str(error.status),
            "title": TITLES.get(error.status, "Error"),
            "detail": error.message,
        }
        if error.fields.get("pointer"):
            item["source"] = {"pointer": error.fields["pointer"]}
        elif error.fields.get("parameter"):
            item["source"] = {"parameter": error.fields["parameter"]}
        return {"errors": [item]}

    def response(self, error: ApiError) -> Response:
        return JSONResponse(self.body(error), status_code=error.status, headers=error.headers, media_type=MEDIA_TYPE)


def invalid(fields: dict[str, str]) -> ApiError:
    """422 with one error per attribute, each pointing at it (the spec's "Errors" example)."""
    errors = [
        {"status": "422", "title": TITLES[422], "detail": detail, "source": {"pointer": pointer}}
        for pointer, detail in fields.items()
    ]
    return ApiError("; ".join(fields.values()), 422, body={"errors": errors})


def bad_parameter(name: str, detail: str) -> ApiError:
    return ApiError(f"{name} {detail}", 400, fields={"parameter": name})


def document(data_: Any, *, status: int = 200, **extra: Any) -> Response:
    return JSONResponse({"data": data_, **extra}, status_code=status, media_type=MEDIA_TYPE)


class Api2(RequestPipeline[Operation, Grant]):
    errors = JsonApiErrors()

    def __init__(self, cobot: CobotSandbox) -> None:
        self.cobot = cobot

    @property
    def base(self) -> str:
        return self.cobot.base + PREFIX

    # -- the pipeline's steps --------------------------------------------------------------------
    def authenticate(self, request: Request, access: Operation, headers: dict[str, str]) -> Grant:
        accept = request.headers.get("accept", "")
        if access.id != "get-invoice-pdf" and MEDIA_TYPE not in accept:
            raise ApiError(f"Requests must accept {MEDIA_TYPE} (Accept header).", 406)
        has_body = request.method != "GET" and request.headers.get("content-length", "0") != "0"
        if has_body and request.headers.get("content-type", "").split(";")[0].strip() != MEDIA_TYPE:
            raise ApiError(f"Request bodies must be {MEDIA_TYPE} (Content-Type header).", 415)
        grant = self.cobot.lookup(bearer_token(request) or "")
        if grant is None:
            raise ApiError("A valid OAuth2 access token is required (Authorization: Bearer <token>).", 401)
        return grant

    def rate_limit(self, call: Api2Call) -> None:
        user = str(call.principal.user["id"])
        allowed, left = self.cobot.window.take(f"user:{user}", self.cobot.limit(60))
        if not allowed:
            wait = ceil_seconds(left)
            raise ApiError(f"Rate limit exceeded. Retry in {wait} seconds.", 429, headers={"Retry-After": str(wait)})

    def authorise(self, call: Api2Call) -> None:
        missing = [scope for scope in call.access.scope.split() if scope not in call.principal.scopes]
        if missing:
            raise ApiError(f"The access token lacks the scope {', '.join(missing)} for {call.access.id}.", 403)
        for (operation_id, name), allowed in ENUMS.items():
            if operation_id != call.access.id:
                continue
            given = [v for value in call.request.query_params.getlist(name) for v in value.split(",")]
            wrong = sorted({value for value in given if value not in allowed})
            if wrong:
                raise bad_parameter(
                    name, f"has unknown values ({', '.join(wrong)}); allowed: {', '.join(sorted(allowed))}"
                )

    # -- lookups --------------------------------------------------------------------------------------
    def uid(self, call: Api2Call) -> str:
        return str(call.principal.user["id"])

    def space_by_id(self, call: Api2Call, *, admin: bool = False) -> Space:
        space_id = call.params["spaceId"]
        for space in self.cobot.spaces.values():
            if space["id"] == space_id:
                uid = self.uid(call)
                if admin and uid not in space["admins"]:
                    raise ApiError("Only admins of this space may do this.", 403)
                if not admin and uid not in space["admins"] and membership_of(space, uid) is None:
                    raise ApiError("Only members and admins of this space may do this.", 403)
                return space
        raise ApiError("Space not found.", 404)

    def find(self, call: Api2Call, collection: str, item_id: str) -> tuple[Space, dict[str, Any]]:
        """A record by id in a space the caller administers, or their own (404 otherwise)."""
        uid = self.uid(call)
        for space in self.cobot.spaces.values():
            record = space[collection].get(item_id)
            if record is None:
                continue
            if uid in space["admins"] or self._own(space, uid, collection, record):
                return space, record
        raise ApiError("Not found.", 404)

    @staticmethod
    def _own(space: Space, uid: str, collection: str, record: dict[str, Any]) -> bool:
        own = membership_of(space, uid)
        if own is None:
            return False
        if collection == "memberships":
            return bool(record["id"] == own["id"])
        if collection == "bookings":
            return bool((record.get("membership") or {}).get("id") == own["id"])
        if collection in ("check_ins", "invoices"):
            return bool(record.get("membership_id") == own["id"])
        return collection in ("resources", "events")

    # -- query parameters -------------------------------------------------------------------------------
    @staticmethod
    def moment(call: Api2Call, name: str, kind: str) -> datetime:
        value = call.request.query_params.get(name)
        if value in (None, ""):
            raise bad_parameter(name, "is required")
        text = str(value)
        dated = len(text) == 10
        if (kind == "date") != dated or (not dated and "T" not in text):
            raise bad_parameter(name, f"must be a {kind.replace('-', ' ')} (ISO 8601)")
        if kind == "date-time" and not (text.endswith("Z") or "+" in text[10:] or "-" in text[10:]):
            raise bad_parameter(name, "must give a time zone offset, e.g. 2025-03-01T10:00:00Z")
        try:
            moment = parse_moment(text, end_of_day=name.endswith("[to]"))
        except ValueError:
            raise bad_parameter(name, f"must be a {kind.replace('-', ' ')} (ISO 8601)") from None
        assert moment is not None
        return moment

    def period(self, call: Api2Call, kind: str, *, required: bool = True) -> tuple[datetime, datetime]:
        query = call.request.query_params
        start = datetime(1970, 1, 1, tzinfo=timezone.utc)
        end = datetime(2999, 1, 1, tzinfo=timezone.utc)
        if required or "filter[from]" in query:
            start = self.moment(call, "filter[from]", kind)
        if required or "filter[to]" in query:
            end = self.moment(call, "filter[to]", kind)
        if end < start:
            raise bad_parameter("filter[to]", "must not be before filter[from]")
        return start, end

    @staticmethod
    def fields(call: Api2Call) -> dict[str, set[str]]:
        return {
            key[7:-1]: {name for name in value.split(",") if name}
            for key, value in call.request.query_params.items()
            if key.startswith("fields[") and key.endswith("]")
        }

    def collection(self, call: Api2Call, resources: list[dict[str, Any]]) -> Response:
        """One page of a collection, with the spec's ``meta`` and ``links``."""
        query = call.request.query_params
        number = _whole(query.get("page[number]"), "page[number]", 1)
        size = _whole(query.get("page[size]"), "page[size]", DEFAULT_PAGE_SIZE)
        if size > MAX_PAGE_SIZE:
            raise bad_parameter("page[size]", f"must be at most {MAX_PAGE_SIZE}")
        total = max(1, -(-len(resources) // size))
        page = resources[(number - 1) * size : number * size]
        fields = self.fields(call)
        kept = [(k, v) for k, v in query.multi_items() if k not in ("page[number]", "page[size]")]
        url = self.base + call.request.url.path.split(PREFIX, 1)[1]

        def link(page_number: int) -> str:
            return url + "?" + urlencode([*kept, ("page[number]", str(page_number)), ("page[size]", str(size))])

        links = {
            "first": link(1),
            "self": link(number),
            "prev": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < total else None,
            "last": link(total),
        }
        meta = {"totalPages": total, "currentPage": number}
        return document([render.sparse(r, fields) for r in page], meta=meta, links=links)

    def single(self, call: Api2Call, resource: dict[str, Any], status: int = 200) -> Response:
        return document(render.sparse(resource, self.fields(call)), status=status)

    # -- handlers ----------------------------------------------------------------------------------------
    async def get_user(self, call: Api2Call) -> Response:
        uid = self.uid(call)
        spaces = sorted(self.cobot.spaces.values(), key=lambda s: str(s["subdomain"]))
        admin_of = [s for s in spaces if uid in s["admins"]]
        member_of = [s for s in spaces if membership_of(s, uid) is not None]
        memberships = [(s, membership_of(s, uid)) for s in member_of]
        resource = render.user(
            call.principal.user,
            [s["id"] for s in admin_of],
            [s["id"] for s in member_of],
            [m["id"] for _, m in memberships if m],
        )
        wanted = {name for name in call.request.query_params.get("include", "").split(",") if name}
        unknown = wanted - {"adminOf", "memberOf", "memberships"}
        if unknown:
            raise bad_parameter("include", f"has unknown relationships: {', '.join(sorted(unknown))}")
        if wanted & {"adminOf", "memberOf"} and "read_spaces" not in call.principal.scopes:
            raise ApiError("Including spaces needs the scope read_spaces.", 403)
        if "memberships" in wanted and "read_memberships" not in call.principal.scopes:
            raise ApiError("Including memberships needs the scope read_memberships.", 403)
        included: dict[str, dict[str, Any]] = {}
        for name, chosen in (("adminOf", admin_of), ("memberOf", member_of)):
            if name in wanted:
                included.update({s["id"]: render.space(s, self.base) for s in chosen})
        if "memberships" in wanted:
            for space, member in memberships:
                if member:
                    included[member["id"]] = render.membership(member, space, self.base)
        extra: dict[str, Any] = {"included": list(included.values())} if wanted else {}
        return document(render.sparse(resource, self.fields(call)), **extra)

    async def get_space(self, call: Api2Call) -> Response:
        space_id = call.params["spaceId"]
        for space in self.cobot.spaces.values():
            if space["id"] == space_id:
                return self.single(call, render.space(space, self.base))
        raise ApiError("Space not found.", 404)

    async def memberships(self, call: Api2Call) -> Response:
        space = self.space_by_id(call, admin=True)
        start, end = self.period(call, "date")
        found = [m for m in space["memberships"].values() if _active(m, start, end)]
        return self.collection(call, [render.membership(m, space, self.base) for m in _by_name(found)])

    async def membership(self, call: Api2Call) -> Response:
        space, member = self.find(call, "memberships", call.params["id"])
        return self.single(call, render.membership(member, space, self.base))

    async def plans(self, call: Api2Call) -> Response:
        space = self.space_by_id(call, admin=True)
        start, end = self.period(call, "date")
        found = [m for m in space["memberships"].values() if _active(m, start, end)]
        return self.collection(call, [render.plan(m) for m in _by_name(found)])

    async def invoices(self, call: Api2Call) -> Response:
        space = self.space_by_id(call, admin=True)
        start, end = self.period(call, "date", required=False)
        query = call.request.query_params
        paid = {state for state in query.get("filter[paidStatus]", "").split(",") if state}
        membership_id, debitor_id = query.get("filter[membershipId]"), query.get("filter[debitorId]")
        field = {"dueDate": "due_date", "remindAt": "due_date"}.get(query.get("filter[dateFilterField]", ""))
        found = [
            i
            for i in space["invoices"].values()
            if start.date() <= date.fromisoformat(i[field or "invoice_date"]) <= end.date()
            and (not paid or ("paid" if i["paid"] else "unpaid") in paid)
            and (not membership_id or i["membership_id"] == membership_id)
            and (not debitor_id or i["membership_id"] == debitor_id)
        ]
        found.sort(key=lambda i: (i["invoice_date"], i["invoice_number"]))
        return self.collection(call, [render.invoice(i, space, self.base) for i in found])

    async def invoice(self, call: Api2Call) -> Response:
        space, record = self.find(call, "invoices", call.params["id"])
        return self.single(call, render.invoice(record, space, self.base))

    async def invoice_pdf(self, call: Api2Call) -> Response:
        space, record = self.find(call, "invoices", call.params["id"])
        return Response(_pdf(f"Invoice {record['invoice_number']} of {space['name']}"), media_type="application/pdf")

    async def bookings(self, call: Api2Call) -> Response:
        space = self.space_by_id(call)
        start, end = self.period(call, "date-time")
        uid = self.uid(call)
        own = membership_of(space, uid)
        found = [
            b
            for b in space["bookings"].values()
            if overlaps(b["from"], b["to"], start, end)
            and (uid in space["admins"] or (own and (b.get("membership") or {}).get("id") == own["id"]))
        ]
        found.sort(key=lambda b: b["from"])
        return self.collection(call, [render.booking(b, space, self.base) for b in found])

    async def booking(self, call: Api2Call) -> Response:
        space, record = self.find(call, "bookings", call.params["id"])
        return self.single(call, render.booking(record, space, self.base))

    async def create_booking(self, call: Api2Call) -> Response:
        body = await _resource_body(call, "bookings")
        relationships = body.get("relationships") or {}
        resource_id = _related_id(relationships, "resource", "resources")
        if resource_id is None:
            raise invalid({"/data/relationships/resource": "can't be blank"})
        space, resource = self.find(call, "resources", resource_id)
        attributes = body.get("attributes") or {}
        start, end = _window(space, resource["id"], attributes)
        membership_id = _related_id(relationships, "membership", "memberships")
        uid = self.uid(call)
        if membership_id is not None:
            if uid not in space["admins"]:
                raise ApiError("Only admins may book for another membership.", 403)
            member = space["memberships"].get(membership_id)
            if member is None:
                raise invalid({"/data/relationships/membership": "is invalid"})
        else:
            member = membership_of(space, uid)
        booking_id = data.cobot_id("booking", space["subdomain"], secrets.token_hex(8))
        record = data.booking_record(
            space, booking_id, resource, member, start, end, attributes.get("title"), attributes.get("comments")
        )
        with self.cobot.lock:
            space["bookings"][booking_id] = record
        self.cobot.subscriptions.notify(space, "created_booking", record["url"])
        return self.single(call, render.booking(record, space, self.base), 201)

    async def update_booking(self, call: Api2Call) -> Response:
        space, record = self.find(call, "bookings", call.params["id"])
        body = await _resource_body(call, "bookings")
        if body.get("id") != record["id"]:
            raise ApiError("The id in the body must be the booking's.", 409)
        attributes = body.get("attributes") or {}
        merged = {"from": attributes.get("from", record["from"]), "to": attributes.get("to", record["to"])}
        resource = space["resources"][record["resource"]["id"]]
        start, end = _window(space, resource["id"], merged, ignore=record["id"])
        member = space["memberships"].get((record.get("membership") or {}).get("id", ""))
        updated = data.booking_record(
            space,
            record["id"],
            resource,
            member,
            start,
            end,
            attributes.get("title", record["title"]),
            attributes.get("comments", record["comments"]),
        )
        with self.cobot.lock:
            space["bookings"][record["id"]] = updated
        self.cobot.subscriptions.notify(space, "updated_booking", updated["url"])
        return self.single(call, render.booking(updated, space, self.base))

    async def delete_booking(self, call: Api2Call) -> Response:
        space, record = self.find(call, "bookings", call.params["id"])
        with self.cobot.lock:
            space["bookings"].pop(record["id"], None)
        self.cobot.subscriptions.notify(space, "deleted_booking", record["url"])
        return Response(status_code=204)

    async def resources(self, call: Api2Call) -> Response:
        space = self.space_by_id(call)
        usage = call.request.query_params.get("filter[usage]", "bookable")
        found = [] if usage == "allocatable" else sorted(space["resources"].values(), key=lambda r: str(r["name"]))
        return self.collection(call, [render.resource(r, space, self.base) for r in found])

    async def availability(self, call: Api2Call) -> Response:
        space, resource = self.find(call, "resources", call.params["id"])
        start, end = self.period(call, "date-time")
        busy = sorted(
            (parse_moment(b["from"]), parse_moment(b["to"]))
            for b in space["bookings"].values()
            if b["resource"]["id"] == resource["id"] and overlaps(b["from"], b["to"], start, end)
        )
        free: list[dict[str, str]] = []
        cursor = start
        for begin, finish in busy:
            assert begin and finish
            if begin > cursor:
                free.append({"from": _z(cursor), "to": _z(begin)})
            cursor = max(cursor, finish)
        if cursor < end:
            free.append({"from": _z(cursor), "to": _z(end)})
        resource_object = {
            "id": data.cobot_id("availability", resource["id"], _z(start), _z(end)),
            "type": "resourceAvailabilities",
            "attributes": {"availableTimes": free},
            "relationships": {"resource": render.linkage("resources", resource["id"])},
        }
        return self.single(call, resource_object)

    async def check_in(self, call: Api2Call) -> Response:
        body = await _resource_body(call, "checkIns", with_id=False)
        token = (body.get("attributes") or {}).get("checkInToken")
        if not isinstance(token, str) or not token:
            raise invalid({"/data/attributes/checkInToken": "can't be blank"})
        space_id = _related_id(body.get("relationships") or {}, "space", "spaces")
        space = next((s for s in self.cobot.spaces.values() if s["id"] == space_id), None)
        if space is None:
            raise invalid({"/data/relationships/space": "is invalid"})
        uid = self.uid(call)
        member_id = space["check_in_tokens"].get(token)
        if member_id is None:
            raise invalid({"/data/attributes/checkInToken": "is unknown"})
        member = space["memberships"][member_id]
        if uid not in space["admins"] and (member.get("user") or {}).get("id") != uid:
            raise ApiError("Only admins may check in another member.", 403)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        if any(c["membership_id"] == member_id and _running(c, now) for c in space["check_ins"].values()):
            raise invalid({"/data/attributes/checkInToken": "is already checked in"})
        check_in_id = data.cobot_id("check_in", space["subdomain"], secrets.token_hex(8))
        record = data.check_in_record(check_in_id, member, now, now.replace(hour=23, minute=59, second=59))
        with self.cobot.lock:
            space["check_ins"][check_in_id] = record
        return document(render.check_in(record, space), status=201)

    async def check_out(self, call: Api2Call) -> Response:
        space, record = self.find(call, "check_ins", call.params["id"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        updated = dict(record)
        if _running(record, now):
            updated["valid_until"] = data.iso(max(now, parse_moment(record["valid_from"]) or now))
            with self.cobot.lock:
                space["check_ins"][record["id"]] = updated
        return document(render.check_in(updated, space))

    async def current_check_ins(self, call: Api2Call) -> Response:
        space = self.space_by_id(call)
        token = call.request.query_params.get("filter[checkInToken]")
        if not token:
            raise bad_parameter("filter[checkInToken]", "is required")
        member_id = space["check_in_tokens"].get(token)
        uid = self.uid(call)
        owner = (space["memberships"][member_id].get("user") or {}).get("id") if member_id else None
        if member_id and uid not in space["admins"] and owner != uid:
            member_id = None
        now = datetime.now(timezone.utc)
        found = [c for c in space["check_ins"].values() if c["membership_id"] == member_id and _running(c, now)]
        found.sort(key=lambda c: c["valid_from"])
        return self.collection(call, [render.check_in(c, space) for c in found])

    async def membership_check_ins(self, call: Api2Call) -> Response:
        space, member = self.find(call, "memberships", call.params["membershipId"])
        start, end = self.period(call, "date-time")
        found = [
            c
            for c in space["check_ins"].values()
            if c["membership_id"] == member["id"] and overlaps(c["valid_from"], c["valid_until"], start, end)
        ]
        found.sort(key=lambda c: c["valid_from"])
        return self.collection(call, [render.check_in(c, space) for c in found])

    async def events(self, call: Api2Call) -> Response:
        space = self.space_by_id(call)
        start, end = self.period(call, "date-time")
        states = {s for s in call.request.query_params.get("filter[publishedState]", "").split(",") if s}
        if not states or states - {"draft", "published"}:
            raise bad_parameter("filter[publishedState]", "must list draft and/or published")
        if "draft" in states and self.uid(call) not in space["admins"]:
            raise ApiError("Only admins may list draft events.", 403)
        found = [
            e
            for e in space["events"].values()
            if e["published_state"] in states and overlaps(e["from"], e["to"], start, end)
        ]
        descending = call.request.query_params.get("filter[sortOrder]") == "desc"
        found.sort(key=lambda e: e["from"], reverse=descending)
        return self.collection(call, [render.event(e, space, self.base) for e in found])

    async def contacts(self, call: Api2Call) -> Response:
        space = self.space_by_id(call, admin=True)
        return self.collection(call, [render.contact(m, space) for m in _by_name(space["memberships"].values())])

    async def teams(self, call: Api2Call) -> Response:
        space = self.space_by_id(call, admin=True)
        self.period(call, "date")
        found = sorted(space["teams"].values(), key=lambda t: str(t["name"]))
        return self.collection(call, [render.team(t, space) for t in found])

    async def unknown(self, request: Request) -> Response:
        return self.errors.response(ApiError(f"Unknown path {request.url.path}", 404))

    # -- routes ------------------------------------------------------------------------------------------
    def handlers(self) -> dict[str, Callable[[Api2Call], Awaitable[Response]]]:
        """Operation id → handler: every operation a keyword of the library uses."""
        return {
            "get-user": self.get_user,
            "get-space": self.get_space,
            "get-space-memberships": self.memberships,
            "get-membership": self.membership,
            "get-space-membership-plans": self.plans,
            "get-space-invoices": self.invoices,
            "get-invoice": self.invoice,
            "get-invoice-pdf": self.invoice_pdf,
            "get-space-bookings": self.bookings,
            "get-booking": self.booking,
            "create-admin-booking": self.create_booking,
            "update-space-booking": self.update_booking,
            "delete-space-booking": self.delete_booking,
            "get-resources": self.resources,
            "get-resource-availbility": self.availability,
            "create-check-in": self.check_in,
            "create-check-out": self.check_out,
            "list-space-check-ins-current": self.current_check_ins,
            "get-membership-check-ins": self.membership_check_ins,
            "list-events": self.events,
            "get-space-contacts": self.contacts,
            "get-space-teams": self.teams,
        }

    def routes(self) -> list[BaseRoute]:
        by_path: dict[str, list[tuple[Operation, Callable[[Api2Call], Awaitable[Response]]]]] = {}
        for operation_id, handler in self.handlers().items():
            operation = OPERATIONS[operation_id]
            by_path.setdefault(operation.path, []).append((operation, handler))
        routes: list[BaseRoute] = []
        # Literal paths before templated ones (/invoices/{id}.pdf before /invoices/{id}).
        for path in sorted(by_path, key=lambda p: (p.count("{"), -len(p))):
            for operation, handler in by_path[path]:
                routes.append(self.route(path, handler, operation, [operation.method]))
        routes.append(Route("/{rest:path}", self.unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
        return routes


def _whole(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    if not str(value).isdigit() or int(str(value)) < 1:
        raise bad_parameter(name, "must be a whole number from 1")
    return int(str(value))


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _running(record: dict[str, Any], now: datetime) -> bool:
    begin, finish = parse_moment(record["valid_from"]), parse_moment(record["valid_until"])
    assert begin and finish
    return begin <= now < finish


def _active(member: dict[str, Any], start: datetime, end: datetime) -> bool:
    begins = date.fromisoformat(str(member.get("starts_at") or "1970-01-01")[:10])
    canceled = member.get("canceled_to")
    ends = date.fromisoformat(str(canceled)[:10]) if canceled else date(2999, 1, 1)
    return begins <= end.date() and ends >= start.date()


def _by_name(members: Any) -> list[dict[str, Any]]:
    return sorted(members, key=lambda m: str(m["name"]))


def _related_id(relationships: Any, name: str, kind: str) -> str | None:
    relation = relationships.get(name) if isinstance(relationships, dict) else None
    linked = relation.get("data") if isinstance(relation, dict) else None
    if not isinstance(linked, dict):
        return None
    if linked.get("type") != kind or not isinstance(linked.get("id"), str):
        raise invalid({f"/data/relationships/{name}": f"must be {kind} linkage"})
    return str(linked["id"])


async def _resource_body(call: Api2Call, kind: str, *, with_id: bool = True) -> dict[str, Any]:
    body = await json_body(call.request)
    resource = body.get("data") if isinstance(body, dict) else None
    if not isinstance(resource, dict):
        raise invalid({"/data": "must be a resource object"})
    if resource.get("type") != kind:
        raise invalid({"/data/type": f"must be {kind}"})
    attributes = resource.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise invalid({"/data/attributes": "must be an object"})
    return resource


def _window(
    space: Space, resource_id: str, attributes: dict[str, Any], ignore: str | None = None
) -> tuple[datetime, datetime]:
    errors: dict[str, str] = {}
    moments: dict[str, datetime] = {}
    for name in ("from", "to"):
        value = attributes.get(name)
        try:
            moment = parse_moment(value) if isinstance(value, str) or value is None else None
            if value is not None and (moment is None or len(str(value)) <= 10):
                raise ValueError(value)
        except ValueError:
            errors[f"/data/attributes/{name}"] = "is not a date-time"
            continue
        if moment is None:
            errors[f"/data/attributes/{name}"] = "can't be blank"
        else:
            moments[name] = moment
    if errors:
        raise invalid(errors)
    start, end = moments["from"], moments["to"]
    if end <= start:
        raise invalid({"/data/attributes/to": "must be after from"})
    for other in space["bookings"].values():
        same = other["id"] != ignore and other["resource"]["id"] == resource_id and not other["canceled"]
        if same and overlaps(other["from"], other["to"], start + timedelta(seconds=1), end - timedelta(seconds=1)):
            raise invalid({"/data/attributes/from": "the resource is already booked at this time"})
    return start, end


def _pdf(title: str) -> bytes:
    """A small valid one-page PDF naming the invoice."""
    text = title.replace("(", "[").replace(")", "]").encode("latin-1", "replace")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
