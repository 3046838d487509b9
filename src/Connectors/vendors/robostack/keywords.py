"""Keyword components of ``Library    Connectors.Robostack``: thin wrappers over ``RobostackClient``."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword

from Connectors.core import arguments, log
from Connectors.core.errors import ValidationError
from Connectors.library import DEFAULT_LIST_LIMIT, KeywordComponent, collect
from Connectors.vendors.robostack.client import RobostackClient

Component = KeywordComponent[RobostackClient]


class RecordKeywords(Component):
    @keyword(tags=["robostack", "read", "records"])
    def find_robostack_records(
        self,
        resource: str,
        selection: dict[str, Any] | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
        **fields: Any,
    ) -> list[dict[str, Any]]:
        """Returns the records of ``resource`` whose fields equal every given value (exact-match AND).

        The selection is a dictionary, named arguments, or both (named arguments win). Without one,
        every record is returned (at most ``limit``, default 1000; ``0`` = all). Named-argument values are
        strings: write numbers as ``${10000}``. Robostack's find has no paging; use
        `Aggregate Robostack Records` with ``$skip`` / ``$limit`` to read a large resource in pages.

        Example:
        | ${pending} = | Find Robostack Records | orders | status=pending | quantity=${10000} |
        | ${selection} = | Create Dictionary | status=pending |
        | ${pending} = | Find Robostack Records | orders | ${selection} |
        | ${all} = | Find Robostack Records | orders |
        """
        count = arguments.limit(limit)
        records = self.client.find(resource, selection, **fields)
        log.info(f"Found {len(records)} record(s) in {resource}.")
        return collect(records, count, "records")

    @keyword(tags=["robostack", "read", "records"])
    def get_robostack_record(self, resource: str, record_id: int | str) -> dict[str, Any]:
        """Returns the record of ``resource`` with id ``record_id``; fails when there is none.

        Example:
        | ${order} = | Get Robostack Record | orders | 1 |
        | Should Be Equal | ${order}[status] | pending |
        """
        return self.client.get(resource, record_id)

    @keyword(tags=["robostack", "read", "records"])
    def count_robostack_records(self, resource: str, selection: dict[str, Any] | None = None, **fields: Any) -> int:
        """Returns how many records of ``resource`` match the selection (all records without one).

        Example:
        | ${count} = | Count Robostack Records | orders | status=pending |
        | Should Be Equal As Integers | ${count} | 5 |
        """
        return self.client.count(resource, selection, **fields)

    @keyword(tags=["robostack", "write", "records"])
    def create_robostack_record(
        self, resource: str, record: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Creates one record from a dictionary and/or named arguments; returns it with its ``id``.

        Creation is not idempotent: after a timeout or a dropped connection the keyword fails
        saying the record may or may not exist, and is not sent again by itself. Calling it again with
        the same record in the same robot first looks for the record the failed attempt may have
        created (a find on the record's own fields) and returns it instead of creating a duplicate;
        see `Safety`. A second identical create after a success creates a second record.

        Example:
        | ${order} = | Create Robostack Record | orders | order_number=PO-2024-0100 | status=pending |
        | Log | created order ${order}[id] |
        | ${order} = | Wait Until Keyword Succeeds | 3x | 2s | Create Robostack Record | orders | order_number=PO-7 |
        """
        created = self.client.create(resource, arguments.merged(record, fields, "record"))
        log.info(f"Created record {created.get('id', '(id not returned)')} in {resource}.")
        return created

    @keyword(tags=["robostack", "write", "records"])
    def create_robostack_records(
        self, resource: str, records: list[dict[str, Any]], chunk_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Creates a list of records, ``chunk_size`` per request; returns the created records.

        ``chunk_size`` defaults to the connection's (100 unless set). When a chunk fails, the
        message says how many records earlier chunks created. Calling the keyword again with the same
        records (e.g. inside ``Wait Until Keyword Succeeds``) creates only the records the failed call
        did not create; see `Safety`.

        Example:
        | ${first} = | Create Dictionary | fieldName=Field Value 1 |
        | ${second} = | Create Dictionary | fieldName=Field Value 2 |
        | ${records} = | Create List | ${first} | ${second} |
        | ${created} = | Create Robostack Records | samples | ${records} | chunk_size=50 |
        """
        created = self.client.create_many(resource, records, chunk_size)
        log.info(f"Created {len(created)} record(s) in {resource}.")
        return created

    @keyword(tags=["robostack", "write", "records"])
    def update_robostack_records(
        self,
        resource: str,
        selection: dict[str, Any] | list[dict[str, Any]] | None,
        updation: dict[str, Any] | list[dict[str, Any]] | None = None,
        allow_all: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Sets new field values on the records that match ``selection``; returns a summary.

        ``updation`` is a dictionary, or named arguments. With a list of selections and a list of
        updations of the same length, each selection gets the updation at the same position.
        A selection that could match every record (empty, ``$and: []``, only ``$exists``, ``$ne``,
        ``$gt``, ``$regex`` and other operators that pin no field to a value; see `Safety`) is refused
        unless ``allow_all=True``. Returns ``matched``, ``modified`` and the updated ``results`` as far
        as Robostack reports them.

        Example:
        | ${selection} = | Create Dictionary | order_number=PO-2024-0001 |
        | ${summary} = | Update Robostack Records | orders | ${selection} | status=invoiced |
        | ${everything} = | Create Dictionary |
        | Update Robostack Records | orders | ${everything} | archived=${True} | allow_all=${True} |
        """
        if fields and arguments.is_list(updation):
            raise ValidationError(
                "Named field values cannot be combined with a list of updations.",
                vendor="Robostack",
                hint="Put every value into the updation dictionaries.",
            )
        changes: Any = updation if arguments.is_list(updation) else arguments.merged(updation, fields, "updation")
        summary = self.client.update(resource, selection, changes, allow_all=allow_all)
        log.info(f"Updated {resource}: {_counts(summary)}.")
        return summary

    @keyword(tags=["robostack", "write", "records"])
    def delete_robostack_records(
        self, resource: str, selection: dict[str, Any] | list[dict[str, Any]] | None, allow_all: bool = False
    ) -> dict[str, Any]:
        """Deletes the records that match ``selection`` (or any selection of a list); returns a summary.

        A selection that could match every record (empty, ``$or: []``, only ``$exists``, ``$ne``,
        ``$nor``, ``$lt``, ``$regex`` and other operators that pin no field to a value; see `Safety`) is
        refused unless ``allow_all=True``.

        Example:
        | ${selection} = | Create Dictionary | status=cancelled |
        | ${summary} = | Delete Robostack Records | orders | ${selection} |
        | Log | deleted ${summary}[deleted] |
        """
        summary = self.client.delete(resource, selection, allow_all=allow_all)
        log.info(f"Deleted from {resource}: {_counts(summary)}.")
        return summary

    @keyword(tags=["robostack", "read", "records"])
    def aggregate_robostack_records(
        self, resource: str, *stages: list[dict[str, Any]] | dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Runs an aggregation pipeline on ``resource`` and returns the resulting documents.

        Give the pipeline as one list of stages, or the stages as separate arguments. Stages follow
        MongoDB's: ``$match``, ``$group`` (``$sum`` ``$avg`` ``$min`` ``$max`` ``$count`` ...),
        ``$sort``, ``$limit``, ``$skip``, ``$project`` and ``$count``. Order matters.

        Example:
        | ${match} = | Evaluate | {"$match": {"status": "pending"}} |
        | ${group} = | Evaluate | {"$group": {"_id": "$supplier_id", "total": {"$sum": "$amount"}}} |
        | ${pipeline} = | Create List | ${match} | ${group} |
        | ${totals} = | Aggregate Robostack Records | orders | ${pipeline} |
        | ${count} = | Evaluate | {"$count": "pending"} |
        | ${result} = | Aggregate Robostack Records | orders | ${match} | ${count} |
        """
        pipeline: list[Any] = []
        for stage in stages:
            if isinstance(stage, list):
                pipeline.extend(stage)
            else:
                pipeline.append(stage)
        results = self.client.aggregate(resource, pipeline)
        log.info(f"The aggregation on {resource} returned {len(results)} document(s).")
        return results


def _counts(summary: dict[str, Any]) -> str:
    parts = [f"{name} {summary[name]}" for name in ("matched", "modified", "deleted") if name in summary]
    return ", ".join(parts) or f"{len(summary.get('results') or [])} record(s) returned"
