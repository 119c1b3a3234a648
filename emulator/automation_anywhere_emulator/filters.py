"""
The list grammar shared by work items and queues: ``{"filter", "sort", "page"}``.

- ``filter``: a leaf ``{"operator": eq|ne|lt|le|gt|ge|substring, "field", "value"}`` or
  ``{"operator": and|or, "operands": [...]}`` / ``{"operator": "not", "operands": [one]}``,
  nested freely. Missing, ``null`` or ``{}`` matches everything. A field is looked up
  among the record's top-level keys, then inside its ``json``; a record without the field
  matches no leaf. Values compare as numbers when both sides read as numbers (JSON numbers or
  numeric strings), as instants when both read as ISO 8601 date-times with a zone
  (``2026-11-30T00:00:00Z``, ``...T00:00:00.123456789Z``, ``...+01:00``: time filters, e.g.
  ``ge``/``lt`` on ``updatedOn``), else as text; ``substring`` is a case-sensitive text search. ``id``
  values must be numeric. At most :data:`MAX_FILTER_DEPTH` levels of ``operands``; a number
  value beyond what a float holds → 400.
- ``sort``: ``[{"field", "direction": asc|desc}, ...]``; default ``id`` ascending. Records
  without the field sort after the others (before them when descending).
- ``page``: ``{"offset", "length"}``, whole numbers from 0 to 10**9. ``length`` above 100
  is clamped to 100; without ``page`` at most 200 records come back. A server with
  ``page_cap`` returns at most that many whatever was asked; one with ``ignore_offset``
  answers as if ``offset`` were 0, one with ``ignore_filter`` as if there were no ``filter``,
  one with ``refuse_time_filters`` answers a filter on a field of :data:`TIME_FIELDS` with a
  400 (settings of :class:`.config.EmulatorConfig`).

The answer is ``{"page": {"offset", "total", "totalFilter"}, "list": [...]}`` with
``total`` all records and ``totalFilter`` the matching ones. Malformed input → 400.

:func:`query` does it all on a list of records; :func:`parse`, :func:`matches`,
:func:`sort_key` and :func:`ids_asked` let a caller with an index do the same faster
(:mod:`.item_lists`).
"""

from __future__ import annotations

import bisect
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automation_anywhere_emulator.responses import bad_request

MAX_PAGE_LENGTH = 100
UNPAGED_LIMIT = 200
#: Largest ``page.offset`` and ``page.length`` accepted.
MAX_PAGE_NUMBER = 10**9
#: Deepest nesting of ``operands`` (the checks and matching recurse once per level).
MAX_FILTER_DEPTH = 64
#: Most ``eq id`` operands of a filter answered from an index by id (:func:`ids_asked`).
MAX_INDEXED_IDS = 100
#: Ids from here on are not all distinct as floats, which is how the grammar compares them.
EXACT_FLOAT_IDS = 2**53
#: The records' time fields, which a server with ``refuse_time_filters`` does not filter on.
TIME_FIELDS = frozenset(
    {"createdOn", "updatedOn", "modifiedOn", "startDateTime", "endDateTime", "startTime", "endTime", "deferredUntil"}
)

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
_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})")
_MISSING = object()

Record = Mapping[str, Any]


@dataclass(frozen=True)
class ListQuery:
    """A checked list request: ``condition`` (``None``: everything), ``sort`` keys, the page."""

    condition: dict[str, Any] | None
    sort: list[tuple[str, bool]]  # (field, descending), the first key first
    offset: int
    length: int

    def answer(self, page: list[Any], total: int, total_filter: int) -> dict[str, Any]:
        return {"page": {"offset": self.offset, "total": total, "totalFilter": total_filter}, "list": page}


def parse(
    body: Any,
    *,
    page_cap: int | None = None,
    ignore_offset: bool = False,
    ignore_filter: bool = False,
    refuse_time_filters: bool = False,
) -> ListQuery:
    """
    Check a list ``body`` (400 when malformed); ``page_cap``, ``ignore_offset``,
    ``ignore_filter``, ``refuse_time_filters``: the server's quirks.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The list request body must be a JSON object")
    condition = body.get("filter")
    if condition in (None, {}):
        condition = None
    else:
        _validate(condition, "filter", 0)
        if refuse_time_filters:
            _refuse_time_fields(condition)
    sort = _sort_keys(body.get("sort"))
    offset, length = _page(body.get("page"))
    if page_cap is not None:
        length = min(length, page_cap)
    return ListQuery(None if ignore_filter else condition, sort, 0 if ignore_offset else offset, length)


def query(
    records: Sequence[Record],
    body: Any,
    *,
    page_cap: int | None = None,
    ignore_offset: bool = False,
    ignore_filter: bool = False,
    refuse_time_filters: bool = False,
) -> dict[str, Any]:
    """Filter, sort and page ``records`` as the list ``body`` asks."""
    request = parse(
        body,
        page_cap=page_cap,
        ignore_offset=ignore_offset,
        ignore_filter=ignore_filter,
        refuse_time_filters=refuse_time_filters,
    )
    return query_parsed(records, request)


def query_parsed(records: Sequence[Record], request: ListQuery) -> dict[str, Any]:
    """Filter, sort and page ``records`` as the checked ``request`` asks."""
    condition = request.condition
    matching = [record for record in records if condition is None or matches(condition, record)]
    for field, descending in reversed(request.sort):
        matching.sort(key=lambda record: sort_key(record, field), reverse=descending)
    page = matching[request.offset : request.offset + request.length]
    return request.answer(page, len(records), len(matching))


def ids_asked(condition: dict[str, Any] | None) -> list[int] | None:
    """
    The ids a checked filter asks for when it is one ``eq`` on ``id`` or an ``or`` of at most
    :data:`MAX_INDEXED_IDS` of them (the provider's look-ups), so that an index by id can
    answer it exactly as matching every record would; ``None`` for any other filter. A
    fractional id matches nothing and is left out.
    """
    if condition is None:
        return None
    leaves = condition["operands"] if condition["operator"] == "or" else [condition]
    if len(leaves) > MAX_INDEXED_IDS:
        return None
    ids = []
    for leaf in leaves:
        if leaf["operator"] != "eq" or leaf.get("field") != "id":
            return None
        number = _as_number(leaf["value"])  # checked: a number
        assert number is not None
        if abs(number) >= EXACT_FLOAT_IDS:
            return None  # ids that big may equal it as floats without being it: matching decides
        if number.is_integer():
            ids.append(int(number))
    return ids


def id_bound(leaf: dict[str, Any]) -> tuple[str, float] | None:
    """
    ``(operator, value)`` when the checked filter ``leaf`` is a range (``gt``, ``ge``,
    ``lt``, ``le``) on ``id`` with a number an index of integer ids can bisect exactly;
    else ``None``.
    """
    if leaf["operator"] not in ("gt", "ge", "lt", "le") or leaf.get("field") != "id":
        return None
    number = _as_number(leaf["value"])  # checked: a number
    if number is None or abs(number) >= EXACT_FLOAT_IDS:
        return None
    return leaf["operator"], number


def texts_asked(condition: dict[str, Any], field: str) -> frozenset[str] | None:
    """
    The texts a checked filter asks ``field`` to equal when it is one ``eq`` on it or an
    ``or`` of them, each value text that reads as neither a number nor an instant (so that
    it matches exactly the records whose ``field`` is that text); else ``None``.
    """
    leaves = condition["operands"] if condition["operator"] == "or" else [condition]
    texts = set()
    for leaf in leaves:
        value = leaf.get("value")
        if leaf["operator"] != "eq" or leaf.get("field") != field or not isinstance(value, str):
            return None
        if _as_number(value) is not None or instant_nanoseconds(value) is not None:
            return None
        texts.add(value)
    return frozenset(texts)


def equality_key(value: Any) -> tuple[str, Any] | None:
    """
    What ``eq`` compares of a value: two values are ``eq`` exactly when their keys are equal
    (as numbers, else as instants, else as text); ``None`` for a missing value, which
    matches nothing. An index of records by this key answers ``eq`` as matching would.
    """
    if value is None or value is _MISSING:
        return None
    number = _as_number(value)
    if number is not None:
        return ("number", number)
    moment = instant_nanoseconds(value)
    if moment is not None:
        return ("instant", moment)
    return ("text", _as_text(value))


def text_of(record: Record, field: str) -> str | None:
    """
    ``record``'s value of ``field`` as an ``eq`` against a text compares it (``None`` when
    missing): with a text that reads as neither a number nor an instant, ``eq`` holds
    exactly when this is that text (see :func:`texts_asked`).
    """
    value = _lookup(record, field)
    return None if value is _MISSING else _as_text(value)


def lookup(record: Record, field: str) -> Any:
    """``record``'s value of ``field`` as filters see it (top level, then inside ``json``); ``None`` when missing."""
    value = _lookup(record, field)
    return None if value is _MISSING else value


def _validate(node: Any, where: str, depth: int) -> None:
    if not isinstance(node, dict):
        raise bad_request(f"{where} must be a JSON object")
    op = node.get("operator")
    if op in ("and", "or", "not"):
        if depth >= MAX_FILTER_DEPTH:
            raise bad_request(f"filter: operands nested deeper than {MAX_FILTER_DEPTH} levels")
        operands = node.get("operands")
        if not isinstance(operands, list) or not operands:
            raise bad_request(f"{where}: '{op}' needs a non-empty list of operands")
        if op == "not" and len(operands) != 1:
            raise bad_request(f"{where}: 'not' takes exactly one operand")
        for index, operand in enumerate(operands):
            _validate(operand, f"{where}.operands[{index}]", depth + 1)
        return
    if op not in _LEAF_OPERATORS:
        raise bad_request(f"{where}: unknown operator {op!r}")
    field = node.get("field")
    if not isinstance(field, str) or not field:
        raise bad_request(f"{where}: '{op}' needs a field name")
    if "value" not in node or isinstance(node["value"], (dict, list)) or node["value"] is None:
        raise bad_request(f"{where}: '{op}' on {field!r} needs a text or number value")
    if type(node["value"]) is int and _as_number(node["value"]) is None:
        raise bad_request(f"{where}: the value for {field!r} is out of range")
    if field == "id" and op != "substring" and _as_number(node["value"]) is None:
        raise bad_request(f"{where}: id values must be numbers, not {node['value']!r}")


def _refuse_time_fields(node: dict[str, Any]) -> None:
    """400 naming a field of :data:`TIME_FIELDS` that the checked filter ``node`` compares, if any."""
    pending = [node]
    while pending:
        leaf = pending.pop()
        if leaf["operator"] in ("and", "or", "not"):
            pending.extend(leaf["operands"])
        elif leaf["field"] in TIME_FIELDS:
            raise bad_request(
                f"filter: the field {leaf['field']!r} cannot be filtered on",
                "This Control Room does not filter on time fields; sort on them instead",
            )


def matches(node: dict[str, Any], record: Record) -> bool:
    """Whether ``record`` passes the checked filter ``node``."""
    op = node["operator"]
    if op == "and":
        return all(matches(operand, record) for operand in node["operands"])
    if op == "or":
        return any(matches(operand, record) for operand in node["operands"])
    if op == "not":
        return not matches(node["operands"][0], record)
    actual = _lookup(record, node["field"])
    if actual is _MISSING:
        return False
    expected = node["value"]
    if op == "substring":
        return _as_text(expected) in _as_text(actual)
    left, right = _as_number(actual), _as_number(expected)
    if left is None or right is None:
        moment, bound = instant_nanoseconds(actual), instant_nanoseconds(expected)
        if moment is not None and bound is not None:
            return _COMPARISONS[op](moment, bound)
        return _COMPARISONS[op](_as_text(actual), _as_text(expected))
    return _COMPARISONS[op](left, right)


def instant_nanoseconds(value: Any) -> int | None:
    """An ISO 8601 date-time with a zone (``Z`` or an offset) as nanoseconds since the epoch, else ``None``."""
    match = _INSTANT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone in ("Z", "z") else zone))
    except ValueError:
        return None
    seconds = int(moment.timestamp())  # whole seconds: exact
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0")[:9] or 0)


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
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # an int of more than ~308 digits: not comparable as a number
            return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def sort_key(record: Record, field: str) -> tuple[int, float, str]:
    """Where ``record`` sorts by ``field``: numbers, then text, then records without it."""
    value = _lookup(record, field)
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
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAGE_NUMBER:
            shown = "a number too large" if isinstance(value, int) and abs(value) >= 10**30 else repr(value)
            raise bad_request(f"page.{name} must be a whole number from 0 to {MAX_PAGE_NUMBER}, not {shown}")
    return offset, min(length, MAX_PAGE_LENGTH)


def conjuncts(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaves of nested ``and``s."""
    if condition["operator"] != "and":
        return [condition]
    return [leaf for operand in condition["operands"] for leaf in conjuncts(operand)]


def bisect_bounds(ordered: Sequence[float], bounds: Iterable[tuple[str, float]]) -> tuple[int, int]:
    """The slice ``[low, high)`` of the ascending ``ordered`` that every ``(operator, value)``
    bound holds (``ge``, ``gt``, ``lt``, else ``le``); ``low == high`` when none does."""
    low, high = 0, len(ordered)
    for operator_name, value in bounds:
        if operator_name == "ge":
            low = max(low, bisect.bisect_left(ordered, value))
        elif operator_name == "gt":
            low = max(low, bisect.bisect_right(ordered, value))
        elif operator_name == "lt":
            high = min(high, bisect.bisect_left(ordered, value))
        else:
            high = min(high, bisect.bisect_right(ordered, value))
    return low, max(low, high)
