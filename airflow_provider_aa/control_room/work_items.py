"""Work queue requests and answers: ids, add batches, listing pages, status lookups."""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest

#: The Control Room's largest page; also the most ids put into one ``or`` filter.
PAGE_LENGTH = 100
#: The Control Room shows at most this many characters of an attribute value.
DISPLAY_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]+")
#: Deepest nesting of dicts and lists taken in work item data (a Control Room's JSON parser
#: refuses far less deep data than Python's recursion could write).
MAX_DATA_DEPTH = 100
#: The largest id: Control Rooms keep ids as 64-bit signed integers (Java ``long``).
MAX_ID = 2**63 - 1
#: What a text id from an answer (an activity record's UUID) may be to go into a path.
_TEXT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def validate_id(value: Any, field: str) -> str:
    """
    Return a queue or work item id as a digit string.

    :raises InvalidInputError: unless ``value`` is a whole number from 1 to :data:`MAX_ID`
        (an int or a string of digits), so that nothing else can reach a URL path.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 < value <= MAX_ID:
            return str(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        digits = value.strip().lstrip("0")
        if digits and len(digits) <= len(str(MAX_ID)) and int(digits) <= MAX_ID:
            return digits
    raise InvalidInputError(
        f"{field} must be a positive integer up to {MAX_ID} (an int or a string of digits), got {_shown(value)}."
    )


def path_id(value: Any, what: str) -> str:
    """
    An id to put into a request path, as :func:`validate_id` checks ids from users: ids read
    from an answer (a role's, a listed item's) too, so that an answer cannot steer a request
    elsewhere (``../../outside``).

    :raises AutomationAnywhereError: for anything but a whole number from 1 to :data:`MAX_ID`.
    """
    try:
        return validate_id(value, what)
    except InvalidInputError:
        raise AutomationAnywhereError(
            f"The Control Room gave {what} {_shown(value)}, not a positive integer: not put into a request path."
        ) from None


def path_text_id(value: Any, what: str) -> str:
    """
    A text id (an activity record's UUID) to put into a request path: letters, digits, ``-``
    and ``_``, at most 128 characters.

    :raises AutomationAnywhereError: for anything else.
    """
    if isinstance(value, str) and _TEXT_ID.fullmatch(value):
        return value
    raise AutomationAnywhereError(
        f"The Control Room gave {what} {_shown(value)}, not an id of letters, digits, '-' and '_': not put into "
        "a request path."
    )


def _shown(value: Any) -> str:
    """``repr(value)``, cut to 60 characters (an id of 5,000 digits is not quoted whole)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond the digits Python converts to text
        return f"an integer of about {value.bit_length() * 30103 // 100000} digits"
    return text if len(text) <= 60 else f"{text[:50]}... ({len(text)} characters)"


def validate_ids(values: Any, field: str) -> list[str]:
    """One id or a sequence of ids (work items, users, pools) → digit strings, duplicates removed, order kept."""
    items = [values] if isinstance(values, (int, str)) else values
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise InvalidInputError(f"{field} must be an id or a list of ids, got {type(values).__name__}.")
    if not items:
        raise InvalidInputError(f"{field} is empty: give at least one id.")
    return list(dict.fromkeys(validate_id(item, f"{field}[{index}]") for index, item in enumerate(items)))


class ValidWorkItems(list[Mapping[str, Any]]):
    """
    Work items that :func:`validate_work_items` passed: the caller's own mappings, checked
    once and not copied (an add of 100,000 items holds them once), and ``digest``, the
    SHA-256 of their canonical JSON (sorted keys, one item per line), which identifies the
    input for an add's saved progress.
    """

    digest: str


def validate_work_items(work_items: Any, field: str = "work_items") -> ValidWorkItems:
    """
    One work item or a list of them → :class:`ValidWorkItems`; given those, returns them as
    they are (the operator validates before its first request, the hook it calls does not
    again).

    :raises InvalidInputError: naming the item index and what is wrong with it.
    """
    if isinstance(work_items, ValidWorkItems):
        return work_items
    items = [work_items] if isinstance(work_items, Mapping) else work_items
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise InvalidInputError(
            f"{field} must be a dict or a list of dicts (the work item attributes), got {type(work_items).__name__}."
        )
    digest = hashlib.sha256()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"{field}[{index}] must be a dict of attributes, got {type(item).__name__}.")
        bad_keys = [key for key in item if not isinstance(key, str) or not key]
        if bad_keys:
            raise InvalidInputError(
                f"{field}[{index}] has attribute names that are not non-empty strings: {bad_keys!r}."
            )
        check_depth(item, f"{field}[{index}]")
        try:
            # One item at a time: serialising the whole input at once would hold a second
            # copy of it as text. Canonical JSON never holds a raw newline: it separates items.
            canonical = json.dumps(item, allow_nan=False, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError) as problem:
            raise InvalidInputError(f"{field}[{index}] is not JSON-serializable: {problem}.") from None
        digest.update(canonical.encode())
        digest.update(b"\n")
    checked = ValidWorkItems(items)
    checked.digest = digest.hexdigest()
    return checked


def check_depth(data: Any, field: str) -> None:
    """
    :raises InvalidInputError: when ``data`` nests dicts and lists deeper than
        :data:`MAX_DATA_DEPTH` levels (or holds itself), checked without recursion.
    """
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Iterable[Any] = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth > MAX_DATA_DEPTH:
            raise InvalidInputError(
                f"{field} nests dicts and lists deeper than {MAX_DATA_DEPTH} levels (or holds itself)."
            )
        stack.extend((child, depth + 1) for child in children)


def display_limit_warnings(items: Sequence[Mapping[str, Any]], field: str = "work_items") -> list[str]:
    """Warnings for attribute values longer than the Control Room displays."""
    return [
        f"{field}[{index}].{name} has {len(str(value))} characters: the Control Room displays only "
        f"the first {DISPLAY_LIMIT}."
        for index, item in enumerate(items)
        for name, value in item.items()
        if len(str(value)) > DISPLAY_LIMIT
    ]


def validate_dedupe_key(value: Any, items: Sequence[Mapping[str, Any]]) -> str | None:
    """``None``, or an attribute name that every work item carries."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"dedupe_key must be an attribute name, got {value!r}.")
    lacking = [index for index, item in enumerate(items) if item.get(value) in (None, "")]
    if lacking:
        raise InvalidInputError(f"dedupe_key {value!r} is missing in work_items{lacking[:10]}.")
    return value


#: Operators of the Control Room's list filter grammar (reference: "List / filter work items").
FILTER_OPERATORS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "substring", "and", "or", "not"})


def validate_filter(value: Any, field: str) -> dict[str, Any] | None:
    """
    ``None`` or a Control Room filter: a dict with an ``operator`` and, for ``and``/``or``/
    ``not``, a list of ``operands`` that are filters themselves.

    :raises InvalidInputError: naming ``field`` (and the path to the bad part) otherwise.
    """
    if value is None:
        return None
    _check_filter(value, field)
    return dict(value)


def _check_filter(value: Any, where: str, depth: int = 0) -> None:
    example = '{"operator": "eq", "field": "status", "value": "FAILED"}'
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be a filter dict such as {example}, got {type(value).__name__}.")
    operator = value.get("operator")
    if operator not in FILTER_OPERATORS:
        raise InvalidInputError(
            f"{where}.operator is {operator!r}: expected one of {', '.join(sorted(FILTER_OPERATORS))}."
        )
    if operator in ("and", "or", "not"):
        operands = value.get("operands")
        if not isinstance(operands, Sequence) or isinstance(operands, (str, bytes)) or not operands:
            raise InvalidInputError(f"{where}.operands must be a non-empty list of filters for operator {operator!r}.")
        if depth >= 32:
            raise InvalidInputError(f"{where} nests filters more than 32 levels deep.")
        for index, operand in enumerate(operands):
            _check_filter(operand, f"{where}.operands[{index}]", depth + 1)
    elif not isinstance(value.get("field"), str) or not value.get("field"):
        raise InvalidInputError(f"{where}.field must name the attribute to compare, e.g. {example}.")


def validate_sort(value: Any, field: str) -> list[dict[str, Any]] | None:
    """``None`` or a list of ``{"field": name, "direction": "asc" | "desc"}``."""
    if value is None:
        return None
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise InvalidInputError(
            f'{field} must be a list such as [{{"field": "createdOn", "direction": "desc"}}], got {type(value).__name__}.'
        )
    for index, entry in enumerate(value):
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("field"), str)
            or entry.get("direction", "asc") not in ("asc", "desc")
        ):
            raise InvalidInputError(
                f'{field}[{index}] must be {{"field": name, "direction": "asc" or "desc"}}, got {entry!r}.'
            )
    return [dict(entry) for entry in value]


def validate_batch_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PAGE_LENGTH * 10:
        raise InvalidInputError(f"batch_size must be an integer from 1 to {PAGE_LENGTH * 10}, got {value!r}.")
    return value


def add_request(queue_id: str, batch: Iterable[Mapping[str, Any]]) -> ApiRequest:
    return ApiRequest(
        "POST",
        f"/v3/wlm/queues/{path_id(queue_id, 'queue id')}/workitems",
        {"workItems": [{"json": dict(item)} for item in batch]},
        replay_safe=False,
    )


def read_added(answer: Any, sent: int, request: ApiRequest) -> list[dict[str, Any]]:
    """
    The created work items of one add answer, in request order, ids as strings.

    Control Rooms answer an add in three shapes: ``{"list": [...]}`` (the 11.3 v2 docs),
    the created item itself (``{"id": 77, ..., "status": "NEW"}``, an Automation 360 docs
    page, for one item) and ``{"workItems": [...]}`` (noted by a public client). Items are
    matched to the request by order in each.
    """
    if isinstance(answer, dict) and "list" not in answer:
        if isinstance(answer.get("workItems"), list):
            answer = {"list": answer["workItems"]}
        elif "id" in answer:
            answer = {"list": [answer]}
    created = list_of_items(answer, request)
    if len(created) != sent:
        raise AutomationAnywhereError(
            f"The Control Room answered an add of {sent} work item(s) with {len(created)}.",
            method=request.method,
            path=request.path,
        )
    return created


def list_request(
    queue_id: str,
    *,
    filter: Mapping[str, Any] | None = None,
    sort: Sequence[Mapping[str, Any]] | None = None,
    offset: int = 0,
    length: int = PAGE_LENGTH,
) -> ApiRequest:
    body: dict[str, Any] = {"page": {"offset": offset, "length": length}}
    if filter:
        body["filter"] = dict(filter)
    # A stable order keeps pages from skipping or repeating items while the queue changes.
    body["sort"] = [dict(entry) for entry in sort] if sort else [{"field": "id", "direction": "asc"}]
    return ApiRequest("POST", f"/v3/wlm/queues/{path_id(queue_id, 'queue id')}/workitems/list", body)


def newest_id_request(queue_id: str) -> ApiRequest:
    """The queue's newest item (one at most): its id marks where items added from now on begin."""
    return list_request(queue_id, sort=[{"field": "id", "direction": "desc"}], length=1)


def read_newest_id(answer: Any, request: ApiRequest) -> int:
    items = list_of_items(answer, request)
    return max((int(item["id"]) for item in items), default=0)


def added_since_filter(mark_id: int, dedupe_key: str | None, values: Sequence[Any]) -> dict[str, Any]:
    """
    Items created after ``mark_id`` (ids only grow) — with ``dedupe_key``, only those whose
    attribute has one of ``values`` (at most 100), so that a busy queue costs no more pages.
    """
    after = {"operator": "gt", "field": "id", "value": str(mark_id)}
    if dedupe_key is None:
        return after
    keys = [{"operator": "eq", "field": dedupe_key, "value": str(value)} for value in dict.fromkeys(map(str, values))]
    wanted = keys[0] if len(keys) == 1 else {"operator": "or", "operands": keys}
    return {"operator": "and", "operands": [after, wanted]}


def match_created(
    batch: Sequence[Mapping[str, Any]],
    candidates: Iterable[Mapping[str, Any]],
    *,
    dedupe_key: str | None,
) -> list[dict[str, Any] | None]:
    """
    For each item of ``batch``, the queue's item that this add created, or ``None``.

    ``candidates`` are the queue's items created after the add's mark (see
    :func:`added_since_filter`): no clock is consulted, so a Control Room whose clock is off
    ours by any amount changes nothing. A candidate matches when its data equals the item's
    (or, with ``dedupe_key``, when that attribute is equal). Each candidate answers one
    item, oldest first, as the Control Room creates items in request order.
    """
    # Each identity is computed once, for every item and every candidate: a batch of 1,000
    # against as many candidates stays linear (one pass each, and a sort by id).
    by_identity: dict[str, deque[dict[str, Any]]] = {}
    for candidate in sorted((dict(candidate) for candidate in candidates), key=lambda c: int(c["id"])):
        by_identity.setdefault(_identity(candidate.get("json") or {}, dedupe_key), deque()).append(candidate)
    matches: list[dict[str, Any] | None] = []
    for item in batch:
        alike = by_identity.get(_identity(item, dedupe_key))
        matches.append(alike.popleft() if alike else None)
    return matches


def _identity(data: Mapping[str, Any], dedupe_key: str | None) -> str:
    if dedupe_key is not None:
        return str(data.get(dedupe_key))
    return json.dumps(data, sort_keys=True, default=str)


def ids_filter(ids: Sequence[str]) -> dict[str, Any]:
    """An ``eq`` filter on ``id``, or an ``or`` of them for several ids."""
    operands = [{"operator": "eq", "field": "id", "value": work_item_id} for work_item_id in ids]
    return operands[0] if len(operands) == 1 else {"operator": "or", "operands": operands}


def normalise_work_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """
    Numbers outside ``json`` become strings, so that ``id`` is ``"40957"`` whether a Control
    Room version sends ``"40957"`` or ``40957``. The item's own data in ``json`` is untouched.
    """
    return {
        key: str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "json" else value
        for key, value in item.items()
    }


def list_of_items(answer: Any, request: ApiRequest) -> list[dict[str, Any]]:
    entries = answer.get("list") if isinstance(answer, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) and "id" in entry for entry in entries):
        raise AutomationAnywhereError(
            "The Control Room's answer has no 'list' of work items with ids.",
            method=request.method,
            path=request.path,
        )
    return [normalise_work_item(entry) for entry in entries]
