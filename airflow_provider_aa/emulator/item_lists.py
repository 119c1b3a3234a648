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
- other filters read only the fields they name (:class:`.models.ItemRecord`), ``createdOn``
  and ``updatedOn`` sort by the times behind them, and only the items of the page answered
  are copied into records.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from airflow_provider_aa.emulator import filters
from airflow_provider_aa.emulator.models import ItemRecord, WorkItem


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
        candidates = _candidates(items, condition)
        matching = [item for item in candidates if filters.matches(condition, ItemRecord(item, numeric_ids))]
    ordered = _ordered(matching, request.sort, numeric_ids)
    page = itertools.islice(ordered, request.offset, request.offset + request.length)
    return request.answer([item.public(numeric_ids) for item in page], len(items), len(matching))


def _candidates(items: dict[int, WorkItem], condition: dict[str, Any]) -> Iterable[WorkItem]:
    """
    The items that may match ``condition``, in id order, the others left out unread: a range
    on ``id`` among the conditions of an ``and`` (a reconciliation's ``gt`` the mark, a
    re-queue's ``gt`` the last id) is bisected in the ids, and ``eq`` on ``status`` (or an
    ``or`` of them: a re-queue's statuses) keeps the items with those statuses, read from the
    item itself. Both choose exactly the items those conditions match, so matching the
    candidates gives the answer that matching every item gives.
    """
    conjuncts = condition["operands"] if condition["operator"] == "and" else [condition]
    keys: list[int] | None = None
    low, high = 0, len(items)
    for leaf in conjuncts:
        bound = filters.id_bound(leaf)
        if bound is None:
            continue
        if keys is None:
            keys = list(items)
            if keys and max(abs(keys[0]), abs(keys[-1])) >= filters.EXACT_FLOAT_IDS:
                return items.values()  # ids the grammar cannot tell apart as floats: matching decides
        operator, value = bound
        if operator == "gt":
            low = max(low, bisect.bisect_right(keys, value))
        elif operator == "ge":
            low = max(low, bisect.bisect_left(keys, value))
        elif operator == "lt":
            high = min(high, bisect.bisect_left(keys, value))
        else:
            high = min(high, bisect.bisect_right(keys, value))
    chosen: Iterable[WorkItem] = items.values() if keys is None else [items[key] for key in keys[low:high]]
    for leaf in conjuncts:
        statuses = filters.texts_asked(leaf, "status")
        if statuses is not None:
            chosen = [item for item in chosen if item.status in statuses]
    return chosen


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
