"""The Robostack aggregation pipeline, as the sandbox runs it.

Robostack documents only that aggregations use "an aggregation pipeline" whose stage order matters
and follows MongoDB's naming. The sandbox runs this MongoDB subset, strictly: anything else is a
``PipelineError`` whose message names the stage and the problem (the API answers it with HTTP 400).

Stages: ``$match``, ``$group`` (accumulators ``$sum`` ``$avg`` ``$min`` ``$max`` ``$count`` ``$first``
``$last`` ``$push``), ``$sort``, ``$limit``, ``$skip``, ``$project``, ``$count``.
``$match`` takes exact values and the comparison operators ``$eq`` ``$ne`` ``$gt`` ``$gte`` ``$lt``
``$lte`` ``$in`` ``$nin`` ``$exists``, and ``$and`` / ``$or`` of such conditions.
Expressions (in ``$group`` and ``$project``): ``"$field"`` (dotted paths reach into objects), literals,
``{"$literal": value}``, ``$add`` ``$subtract`` ``$multiply`` ``$divide`` and objects of expressions.

mongomock was considered and not used: it lacks the ``$count`` accumulator and answers many malformed
stages with ``TypeError`` / ``KeyError`` or silently, where the sandbox must say what is wrong.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

STAGES = ("$match", "$group", "$sort", "$limit", "$skip", "$project", "$count")
ACCUMULATORS = ("$sum", "$avg", "$min", "$max", "$count", "$first", "$last", "$push")
_COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")
_ARITHMETIC = ("$add", "$subtract", "$multiply", "$divide")
_MISSING = object()


class PipelineError(ValueError):
    """A malformed pipeline; the message is meant for the API caller."""


def run_pipeline(records: list[dict[str, Any]], pipeline: Any) -> list[dict[str, Any]]:
    """Run ``pipeline`` over copies of ``records`` and return the resulting documents."""
    if not isinstance(pipeline, list):
        raise PipelineError(f"The pipeline must be a list of stages, got {_kind(pipeline)}.")
    docs = [copy.deepcopy(record) for record in records]
    for index, stage in enumerate(pipeline):
        where = f"stage {index + 1}"
        if not isinstance(stage, dict) or len(stage) != 1:
            raise PipelineError(
                f"{where}: a stage must be an object with exactly one key such as "
                f'{{"$match": {{...}}}}, got {_short(stage)}.'
            )
        name, spec = next(iter(stage.items()))
        handler = _HANDLERS.get(name)
        if handler is None:
            raise PipelineError(f"{where}: unknown stage {name!r}; supported stages: {', '.join(STAGES)}.")
        docs = handler(docs, spec, f"{where} ({name})")
    return docs


# -- stages -------------------------------------------------------------------------------------


def _match(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(spec, dict):
        raise PipelineError(f"{where}: expects an object of field conditions, got {_kind(spec)}.")
    test = _condition(spec, where)
    return [doc for doc in docs if test(doc)]


def _group(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(spec, dict) or "_id" not in spec:
        raise PipelineError(
            f"{where}: expects an object with an '_id' group key (null groups everything), "
            f'e.g. {{"_id": "$status", "total": {{"$sum": "$amount"}}}}.'
        )
    key_expr = _compile(spec["_id"], f"{where} _id")
    fields: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = []
    for name, accumulator in spec.items():
        if name == "_id":
            continue
        if "." in name or name.startswith("$"):
            raise PipelineError(f"{where}: output field name {name!r} may not contain '.' or start with '$'.")
        if not isinstance(accumulator, dict) or len(accumulator) != 1:
            raise PipelineError(
                f"{where}: field {name!r} needs one accumulator such as "
                f'{{"$sum": "$amount"}}; '
                f"supported: {', '.join(ACCUMULATORS)}."
            )
        operator, argument = next(iter(accumulator.items()))
        if operator not in ACCUMULATORS:
            raise PipelineError(
                f"{where}: field {name!r} uses unknown accumulator {operator!r}; supported: {', '.join(ACCUMULATORS)}."
            )
        if operator == "$count":
            if argument != {}:
                raise PipelineError(f'{where}: field {name!r}: $count takes an empty object: {{"$count": {{}}}}.')
            operator, argument = "$sum", 1
        fields.append((name, operator, _compile(argument, f"{where} {name}")))
    groups: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for doc in docs:
        key = key_expr(doc)
        key = None if key is _MISSING else key
        groups.setdefault(_hashable(key), (key, []))[1].append(doc)
    result = []
    for key, members in groups.values():
        out: dict[str, Any] = {"_id": key}
        for name, operator, expr in fields:
            out[name] = _accumulate(operator, [expr(doc) for doc in members])
        result.append(out)
    return result


def _accumulate(operator: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not _MISSING]
    if operator == "$push":
        return present
    if operator == "$first":
        return present[0] if present else None
    if operator == "$last":
        return present[-1] if present else None
    numbers = [v for v in present if _is_number(v)]
    if operator == "$sum":
        return sum(numbers)
    if operator == "$avg":
        return sum(numbers) / len(numbers) if numbers else None
    comparable = [v for v in present if v is not None]
    if not comparable:
        return None
    pick = min if operator == "$min" else max
    return pick(comparable, key=_sort_key)


def _sort(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(spec, dict) or not spec:
        raise PipelineError(f"{where}: expects a non-empty object of field: 1 (ascending) or -1 (descending).")
    for field, direction in spec.items():
        if direction not in (1, -1) or isinstance(direction, bool):
            raise PipelineError(f"{where}: direction of {field!r} must be 1 or -1, got {_short(direction)}.")
    ordered = list(docs)
    # Stable sorts applied from the last key to the first give a multi-key sort.
    for field, direction in reversed(list(spec.items())):
        ordered.sort(key=_field_sort_key(field), reverse=direction == -1)
    return ordered


def _limit(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not _is_int(spec) or spec <= 0:
        raise PipelineError(f"{where}: expects a positive whole number, got {_short(spec)}.")
    return docs[:spec]


def _skip(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not _is_int(spec) or spec < 0:
        raise PipelineError(f"{where}: expects a whole number of 0 or more, got {_short(spec)}.")
    return docs[spec:]


def _project(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(spec, dict) or not spec:
        raise PipelineError(f'{where}: expects a non-empty object such as {{"order_number": 1, "_id": 0}}.')
    include: list[str] = []
    exclude: list[str] = []
    computed: dict[str, Callable[[dict[str, Any]], Any]] = {}
    for field, value in spec.items():
        if not isinstance(field, str) or not field or field.startswith("$"):
            raise PipelineError(f"{where}: invalid field name {field!r}.")
        if isinstance(value, bool) or _is_number(value):
            (include if value else exclude).append(field)
        else:
            computed[field] = _compile(value, f"{where} {field}")
    excluded_fields = [f for f in exclude if f != "_id"]
    if excluded_fields and (include or computed):
        raise PipelineError(
            f"{where}: cannot mix excluding {excluded_fields[0]!r} with including or "
            f"computing fields (only _id may be excluded in an inclusion projection)."
        )
    result = []
    for doc in docs:
        if excluded_fields or (not include and not computed):
            out = {k: v for k, v in doc.items() if k not in exclude}
            for field in exclude:
                _delete(out, field)
        else:
            out = {}
            if "_id" in doc and "_id" not in exclude:
                out["_id"] = doc["_id"]
            for field in include:
                value = _get(doc, field)
                if value is not _MISSING:
                    _set(out, field, value)
            for field, expr in computed.items():
                value = expr(doc)
                _set(out, field, None if value is _MISSING else value)
        result.append(out)
    return result


def _count(docs: list[dict[str, Any]], spec: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(spec, str) or not spec or spec.startswith("$") or "." in spec:
        raise PipelineError(f'{where}: expects the name of the output field, such as "total".')
    # As in MongoDB, counting no documents yields no document at all.
    return [{spec: len(docs)}] if docs else []


_HANDLERS: dict[str, Callable[[list[dict[str, Any]], Any, str], list[dict[str, Any]]]] = {
    "$match": _match,
    "$group": _group,
    "$sort": _sort,
    "$limit": _limit,
    "$skip": _skip,
    "$project": _project,
    "$count": _count,
}


# -- conditions ($match) ------------------------------------------------------------------------


def _condition(spec: dict[str, Any], where: str) -> Callable[[dict[str, Any]], bool]:
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for field, expected in spec.items():
        if field in ("$and", "$or"):
            if not (isinstance(expected, list) and expected and all(isinstance(c, dict) for c in expected)):
                raise PipelineError(f"{where}: {field} expects a non-empty list of condition objects.")
            parts = [_condition(c, where) for c in expected]
            tests.append(_combine(all if field == "$and" else any, parts))
        elif field.startswith("$"):
            raise PipelineError(f"{where}: unknown top-level operator {field!r}; use field conditions, $and or $or.")
        elif isinstance(expected, dict) and expected and all(str(k).startswith("$") for k in expected):
            tests.append(_operators(field, expected, where))
        else:
            tests.append(_equals(field, expected))
    return lambda doc: all(test(doc) for test in tests)


def _combine(
    how: Callable[[Any], bool], parts: list[Callable[[dict[str, Any]], bool]]
) -> Callable[[dict[str, Any]], bool]:
    return lambda doc: how(part(doc) for part in parts)


def _equals(field: str, expected: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda doc: _equal(_get(doc, field), expected)


def _field_sort_key(field: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda doc: _sort_key(_get(doc, field))


def _operators(field: str, ops: dict[str, Any], where: str) -> Callable[[dict[str, Any]], bool]:
    for op, argument in ops.items():
        if op not in _COMPARISONS:
            raise PipelineError(f"{where}: unknown operator {op!r} on {field!r}; supported: {', '.join(_COMPARISONS)}.")
        if op in ("$in", "$nin") and not isinstance(argument, list):
            raise PipelineError(f"{where}: {op} on {field!r} expects a list of values.")

    def test(doc: dict[str, Any]) -> bool:
        value = _get(doc, field)
        for op, argument in ops.items():
            if op == "$exists":
                if (value is not _MISSING) != bool(argument):
                    return False
            elif op == "$eq":
                if not _equal(value, argument):
                    return False
            elif op == "$ne":
                if _equal(value, argument):
                    return False
            elif op == "$in":
                if not any(_equal(value, a) for a in argument):
                    return False
            elif op == "$nin":
                if any(_equal(value, a) for a in argument):
                    return False
            elif not _compare(value, op, argument):
                return False
        return True

    return test


def _compare(value: Any, op: str, argument: Any) -> bool:
    # Like MongoDB: ordering comparisons only hold between values of the same kind.
    if value is _MISSING or value is None or argument is None:
        return False
    if _sort_key(value)[0] != _sort_key(argument)[0]:
        return False
    if op == "$gt":
        return bool(value > argument)
    if op == "$gte":
        return bool(value >= argument)
    if op == "$lt":
        return bool(value < argument)
    return bool(value <= argument)


def _equal(value: Any, expected: Any) -> bool:
    if value is _MISSING:
        return expected is None
    # True == 1 in Python, not in JSON.
    if isinstance(value, bool) != isinstance(expected, bool):
        return False
    return bool(value == expected)


# -- expressions --------------------------------------------------------------------------------


def _compile(expr: Any, where: str) -> Callable[[dict[str, Any]], Any]:
    if isinstance(expr, str) and expr.startswith("$"):
        path = expr[1:]
        if not path or path.startswith("$"):
            raise PipelineError(f'{where}: {expr!r} is not a field path; write "$field".')
        return lambda doc: _get(doc, path)
    if isinstance(expr, list):
        items = [_compile(item, where) for item in expr]
        return lambda doc: [_none(item(doc)) for item in items]
    if isinstance(expr, dict):
        operators = [k for k in expr if str(k).startswith("$")]
        if not operators:
            fields = {name: _compile(value, where) for name, value in expr.items()}
            return lambda doc: {name: _none(item(doc)) for name, item in fields.items()}
        if len(expr) != 1:
            raise PipelineError(f"{where}: an operator expression must have exactly one key, got {_short(expr)}.")
        op, argument = next(iter(expr.items()))
        if op == "$literal":
            return lambda doc: argument
        if op in _ARITHMETIC:
            return _arithmetic(op, argument, where)
        raise PipelineError(
            f"{where}: unknown expression operator {op!r}; supported: $literal, {', '.join(_ARITHMETIC)}."
        )
    return lambda doc: expr


def _arithmetic(op: str, argument: Any, where: str) -> Callable[[dict[str, Any]], Any]:
    binary = op in ("$subtract", "$divide")
    if not isinstance(argument, list) or len(argument) < 2 or (binary and len(argument) != 2):
        count = "exactly 2" if binary else "2 or more"
        raise PipelineError(f"{where}: {op} expects a list of {count} expressions.")
    parts = [_compile(item, where) for item in argument]

    def evaluate(doc: dict[str, Any]) -> Any:
        values = [part(doc) for part in parts]
        if any(v is _MISSING or v is None for v in values):
            return None
        if not all(_is_number(v) for v in values):
            got = ", ".join(_short(v) for v in values)
            raise PipelineError(f"{where}: {op} only works on numbers, got {got}.")
        if op == "$add":
            return sum(values)
        if op == "$subtract":
            return values[0] - values[1]
        if op == "$multiply":
            product = 1
            for v in values:
                product *= v
            return product
        if values[1] == 0:
            raise PipelineError(f"{where}: $divide by zero.")
        return values[0] / values[1]

    return evaluate


# -- helpers ------------------------------------------------------------------------------------


def _get(doc: Any, path: str) -> Any:
    value = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value


def _delete(doc: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.get(part)  # type: ignore[assignment]
        if not isinstance(doc, dict):
            return
    doc.pop(parts[-1], None)


def _none(value: Any) -> Any:
    return None if value is _MISSING else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sort_key(value: Any) -> tuple[int, Any]:
    """MongoDB's order of kinds: missing/null < numbers < strings < objects < arrays < booleans."""
    if value is _MISSING or value is None:
        return (0, 0)
    if _is_number(value):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict):
        return (3, repr(sorted(value.items(), key=lambda kv: kv[0])))
    if isinstance(value, list):
        return (4, repr(value))
    if isinstance(value, bool):
        return (5, value)
    return (6, repr(value))


def _hashable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number" if _is_number(value) else type(value).__name__
    )


def _short(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
