"""``RobostackClient``: records of a Robostack application over its REST API.

The public documentation covers the URLs, the headers and the request bodies; response shapes, error
bodies and rate limits are not documented, so answers are read tolerantly (see ``_records``) and the
client throttles at a conservative rate of its own. Three rules keep data safe:

- ``PUT`` creates records, so it is never repeated after an answer was lost: the call fails with
  ``UncertainOutcome`` saying how to check. Refused 429/503 answers are repeated (nothing was written).
- An update or delete whose selection is empty matches every record: refused unless ``allow_all``.
- Find and aggregation are POSTs that only read, so they are repeated like GETs; update and delete
  by selection set values / remove matches, so sending them again has the same effect and they are
  repeated too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import requests

from Connectors.core.config import Credential
from Connectors.core.errors import ConfigurationError, ConnectorError, NotFound, ValidationError
from Connectors.core.paths import build
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import CommonSettings
from Connectors.vendors.base import BaseClient, settings_of
from Connectors.vendors.robostack.profile import DEFAULT_CHUNK_SIZE, ROBOSTACK

if TYPE_CHECKING:
    from typing_extensions import Unpack


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
        *,
        url: str | None = None,
        chunk_size: int | str | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        **common: Unpack[CommonSettings],
    ) -> None:
        super().__init__(settings_of(locals()), session=session, retry=retry)
        self.app_uuid = self.settings.require("app_uuid")
        self.chunk_size = _positive(self.settings.get("chunk_size"), DEFAULT_CHUNK_SIZE, "chunk_size")

    # -- paths --------------------------------------------------------------------------------
    def resource_path(self, resource: str) -> str:
        # The documented base ends with a slash: external/api/{appUUID}/{resourceName}/
        return build("external", "api", (self.app_uuid, "app_uuid"), (resource, "resource")) + "/"

    # -- reading --------------------------------------------------------------------------------
    def find(self, resource: str, selection: Selection | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Records whose fields equal every value of ``selection`` (and ``fields``); none given: all."""
        merged = _merge_selection(selection, fields)
        body: dict[str, Any] = {"selection": merged} if merged else {}
        return _records(self.transport.request_json("POST", self.resource_path(resource), json=body, idempotent=True))

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
        stages = _pipeline(pipeline)
        return _records(
            self.transport.request_json(
                "POST", self.resource_path(resource) + "aggregation", json={"pipeline": stages}, idempotent=True
            )
        )

    # -- writing --------------------------------------------------------------------------------
    def create(self, resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Create one record and return it as Robostack stored it (with its ``id`` when answered)."""
        fields = _record(record, "The record")
        created = self._put(resource, fields, 1)
        return created[0] if created else dict(fields)

    def create_many(
        self, resource: str, records: Iterable[Mapping[str, Any]], chunk_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Create records in chunks of ``chunk_size`` (one PUT each); returns the created records."""
        items = [_record(r, f"Record {i + 1}") for i, r in enumerate(records)]
        size = _positive(chunk_size, self.chunk_size, "chunk_size")
        created: list[dict[str, Any]] = []
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        for number, chunk in enumerate(chunks, start=1):
            try:
                answer = self._put(resource, chunk, len(chunk))
            except ConnectorError as error:
                if number == 1:
                    raise
                raise _partial(error, number, len(chunks), len(created)) from error
            created.extend(answer or [dict(r) for r in chunk])
        return created

    def _put(self, resource: str, body: Any, count: int) -> list[dict[str, Any]]:
        what = "record" if count == 1 else f"{count} records"
        check = (
            f"The {what} may or may not have been created in {resource!r}: before creating again, "
            f"check with Find Robostack Records (RobostackClient.find) on a field that identifies "
            f"each record, e.g. its order number."
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

        Returns ``{"matched": n, "modified": n, "results": [...]}`` as far as Robostack answers them.
        """
        paired, selections = self._selections(selection)
        if paired != _is_list(updation):
            raise ValidationError(
                "Selection and updation must both be single dictionaries or both be lists.",
                vendor=self.vendor,
                hint="Pair each selection with its updation by position.",
            )
        items: list[Any] = list(updation) if paired else [updation]  # type: ignore[arg-type]
        updations = [_record(u, f"Updation {i + 1}" if paired else "The updation") for i, u in enumerate(items)]
        if len(selections) != len(updations) or not selections:
            raise ValidationError(
                f"Got {len(selections)} selections and {len(updations)} updations; they are paired by position.",
                vendor=self.vendor,
                hint="Give one updation for each selection (and at least one).",
            )
        self._guard(selections, "update", resource, allow_all)
        body = (
            {"selection": selections, "updation": updations}
            if paired
            else {"selection": selections[0], "updation": updations[0]}
        )
        return _summary(self.transport.request_json("PATCH", self.resource_path(resource), json=body, idempotent=True))

    def delete(
        self, resource: str, selection: Selection | Sequence[Selection] | None, *, allow_all: bool = False
    ) -> dict[str, Any]:
        """Delete the records matching ``selection`` (or any of a list of selections).

        Returns ``{"matched": n, "deleted": n}`` as far as Robostack answers them.
        """
        paired, selections = self._selections(selection)
        self._guard(selections, "delete", resource, allow_all)
        body = {"selection": selections if paired else selections[0]}
        return _summary(self.transport.request_json("DELETE", self.resource_path(resource), json=body, idempotent=True))

    def _selections(self, selection: Any) -> tuple[bool, list[dict[str, Any]]]:
        """(given as a list?, the selections as dictionaries); ``None`` is the empty selection."""
        listed = _is_list(selection)
        items = list(selection) if listed else [selection]
        result = []
        for index, item in enumerate(items):
            if item is not None and not isinstance(item, Mapping):
                where = f"Selection {index + 1}" if listed else "The selection"
                raise ValidationError(
                    f"{where} is {type(item).__name__}, not a dictionary.",
                    vendor=self.vendor,
                    hint="Give each selection as field: value pairs.",
                )
            result.append(dict(item or {}))
        return listed, result

    def _guard(self, selections: list[dict[str, Any]], action: str, resource: str, allow_all: bool) -> None:
        """Refuse a selection that matches every record, unless the caller says so."""
        if allow_all or (selections and all(selections)):
            return
        what = "an empty selection" if len(selections) <= 1 else "a list containing an empty selection"
        raise ValidationError(
            f"Refusing to {action} with {what}: it would {action} every record of {resource!r}.",
            vendor=self.vendor,
            hint=f"Give field values to match, or pass allow_all=True to {action} all records on purpose.",
        )


# -- helpers ----------------------------------------------------------------------------------------


def _merge_selection(selection: Selection | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    if selection is not None and not isinstance(selection, Mapping):
        raise ValidationError(
            f"The selection must be a dictionary of field values, got {type(selection).__name__}.",
            vendor="Robostack",
            hint="Write it as field=value pairs or a dictionary.",
        )
    merged = dict(selection or {})
    merged.update(fields)
    return merged


def _record(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError(
            f"{what} must be a non-empty dictionary of field values, got "
            f"{type(value).__name__ if value is not None else 'nothing'}.",
            vendor="Robostack",
            hint="Give field: value pairs.",
        )
    return dict(value)


def _record_id(value: Any) -> Any:
    # Robostack ids are numbers; "7" from a robot or a CSV means 7.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _pipeline(pipeline: Any) -> list[dict[str, Any]]:
    if isinstance(pipeline, Mapping):
        # {"pipeline": [...]} as sent, or one stage such as {"$match": {...}}.
        pipeline = pipeline["pipeline"] if set(pipeline) == {"pipeline"} else [pipeline]
    if isinstance(pipeline, (str, bytes)) or not isinstance(pipeline, Sequence):
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
        stages.append(dict(stage))
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
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ConfigurationError(
            f"{name} must be a positive whole number, got {value!r}.", hint=f"Use e.g. {DEFAULT_CHUNK_SIZE}."
        )
    return number


def _partial(error: ConnectorError, number: int, total: int, created: int) -> ConnectorError:
    """The same error, saying how many records earlier chunks created."""
    return error.replace(
        message=f"chunk {number} of {total} failed after {created} records were created in earlier chunks: "
        f"{error.message}"
    )


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, Mapping))
