"""
Listing a queue's work items fast, with the same answer as :func:`.filters.query` on every
item's record.

A queue keeps its items in a dict by id, in id order (ids only grow, and items are stored
when created). So:

- a filter that only asks for ids (one ``eq`` on ``id``, or an ``or`` of at most 100: how the
  provider looks items up) is answered from the dict, without a look at the other items;
- sorted by ``id`` first, nothing is sorted: the dict's order, or its reverse;
- a range on ``id`` and statuses asked for (a reconciliation, a re-queue) choose the
  candidates from the ids' order and the items' own status before any filter is matched;
- an export's window on ``updatedOn`` sorted on it is bisected in an index by that time,
  built when first asked and again after an item changed;
- other filters read only the fields they name (:class:`.models.ItemRecord`), ``createdOn``
  and ``updatedOn`` sort by the times behind them, and only the items of the page answered
  are copied into records.
"""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from automation_anywhere_emulator import filters
from automation_anywhere_emulator.models import ItemRecord, WorkItem


def _nanoseconds(seconds: float) -> int:
    # What models.instant() writes, whose text sorts as these numbers do.
    return int(seconds * 1_000_000_000)


#: Fields sorted by the item's own values: the same order as their record text or number.
_ITEM_KEYS: dict[str, Callable[[WorkItem], Any]] = {
    "id": lambda item: item.id,
    "createdOn": lambda item: _nanoseconds(item.created_on),
    "updatedOn": lambda item: _nanoseconds(item.updated_on),
}


def list_items(items: dict[int, WorkItem], request: filters.ListQuery, numeric_ids: bool) -> dict[str, Any]:
    """The answer to ``request`` over one queue's ``items`` (by id, in id order)."""
    matching: Sequence[WorkItem]
    ids = filters.ids_asked(request.condition)
    if ids is not None:
        matching = [items[item_id] for item_id in sorted(set(ids)) if item_id in items]
    elif request.condition is None:
        matching = list(items.values())  # references only: well under a millisecond for 100,000
    else:
        condition = request.condition
        window = _update_window(items, condition, request.sort, numeric_ids)
        if window is not None:
            shown = window[request.offset : request.offset + request.length]
            return request.answer([item.public(numeric_ids) for item in shown], len(items), len(window))
        candidates = _candidates(items, condition, numeric_ids)
        matching = [item for item in candidates if filters.matches(condition, ItemRecord(item, numeric_ids))]
    ordered = _ordered(matching, request.sort, numeric_ids)
    page = itertools.islice(ordered, request.offset, request.offset + request.length)
    return request.answer([item.public(numeric_ids) for item in page], len(items), len(matching))


#: Indexes by ``updatedOn`` of the queues last exported: (the queue's items, what they were
#: built on, the items' nanoseconds and the items, in ``(updatedOn, id)`` order).
_BY_UPDATE: OrderedDict[int, tuple[dict[int, WorkItem], tuple[int, int], list[int], list[WorkItem]]] = OrderedDict()
_BY_UPDATE_KEPT = 4


def _update_window(
    items: dict[int, WorkItem], condition: dict[str, Any], sort: list[tuple[str, bool]], numeric_ids: bool
) -> Sequence[WorkItem] | None:
    """
    The items an export's page asks for, in order, from an index by ``updatedOn`` (built
    when first asked, again after any item changed): when ``condition`` is an ``and`` of
    ranges on ``updatedOn`` with instants (the window, the page's ``ge`` its last change
    time) and at most one ``or`` that holds a ``gt`` on ``updatedOn`` (the page's cursor),
    sorted on ``updatedOn`` and then ``id``, ascending. The range is bisected; only the
    items at the cursor's instant are matched against the ``or``. ``None`` for anything else.
    """
    if [field for field, _ in sort] not in (["updatedOn"], ["updatedOn", "id"]) or any(d for _, d in sort):
        return None
    ranges, cursor = [], None
    for leaf in filters.conjuncts(condition):
        if leaf["operator"] == "or" and cursor is None:
            cursor = leaf
            at = next((_instant_range(o) for o in leaf["operands"] if _instant_range(o, ("gt",))), None)
            if at is None:
                return None
        else:
            bound = _instant_range(leaf)
            if bound is None:
                return None
            ranges.append(bound)
    index = _by_update(items)
    if index is None:
        return None
    nanos, ordered = index
    low, high = filters.bisect_bounds(nanos, ranges)
    if low >= high:
        return []
    if cursor is None:
        return ordered[low:high]
    # Items after the cursor's instant match its "or" already; those at or before it are matched.
    assert at is not None
    settled = max(low, min(high, bisect.bisect_right(nanos, at[1])))
    checked = [item for item in ordered[low:settled] if filters.matches(cursor, ItemRecord(item, numeric_ids))]
    return checked + ordered[settled:high]


def _instant_range(
    leaf: dict[str, Any], operators: tuple[str, ...] = ("ge", "gt", "lt", "le")
) -> tuple[str, int] | None:
    """``(operator, nanoseconds)`` of a range on ``updatedOn`` against an instant, else ``None``."""
    if leaf["operator"] not in operators or leaf.get("field") != "updatedOn" or not isinstance(leaf["value"], str):
        return None
    moment = filters.instant_nanoseconds(leaf["value"])
    return None if moment is None else (leaf["operator"], moment)


def _by_update(items: dict[int, WorkItem]) -> tuple[list[int], list[WorkItem]] | None:
    """A queue's items in ``(updatedOn, id)`` order and their nanoseconds; ``None`` for ids too big to sort exactly."""
    built_on = (WorkItem.changes, len(items))
    kept = _BY_UPDATE.get(id(items))
    if kept is not None and kept[0] is items and kept[1] == built_on:
        _BY_UPDATE.move_to_end(id(items))
        return kept[2], kept[3]
    if items and max(abs(next(iter(items))), abs(next(reversed(items)))) >= filters.EXACT_FLOAT_IDS:
        return None
    ordered = sorted(items.values(), key=lambda item: (_nanoseconds(item.updated_on), item.id))
    nanos = [_nanoseconds(item.updated_on) for item in ordered]
    _BY_UPDATE[id(items)] = (items, built_on, nanos, ordered)
    while len(_BY_UPDATE) > _BY_UPDATE_KEPT:
        _BY_UPDATE.popitem(last=False)
    return nanos, ordered


def _candidates(items: dict[int, WorkItem], condition: dict[str, Any], numeric_ids: bool) -> Iterable[WorkItem]:
    """
    The items that may match ``condition``, in id order, the others left out unread: a range
    on ``id`` among the conditions of an ``and`` (a reconciliation's ``gt`` the mark, a
    re-queue's ``gt`` the last id) is bisected in the ids, and ``eq`` on a field with text
    values (or an ``or`` of them on one field: a re-queue's statuses, a reconciliation's
    ``dedupe_key`` values) keeps the items with those texts, ``status`` read from the item
    itself. Both choose exactly the items those conditions match, so matching the
    candidates gives the answer that matching every item gives.
    """
    conjuncts = condition["operands"] if condition["operator"] == "and" else [condition]
    bounds = [bound for bound in map(filters.id_bound, conjuncts) if bound is not None]
    keys: list[int] | None = None
    low, high = 0, len(items)
    if bounds:
        keys = list(items)
        if keys and max(abs(keys[0]), abs(keys[-1])) >= filters.EXACT_FLOAT_IDS:
            return items.values()  # ids the grammar cannot tell apart as floats: matching decides
        low, high = filters.bisect_bounds(keys, bounds)
    # Skipping to the range in the dict's own order: no look-up per id.
    chosen: Iterable[WorkItem] = items.values() if keys is None else itertools.islice(items.values(), low, high)
    for leaf in conjuncts:
        field = leaf.get("field") or next((operand.get("field") for operand in leaf.get("operands", ())), None)
        texts = filters.texts_asked(leaf, field) if isinstance(field, str) else None
        if texts is None or not isinstance(field, str):
            continue
        if field == "status":
            chosen = [item for item in chosen if item.status in texts]
        else:  # a reconciliation's dedupe_key values, say: the field read as filters read it
            chosen = [item for item in chosen if _text_in(texts, ItemRecord(item, numeric_ids), field)]
    return chosen


def _text_in(texts: frozenset[str], record: ItemRecord, field: str) -> bool:
    text = filters.text_of(record, field)
    return text is not None and text in texts


def _ordered(items: Sequence[WorkItem], sort: list[tuple[str, bool]], numeric_ids: bool) -> Iterable[WorkItem]:
    """``items`` (in id order) sorted by ``sort`` as :func:`.filters.query` sorts, stable."""
    # Ids as the grammar sees them (floats) are as distinct as the ints, unless a seed made them huge.
    exact_ids = not items or max(abs(items[0].id), abs(items[-1].id)) < filters.EXACT_FLOAT_IDS
    field, descending = sort[0]
    if field == "id" and exact_ids:  # ids are unique: the first key decides alone
        return reversed(items) if descending else items
    ordered = list(items)
    for field, descending in reversed(sort):
        read = _ITEM_KEYS.get(field) if field != "id" or exact_ids else None
        if read is not None:
            ordered.sort(key=read, reverse=descending)
        else:
            ordered.sort(key=lambda item: filters.sort_key(ItemRecord(item, numeric_ids), field), reverse=descending)
    return ordered
