"""
The list grammar shared by work items and queues: ``{"filter", "sort", "page"}``.

- ``filter``: a leaf ``{"operator": eq|ne|lt|le|gt|ge|substring, "field", "value"}`` or
  ``{"operator": and|or, "operands": [...]}`` / ``{"operator": "not", "operands": [one]}``,
  nested freely. Missing, ``null`` or ``{}`` matches everything. A field is looked up
  among the record's top-level keys, then inside its ``json``; a record without the field
  matches no leaf. Values compare as numbers when both sides read as numbers (JSON numbers or
  numeric strings), else as text; ``substring`` is a case-sensitive text search. ``id``
  values must be numeric.
- ``sort``: ``[{"field", "direction": asc|desc}, ...]``; default ``id`` ascending. Records
  without the field sort after the others (before them when descending).
- ``page``: ``{"offset", "length"}``. ``length`` above 100 is clamped to 100; without
  ``page`` at most 200 records come back.

The answer is ``{"page": {"offset", "total", "totalFilter"}, "list": [...]}`` with
``total`` all records and ``totalFilter`` the matching ones. Malformed input → 400.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_provider_aa.emulator.responses import bad_request

MAX_PAGE_LENGTH = 100
UNPAGED_LIMIT = 200

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_LEAF_OPERATORS = {*_COMPARISONS, "substring"}
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_MISSING = object()

Record = Mapping[str, Any]


def query(records: Sequence[Record], body: Any) -> dict[str, Any]:
    """Filter, sort and page ``records`` as the list ``body`` asks."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The list request body must be a JSON object")
    condition = body.get("filter")
    if condition in (None, {}):
        condition = None
    else:
        _validate(condition, "filter")
    sort = _sort_keys(body.get("sort"))
    offset, length = _page(body.get("page"))
    matching = [record for record in records if condition is None or _matches(condition, record)]
    for field, descending in reversed(sort):
        matching.sort(key=lambda record: _sort_key(_lookup(record, field)), reverse=descending)
    return {
        "page": {"offset": offset, "total": len(records), "totalFilter": len(matching)},
        "list": matching[offset : offset + length],
    }


def _validate(node: Any, where: str) -> None:
    if not isinstance(node, dict):
        raise bad_request(f"{where} must be a JSON object")
    op = node.get("operator")
    if op in ("and", "or", "not"):
        operands = node.get("operands")
        if not isinstance(operands, list) or not operands:
            raise bad_request(f"{where}: '{op}' needs a non-empty list of operands")
        if op == "not" and len(operands) != 1:
            raise bad_request(f"{where}: 'not' takes exactly one operand")
        for index, operand in enumerate(operands):
            _validate(operand, f"{where}.operands[{index}]")
        return
    if op not in _LEAF_OPERATORS:
        raise bad_request(f"{where}: unknown operator {op!r}")
    field = node.get("field")
    if not isinstance(field, str) or not field:
        raise bad_request(f"{where}: '{op}' needs a field name")
    if "value" not in node or isinstance(node["value"], (dict, list)) or node["value"] is None:
        raise bad_request(f"{where}: '{op}' on {field!r} needs a text or number value")
    if field == "id" and op != "substring" and _as_number(node["value"]) is None:
        raise bad_request(f"{where}: id values must be numbers, not {node['value']!r}")


def _matches(node: dict[str, Any], record: Record) -> bool:
    op = node["operator"]
    if op == "and":
        return all(_matches(operand, record) for operand in node["operands"])
    if op == "or":
        return any(_matches(operand, record) for operand in node["operands"])
    if op == "not":
        return not _matches(node["operands"][0], record)
    actual = _lookup(record, node["field"])
    if actual is _MISSING:
        return False
    expected = node["value"]
    if op == "substring":
        return _as_text(expected) in _as_text(actual)
    left, right = _as_number(actual), _as_number(expected)
    if left is None or right is None:
        return _COMPARISONS[op](_as_text(actual), _as_text(expected))
    return _COMPARISONS[op](left, right)


def _lookup(record: Record, field: str) -> Any:
    if field in record and field != "json":
        value = record[field]
    else:
        data = record.get("json")
        value = data.get(field, _MISSING) if isinstance(data, dict) else _MISSING
    return _MISSING if value is None else value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is _MISSING:
        return (2, 0.0, "")
    number = _as_number(value)
    return (0, number, "") if number is not None else (1, 0.0, _as_text(value))


def _sort_keys(sort: Any) -> list[tuple[str, bool]]:
    if sort in (None, []):
        return [("id", False)]
    if not isinstance(sort, list):
        raise bad_request("sort must be a list of {field, direction}")
    keys = []
    for index, entry in enumerate(sort):
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str) or not entry["field"]:
            raise bad_request(f"sort[{index}] needs a field name")
        direction = str(entry.get("direction", "asc")).lower()
        if direction not in ("asc", "desc"):
            raise bad_request(f"sort[{index}]: direction must be asc or desc, not {entry.get('direction')!r}")
        keys.append((entry["field"], direction == "desc"))
    return keys


def _page(page: Any) -> tuple[int, int]:
    if page is None:
        return 0, UNPAGED_LIMIT
    if not isinstance(page, dict):
        raise bad_request("page must be an object {offset, length}")
    offset, length = page.get("offset", 0), page.get("length", MAX_PAGE_LENGTH)
    for name, value in (("offset", offset), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad_request(f"page.{name} must be a whole number >= 0, not {value!r}")
    return offset, min(length, MAX_PAGE_LENGTH)
