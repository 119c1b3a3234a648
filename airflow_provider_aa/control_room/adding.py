"""
Adding a batch of work items exactly once, also when an answer gets lost.

An add that times out, loses its connection or meets a 5xx may or may not have been
committed. Re-sending it blindly risks doubles; giving up risks losing the batch. Instead the
newest items of the queue are read and matched against the batch (see
:func:`~airflow_provider_aa.control_room.work_items.match_created`); only the items the
Control Room does not hold are sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import Operation
from airflow_provider_aa.control_room.session import AmbiguousOutcomeError, ControlRoomSession
from airflow_provider_aa.control_room.work_items import (
    add_request,
    match_created,
    newest_items_requests,
    read_added,
    read_page,
)

#: Adds of one batch (the first and re-sends after reconciling) before giving up.
MAX_ADD_ATTEMPTS = 3


class DuplicateWorkItemsError(AutomationAnywhereError):
    """The queue refused some items as duplicates of items it holds; the others were added."""


@dataclass
class BatchOutcome:
    """
    Per item of the batch, in request order, the created work item — or ``None`` when the
    queue refused it as a duplicate (``disallowDuplicate``); and how many items were found
    in the queue after a lost answer instead of being sent again.
    """

    created: list[dict[str, Any] | None]
    reconciled: int


def add_batch(
    session: ControlRoomSession,
    queue_id: str,
    batch: Sequence[Mapping[str, Any]],
    *,
    clock: Callable[[], float],
    dedupe_key: str | None = None,
    created_after_id: int = 0,
    maybe_sent_since: float | None = None,
) -> Operation[BatchOutcome]:
    """
    Add ``batch`` so that each item exists exactly once.

    :param created_after_id: the highest id this task created before: older items are not ours.
    :param maybe_sent_since: set when an earlier try may have sent this batch already (when
        it started): the queue is checked before anything is sent.
    :raises AutomationAnywhereError: when items are still unaccounted for after
        ``MAX_ADD_ATTEMPTS`` adds; it says how many were found and how many not.
    """
    created: list[dict[str, Any] | None] = [None] * len(batch)
    duplicates: set[int] = set()
    reconciled = 0
    uncertain_since = maybe_sent_since
    problem: AutomationAnywhereError | None = None
    for _ in range(MAX_ADD_ATTEMPTS):
        if uncertain_since is not None:
            reconciled += yield from _reconcile(
                session, queue_id, batch, created, dedupe_key, created_after_id, uncertain_since
            )
            uncertain_since = None
        pending = [index for index, item in enumerate(created) if item is None]
        if not pending:
            break
        request = add_request(queue_id, [batch[index] for index in pending])
        started = clock()
        try:
            answer = yield from session.request_json(request)
        except AmbiguousOutcomeError as lost:
            problem, uncertain_since = lost, started
            continue
        except AutomationAnywhereError as refused:
            if refused.status != 409:
                raise
            # The queue refuses duplicates and the answer's shape of which ones is not
            # documented: one item per request finds them, and the others still get added.
            if len(pending) == 1:
                duplicates.add(pending[0])
                break
            for index in pending:
                single = yield from add_batch(
                    session, queue_id, [batch[index]], clock=clock, dedupe_key=dedupe_key, created_after_id=created_after_id
                )
                reconciled += single.reconciled
                created[index] = single.created[0]
                if created[index] is None:
                    duplicates.add(index)
            break
        for index, item in zip(pending, read_added(answer, len(pending), request)):
            created[index] = item
        break
    if uncertain_since is not None:
        reconciled += yield from _reconcile(session, queue_id, batch, created, dedupe_key, created_after_id, uncertain_since)
    missing = sum(item is None for index, item in enumerate(created) if index not in duplicates)
    if missing:
        raise AutomationAnywhereError(
            f"Adding {len(batch)} work item(s) to queue {queue_id} got no clear answer "
            f"{MAX_ADD_ATTEMPTS} times; {len(batch) - missing} are in the queue, {missing} are "
            f"not. Last problem: {problem}"
        )
    return BatchOutcome(created, reconciled)


def _reconcile(
    session: ControlRoomSession,
    queue_id: str,
    batch: Sequence[Mapping[str, Any]],
    created: list[dict[str, Any] | None],
    dedupe_key: str | None,
    created_after_id: int,
    since: float,
) -> Operation[int]:
    """Fill ``created`` with the batch's items the queue already holds; return how many."""
    pending = [index for index, item in enumerate(created) if item is None]
    known = {item["id"] for item in created if item is not None}
    candidates: list[dict[str, Any]] = []
    for request in newest_items_requests(queue_id, len(pending)):
        page = read_page((yield from session.request_json(request)), request)
        candidates += [item for item in page.items if item["id"] not in known]
        if page.next_offset is None:
            break
    matches = match_created(
        [batch[index] for index in pending],
        candidates,
        dedupe_key=dedupe_key,
        created_after_id=created_after_id,
        created_since=since,
    )
    for index, match in zip(pending, matches):
        created[index] = match
    return sum(match is not None for match in matches)


@dataclass
class AddProgress:
    """
    How far an add of many items got: ids of the items created so far (a prefix of the
    input, in order; ``None`` for an item the queue refused as a duplicate), and when a batch
    was sent without its answer recorded yet.

    Saved after every step so that a later task try continues instead of adding again.
    """

    fingerprint: str
    ids: list[str | None]
    in_flight_since: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "ids": self.ids, "in_flight_since": self.in_flight_since}

    @classmethod
    def from_json(cls, value: Any, fingerprint: str) -> AddProgress:
        """The saved progress of the same add, or a fresh start (nothing saved, other input)."""
        if isinstance(value, dict) and value.get("fingerprint") == fingerprint:
            ids = [None if item_id is None else str(item_id) for item_id in value.get("ids") or []]
            return cls(fingerprint, ids, value.get("in_flight_since"))
        return cls(fingerprint, [])


def add_fingerprint(queue_id: str, items: Sequence[Mapping[str, Any]]) -> str:
    """Identifies one add's input, so saved progress is only reused for the same items."""
    canonical = json.dumps([queue_id, list(items)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
