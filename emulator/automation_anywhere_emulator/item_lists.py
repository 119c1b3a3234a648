"""
Listing a queue's work items fast, with the same answer as :func:`.filters.query` on every
item's record.

A queue keeps its items in a dict by id, in id order (ids only grow, and items are stored
when created). So:

- a filter that only asks for ids (one ``eq`` on ``id``, or an ``or`` of at most 100: how the
  provider looks items up) is answered from the dict, without a look at the other items;
- sorted by ``id`` first, nothing is sorted: the dict's order, or its reverse;
- other filters read only the fields they name (:class:`.models.ItemRecord`), ``createdOn``
  and ``updatedOn`` sort by the times behind them, and only the items of the page answered
  are copied into records.
"""

from __future__ import annotations

import itertools
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
        matching = [item for item in items.values() if filters.matches(condition, ItemRecord(item, numeric_ids))]
    ordered = _ordered(matching, request.sort, numeric_ids)
    page = itertools.islice(ordered, request.offset, request.offset + request.length)
    return request.answer([item.public(numeric_ids) for item in page], len(items), len(matching))


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
