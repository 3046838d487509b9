"""``RobostackClient``: records of a Robostack application over its REST API.

The public documentation covers the URLs, the headers and the request bodies; response shapes, error
bodies and rate limits are not documented, so answers are read tolerantly (see ``_records``) and the
client throttles at a conservative rate of its own. Four rules keep data safe:

- ``PUT`` creates records, so it is never repeated blindly after an answer was lost: the call fails with
  ``UncertainOutcome`` saying how to check. Refused 429/503 answers are repeated (nothing was written).
- Repeating that same create in the same process (``Wait Until Keyword Succeeds``) first looks for the
  records the earlier attempt may have created and creates only those that are missing (``creates``).
- An update or delete whose selection could match every record is refused unless ``allow_all``: every
  branch must pin a field to a value (``selection``).
- Find and aggregation are POSTs that only read, so they are repeated like GETs; update and delete
  by selection set values / remove matches, so sending them again has the same effect and they are
  repeated too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from Connectors.core import arguments, log, progress
from Connectors.core.config import Credential
from Connectors.core.errors import ConfigurationError, ConnectorError, NotFound, ValidationError
from Connectors.core.paths import build
from Connectors.vendors.base import BaseClient, named
from Connectors.vendors.robostack import creates
from Connectors.vendors.robostack.profile import DEFAULT_CHUNK_SIZE, ROBOSTACK
from Connectors.vendors.robostack.selection import PINNING_FORMS, pins

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from Connectors.vendors.typed import RobostackSettings


Selection = Mapping[str, Any]


class RobostackClient(BaseClient):
    """Find, create, update, delete and aggregate records of one Robostack application.

    With no arguments every setting comes from the environment or the Vault, in the documented order:
    ``ROBOSTACK_APP_UUID``, ``ROBOSTACK_API_KEY``, ``ROBOSTACK_API_SECRET``, ``ROBOSTACK_URL`` and the limits.
    """

    profile = ROBOSTACK

    def __init__(
        self,
        app_uuid: str | None = None,
        api_key: Credential = None,
        api_secret: Credential = None,
        /,
        **settings: Unpack[RobostackSettings],
    ) -> None:
        super().__init__(**named(settings, app_uuid=app_uuid, api_key=api_key, api_secret=api_secret))
        self.app_uuid = self.settings.require("app_uuid")
        self.chunk_size: int = self.settings.get("chunk_size", DEFAULT_CHUNK_SIZE)

    # -- paths --------------------------------------------------------------------------------
    def resource_path(self, resource: str) -> str:
        # The documented base ends with a slash: external/api/{appUUID}/{resourceName}/
        return build("external", "api", (self.app_uuid, "app_uuid"), (resource, "resource")) + "/"

    # -- reading --------------------------------------------------------------------------------
    def find(self, resource: str, selection: Selection | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Records whose fields equal every value of ``selection`` (and ``fields``); none given: all."""
        path = self.resource_path(resource)
        merged = arguments.merged(selection, fields, "selection")
        body: dict[str, Any] = {"selection": merged} if merged else {}
        return _records(self.transport.request_json("POST", path, json=body, idempotent=True))

    def iter_find(self, resource: str, selection: Selection | None = None, **fields: Any) -> Iterator[dict[str, Any]]:
        """``find`` as an iterator (Robostack's find has no paging: one request returns every match)."""
        yield from self.find(resource, selection, **fields)

    def get(self, resource: str, record_id: Any) -> dict[str, Any]:
        """The record with ``id`` ``record_id``; ``NotFound`` when there is none."""
        wanted = _record_id(record_id)
        records = self.find(resource, {"id": wanted})
        if not records:
            raise NotFound(
                f"No record with id {wanted!r} in resource {resource!r}.",
                vendor=self.vendor,
                hint="Check the id, or use Find Robostack Records to search by another field.",
            )
        return records[0]

    def count(self, resource: str, selection: Selection | None = None, **fields: Any) -> int:
        """How many records match (counted from a find: the aggregation format is not documented)."""
        return len(self.find(resource, selection, **fields))

    def aggregate(
        self, resource: str, pipeline: Sequence[Mapping[str, Any]] | Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Run an aggregation pipeline (a list of stages, or ``{"pipeline": [...]}``)."""
        path = self.resource_path(resource) + "aggregation"
        stages = _pipeline(pipeline)
        return _records(self.transport.request_json("POST", path, json={"pipeline": stages}, idempotent=True))

    # -- writing --------------------------------------------------------------------------------
    def create(self, resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Create one record and return it as Robostack stored it (with its ``id`` when answered).

        Repeating the call after it failed with an unknown outcome creates no duplicate (see ``creates``).
        """
        fields = arguments.mapping(record, "record", allow_empty=False)
        return self._create(resource, [fields], 1, single=True)[0]

    def create_many(
        self, resource: str, records: Iterable[Mapping[str, Any]], chunk_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Create records in chunks of ``chunk_size`` (one PUT each); returns the created records.

        Repeating the call after it failed creates no duplicate of what the failed call created
        (see ``creates``).
        """
        items = arguments.records(records, "records", allow_empty=False)
        size = _positive(chunk_size, self.chunk_size, "chunk_size")
        return self._create(resource, items, size, single=False)

    def _create(self, resource: str, items: list[dict[str, Any]], size: int, *, single: bool) -> list[dict[str, Any]]:
        path = self.resource_path(resource)
        write = creates.Write(self.transport, path, items[0] if single else items)
        repeat = write.pending()
        if repeat:
            log.info(f"{self.vendor}: {write.repeat_note(resource)}")
        created: list[dict[str, Any]] = []
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        report = progress.Progress()
        try:
            for number, chunk in enumerate(chunks, start=1):
                report.update(
                    lambda s: f"Creating records in {resource}: {len(created)} of {len(items)} done after {s:.0f} s."
                )
                try:
                    found = creates.already_created(self, resource, chunk) if repeat else [None] * len(chunk)
                    missing = [record for record, stored in zip(chunk, found, strict=True) if stored is None]
                    answer = self._put(resource, missing[0] if single else missing, len(missing)) if missing else []
                    created.extend(creates.in_order(chunk, found, answer))
                except ConnectorError as error:
                    if number == 1:
                        raise
                    raise _partial(error, number, len(chunks), len(created)) from error
        except ConnectorError as error:
            write.failed(error, bool(created))
            raise
        write.succeeded()
        return created

    def _put(self, resource: str, body: Any, count: int) -> list[dict[str, Any]]:
        what = "record" if count == 1 else f"{count} records"
        check = (
            f"The {what} may or may not have been created in {resource!r}. Repeat the same call in this robot "
            f"(e.g. inside Wait Until Keyword Succeeds): it first looks for what this attempt created and "
            f"creates only what is missing. From another process, check with Find Robostack Records on a "
            f"field that identifies each record, e.g. its order number."
        )
        return _records(
            self.transport.request_json(
                "PUT", self.resource_path(resource), json=body, idempotent=False, error_context=check
            )
        )

    def update(
        self,
        resource: str,
        selection: Selection | Sequence[Selection] | None,
        updation: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        allow_all: bool = False,
    ) -> dict[str, Any]:
        """Set ``updation`` on the records matching ``selection``; two lists are paired by position.

        A selection that does not pin a field to a value (see ``selection.pins``) is refused unless
        ``allow_all``. Returns ``{"matched": n, "modified": n, "results": [...]}`` as far as Robostack
        answers them.
        """
        path = self.resource_path(resource)
        everything = arguments.flag(allow_all, "allow_all")
        paired, selections = self._selections(selection)
        if paired != arguments.is_list(updation):
            raise ValidationError(
                "Selection and updation must both be single dictionaries or both be lists.",
                vendor=self.vendor,
                hint="Pair each selection with its updation by position.",
            )
        if paired:
            updations = arguments.records(updation, "updation", allow_empty=False)
        else:
            updations = [arguments.mapping(updation, "updation", allow_empty=False)]
        if len(selections) != len(updations) or not selections:
            raise ValidationError(
                f"Got {len(selections)} selections and {len(updations)} updations; they are paired by position.",
                vendor=self.vendor,
                hint="Give one updation for each selection (and at least one).",
            )
        self._guard(selections, paired, "update", resource, everything)
        body = (
            {"selection": selections, "updation": updations}
            if paired
            else {"selection": selections[0], "updation": updations[0]}
        )
        return _summary(self.transport.request_json("PATCH", path, json=body, idempotent=True))

    def delete(
        self, resource: str, selection: Selection | Sequence[Selection] | None, *, allow_all: bool = False
    ) -> dict[str, Any]:
        """Delete the records matching ``selection`` (or any of a list of selections).

        A selection that does not pin a field to a value (see ``selection.pins``) is refused unless
        ``allow_all``. Returns ``{"matched": n, "deleted": n}`` as far as Robostack answers them.
        """
        path = self.resource_path(resource)
        everything = arguments.flag(allow_all, "allow_all")
        paired, selections = self._selections(selection)
        self._guard(selections, paired, "delete", resource, everything)
        body = {"selection": selections if paired else selections[0]}
        return _summary(self.transport.request_json("DELETE", path, json=body, idempotent=True))

    def _selections(self, selection: Any) -> tuple[bool, list[dict[str, Any]]]:
        """(given as a list?, the selections as dictionaries); ``None`` is the empty selection."""
        if arguments.is_list(selection):
            return True, arguments.records(selection, "selection")
        return False, [arguments.merged(selection, {}, "selection")]

    def _guard(
        self, selections: list[dict[str, Any]], listed: bool, action: str, resource: str, allow_all: bool
    ) -> None:
        """Refuse a selection that may match every record, unless the caller says so (``selection.pins``)."""
        if allow_all or (selections and all(pins(item) for item in selections)):
            return
        if not selections:
            what = "an empty list of selections"
        else:
            number, loose = next((i, item) for i, item in enumerate(selections, start=1) if not pins(item))
            where = f"selection {number}" if listed else "the selection"
            what = (
                ("a list containing an empty selection" if listed else "an empty selection")
                if not loose
                else f"{where} {_short(loose)}, which pins no field to a value"
            )
        raise ValidationError(
            f"Refusing to {action} with {what}: it could {action} every record of {resource!r}.",
            vendor=self.vendor,
            hint=f"Pin a field to a value in every branch ({PINNING_FORMS}), or pass allow_all=True to "
            f"{action} all matching records on purpose.",
        )


# -- helpers ----------------------------------------------------------------------------------------


def _record_id(value: Any) -> Any:
    # Robostack ids are numbers; "7" from a robot or a CSV means 7.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(
            f"record_id must be a number or a text, got {type(value).__name__ if value is not None else 'nothing'}.",
            vendor="Robostack",
            hint="Pass the record's id, e.g. ${order}[id].",
        )
    if isinstance(value, int):
        return value
    wanted = arguments.text(value, "record_id", max_length=200)
    return int(wanted) if wanted.isdigit() else wanted


def _pipeline(pipeline: Any) -> list[dict[str, Any]]:
    if isinstance(pipeline, Mapping):
        # {"pipeline": [...]} as sent, or one stage such as {"$match": {...}}.
        pipeline = pipeline["pipeline"] if set(pipeline) == {"pipeline"} else [pipeline]
    if not arguments.is_list(pipeline):
        raise ValidationError(
            "The aggregation pipeline must be a list of stages.",
            vendor="Robostack",
            hint='For example [{"$match": {"status": "pending"}}, {"$count": "pending"}].',
        )
    stages = []
    for index, stage in enumerate(pipeline):
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise ValidationError(
                f"Stage {index + 1} of the pipeline must be a dictionary with one key such as $match, got {stage!r}.",
                vendor="Robostack",
                hint="Write each stage as {'$stage': specification}.",
            )
        stages.append(arguments.mapping(stage, f"pipeline[{index}]"))
    return stages


def _records(body: Any) -> list[dict[str, Any]]:
    """Records from an answer of unknown shape: a list, or a list under a well-known key, or one record."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if isinstance(body, dict):
        for name in ("results", "data", "records", "items", "result"):
            value = body.get(name)
            if isinstance(value, list):
                return [r for r in value if isinstance(r, dict)]
            if isinstance(value, dict):
                return [value]
        if "id" in body:
            return [body]
    return []


def _summary(body: Any) -> dict[str, Any]:
    summary = dict(body) if isinstance(body, dict) else {"results": _records(body)}
    summary.setdefault("results", _records(body))
    return summary


def _positive(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return arguments.whole_number(value, name, minimum=1)
    except ValidationError:
        raise ConfigurationError(
            f"{name} must be a positive whole number, got {arguments.describe(value)}.",
            hint=f"Use e.g. {DEFAULT_CHUNK_SIZE}.",
        ) from None


def _partial(error: ConnectorError, number: int, total: int, created: int) -> ConnectorError:
    """The same error, saying how many records earlier chunks created."""
    return error.replace(
        message=f"chunk {number} of {total} failed after {created} records were created in earlier chunks: "
        f"{error.message}"
    )


def _short(selection: Mapping[str, Any]) -> str:
    text = json.dumps(selection, default=str, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
