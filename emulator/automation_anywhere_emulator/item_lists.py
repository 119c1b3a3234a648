"""
Listing a queue's work items fast, with the same answer as :func:`.filters.query` on every
item's record.

A queue keeps its items in a dict by id, in id order (ids only grow, and items are stored
when created). So:

- a filter that only asks for ids (one ``eq`` on ``id``, or an ``or`` of at most 100: how the
  provider looks items up) is answered from the dict, without a look at the other items;
- sorted by ``id`` first, nothing is sorted: the dict's order, or its reverse (without a
  filter, only the items up to the page's end are read: the newest id before an add);
- a range on ``id``, statuses and texts asked for (a reconciliation, a re-queue) choose the
  candidates, reading the ids from the end back to a lower bound (the newest items, after
  a mark) and the items of those statuses from an index by status (built when first asked
  and again after an item changed); they are not matched again, only the filter's other
  conditions are;
- an export's window on ``updatedOn`` sorted on it is bisected in an index by that time,
  built when first asked and again after an item changed, and so is its cursor's id among
  the items at the cursor's instant; the page is sliced from the index, nothing else copied;
- other filters read only the fields they name (:class:`.models.ItemRecord`), ``createdOn``
  and ``updatedOn`` sort by the times behind them, and only the items of the page answered
  are copied into records.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

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
        field, descending = request.sort[0]
        if field == "id" and _exact_ids(items):  # the dict's order or its reverse: only the page is read
            everything = reversed(items.values()) if descending else items.values()
            page = itertools.islice(everything, request.offset, request.offset + request.length)
            return request.answer([item.public(numeric_ids) for item in page], len(items), len(items))
        matching = list(items.values())
    else:
        condition = request.condition
        window = _update_window(items, condition, request.sort, numeric_ids)
        if window is not None:
            head, by_update, start, stop = window
            # The window is head + by_update[start:stop], not copied: only the page is.
            end, head_length = request.offset + request.length, len(head)
            shown = (
                head[request.offset : end]
                + by_update[start + max(0, request.offset - head_length) : min(stop, start + max(0, end - head_length))]
            )
            return request.answer([item.public(numeric_ids) for item in shown], len(items), head_length + stop - start)
        candidates, unmatched = _candidates(items, condition, numeric_ids)
        matching = [
            item
            for item in candidates
            if all(filters.matches(leaf, ItemRecord(item, numeric_ids)) for leaf in unmatched)
        ]
    ordered = _ordered(matching, request.sort, numeric_ids)
    page = itertools.islice(ordered, request.offset, request.offset + request.length)
    return request.answer([item.public(numeric_ids) for item in page], len(items), len(matching))


_Index = TypeVar("_Index")


class _QueueIndexes(Generic[_Index]):
    """
    An index of each of the few queues last listed, built from the queue's items when first
    asked and again once any item was created, changed (``WorkItem.changes``) or deleted
    (the queue's size: after a delete it only grows again through a creation).
    """

    def __init__(self, build: Callable[[dict[int, WorkItem]], _Index], kept: int = 4) -> None:
        self._build = build
        self._kept = kept
        # By the id of the queue's dict: (the dict itself, what the index was built on, the index).
        self._indexes: OrderedDict[int, tuple[dict[int, WorkItem], tuple[int, int], _Index]] = OrderedDict()

    def of(self, items: dict[int, WorkItem]) -> _Index:
        built_on = (WorkItem.changes, len(items))
        kept = self._indexes.get(id(items))
        if kept is not None and kept[0] is items and kept[1] == built_on:
            self._indexes.move_to_end(id(items))
            return kept[2]
        index = self._build(items)
        self._indexes[id(items)] = (items, built_on, index)
        while len(self._indexes) > self._kept:
            self._indexes.popitem(last=False)
        return index


def _update_window(
    items: dict[int, WorkItem], condition: dict[str, Any], sort: list[tuple[str, bool]], numeric_ids: bool
) -> tuple[list[WorkItem], list[WorkItem], int, int] | None:
    """
    The items an export's page asks for, in order, from an index by ``updatedOn`` (built
    when first asked, again after any item changed): when ``condition`` is an ``and`` of
    ranges on ``updatedOn`` with instants (the window, the page's ``ge`` its last change
    time) and at most one ``or`` that holds a ``gt`` on ``updatedOn`` (the page's cursor),
    sorted on ``updatedOn`` and then ``id``, ascending. The range is bisected; at the
    cursor's instant, a cursor of that ``gt`` or a ``gt`` on ``id`` (as the provider sends
    it) is bisected too, other items at or before it are matched against the ``or``. The
    window is ``head + ordered[start:stop]``, as ``(head, ordered, start, stop)``; ``None``
    for anything else.
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
    if not _exact_ids(items):
        return None
    nanos, ordered = _BY_UPDATE.of(items)
    low, high = filters.bisect_bounds(nanos, ranges)
    if low >= high:
        return [], ordered, low, low
    if cursor is None:
        return [], ordered, low, high
    # Items after the cursor's instant match its "or" already; those at or before it are matched.
    assert at is not None
    settled = max(low, min(high, bisect.bisect_right(nanos, at[1])))
    after_id = _after_id(cursor, at[1])
    if after_id is None:
        checked = [item for item in ordered[low:settled] if filters.matches(cursor, ItemRecord(item, numeric_ids))]
        return checked, ordered, settled, high
    # At the cursor's instant its "gt" on updatedOn fails and its "gt" on id decides; the
    # index orders those items by id: the ones after the cursor's id follow on to the end.
    tied = max(low, bisect.bisect_left(nanos, at[1], low, settled))
    earlier = [item for item in ordered[low:tied] if filters.matches(cursor, ItemRecord(item, numeric_ids))]
    return earlier, ordered, bisect.bisect_right(ordered, after_id, tied, settled, key=lambda item: item.id), high


def _after_id(cursor: dict[str, Any], at: int) -> float | None:
    """
    The id of an export's cursor ``or`` that is a ``gt`` on ``updatedOn`` at the instant
    ``at`` and a ``gt`` on ``id`` (an id the grammar compares exactly), else ``None``.
    """
    operands = cursor["operands"]
    if len(operands) != 2:
        return None
    for time_leaf, id_leaf in (operands, operands[::-1]):
        bound = filters.id_bound(id_leaf)
        if _instant_range(time_leaf, ("gt",)) == ("gt", at) and bound is not None and bound[0] == "gt":
            return bound[1]
    return None


def _instant_range(
    leaf: dict[str, Any], operators: tuple[str, ...] = ("ge", "gt", "lt", "le")
) -> tuple[str, int] | None:
    """``(operator, nanoseconds)`` of a range on ``updatedOn`` against an instant, else ``None``."""
    if leaf["operator"] not in operators or leaf.get("field") != "updatedOn" or not isinstance(leaf["value"], str):
        return None
    moment = filters.instant_nanoseconds(leaf["value"])
    return None if moment is None else (leaf["operator"], moment)


def _exact_ids(items: dict[int, WorkItem]) -> bool:
    """Whether the grammar, which compares ids as floats, tells all of ``items``' ids apart (in id order)."""
    return not items or max(abs(next(iter(items))), abs(next(reversed(items)))) < filters.EXACT_FLOAT_IDS


def _by_update(items: dict[int, WorkItem]) -> tuple[list[int], list[WorkItem]]:
    """A queue's items in ``(updatedOn, id)`` order, and their nanoseconds."""
    ordered = sorted(items.values(), key=lambda item: (_nanoseconds(item.updated_on), item.id))
    return [_nanoseconds(item.updated_on) for item in ordered], ordered


def _by_status(items: dict[int, WorkItem]) -> dict[str, tuple[list[int], list[WorkItem]]]:
    """A queue's items by status, each status's ids and items in id order."""
    grouped: dict[str, list[WorkItem]] = {}
    for item in items.values():
        grouped.setdefault(item.status, []).append(item)
    return {status: ([item.id for item in chosen], chosen) for status, chosen in grouped.items()}


#: Indexes by ``updatedOn`` (an export's windows) and by status (a re-queue's pages).
_BY_UPDATE = _QueueIndexes(_by_update)
_BY_STATUS = _QueueIndexes(_by_status)


def _candidates(
    items: dict[int, WorkItem], condition: dict[str, Any], numeric_ids: bool
) -> tuple[Iterable[WorkItem], list[dict[str, Any]]]:
    """
    The items that may match ``condition``, in id order, the others left out unread, and
    the conditions of its ``and`` they still have to match. A range on ``id`` (a
    reconciliation's ``gt`` the mark, a re-queue's ``gt`` the last id) is bisected in the
    ids; an ``eq`` on a field with text values (or an ``or`` of them on one field: a
    re-queue's statuses, a reconciliation's ``dedupe_key`` values) keeps the items with
    those texts, the statuses' from an index by status, other fields read as filters read
    them. Each chooses exactly the items its condition matches, so that condition is not
    matched again: the candidates matching the rest is the answer matching every item gives.
    """
    conjuncts = filters.conjuncts(condition)
    bounds = [bound for bound in map(filters.id_bound, conjuncts) if bound is not None]
    if bounds and not _exact_ids(items):
        return items.values(), conjuncts  # ids the grammar cannot tell apart as floats: matching decides
    statuses: frozenset[str] | None = None
    texts_of: list[tuple[str, frozenset[str]]] = []
    unmatched = []
    for leaf in conjuncts:
        if filters.id_bound(leaf) is not None:
            continue
        field = leaf.get("field") or next((operand.get("field") for operand in leaf.get("operands", ())), None)
        texts = filters.texts_asked(leaf, field) if isinstance(field, str) else None
        if texts is None or not isinstance(field, str):
            unmatched.append(leaf)
        elif field == "status":
            statuses = texts if statuses is None else statuses & texts
        else:
            texts_of.append((field, texts))
    chosen: Iterable[WorkItem]
    if statuses is not None:
        chosen = _with_status(_BY_STATUS.of(items), statuses, bounds)
    elif bounds:
        chosen = _in_id_range(items, bounds)
    else:
        chosen = items.values()
    for field, texts in texts_of:  # a reconciliation's dedupe_key values, say
        chosen = [item for item in chosen if _text_in(texts, ItemRecord(item, numeric_ids), field)]
    return chosen, unmatched


_HOLDS: dict[str, Callable[[int, float], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _in_id_range(items: dict[int, WorkItem], bounds: list[tuple[str, float]]) -> list[WorkItem]:
    """
    The items whose ids are within every bound, in id order. The ids ascend, so those items
    are one run of them: read from the newest back to the lower bound when there is one (a
    reconciliation's items after its mark, the newest), else from the oldest up to the
    upper bound. Only the items read are touched, not the whole queue.
    """
    lower = [(_HOLDS[name], value) for name, value in bounds if name in ("gt", "ge")]
    upper = [(_HOLDS[name], value) for name, value in bounds if name in ("lt", "le")]
    chosen = []
    if lower:
        for item_id, item in zip(reversed(items), reversed(items.values())):
            if not all(holds(item_id, value) for holds, value in lower):
                break
            if all(holds(item_id, value) for holds, value in upper):
                chosen.append(item)
        chosen.reverse()
        return chosen
    for item_id, item in items.items():
        if not all(holds(item_id, value) for holds, value in upper):
            break
        chosen.append(item)
    return chosen


def _with_status(
    by_status: dict[str, tuple[list[int], list[WorkItem]]], statuses: frozenset[str], bounds: list[tuple[str, float]]
) -> list[WorkItem]:
    """The items in ``statuses`` whose ids are within every bound, in id order."""
    chosen = []
    for status in statuses:
        ids, with_status = by_status.get(status, ([], []))
        low, high = filters.bisect_bounds(ids, bounds)
        chosen.extend(with_status[low:high])
    if len(statuses) > 1:
        chosen.sort(key=lambda item: item.id)
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
