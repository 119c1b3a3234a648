"""
Adding a batch of work items exactly once, also when an answer gets lost.

An add that times out, loses its connection or meets a 5xx may or may not have been
committed — possibly later than the client gave up. Re-sending it blindly risks doubles;
giving up risks losing the batch. Instead, after a lost-answer delay that lets a late commit land,
the queue's items created after the add's *mark* (the newest id before it was sent; ids only
grow) are read — filtered by the ``dedupe_key`` values when there is one — and matched
against the batch; only the items the Control Room does not hold are sent again. No clock is
compared with the Control Room's, and items other producers add meanwhile cost pages, not
correctness.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    DuplicateWorkItemsError,
    InvalidInputError,
)
from airflow_provider_aa.control_room.exchange import Operation, Sleep
from airflow_provider_aa.control_room.listing import read_all
from airflow_provider_aa.control_room.progress import ProgressLog, duration, id_range
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import (
    PAGE_LENGTH,
    add_request,
    added_since_filter,
    list_request,
    match_created,
    newest_id_request,
    read_added,
    read_newest_id,
    validate_work_items,
)

#: Adds of one batch (the first and re-sends after reconciling) before giving up.
MAX_ADD_ATTEMPTS = 3


@dataclass
class BatchOutcome:
    """
    Per item of the batch, in request order, the created work item — or ``None`` when the
    queue refused it as a duplicate (``disallowDuplicate``); and how many items were found
    in the queue after a lost answer instead of being sent again.
    """

    created: list[dict[str, Any] | None]
    reconciled: int


def validate_lost_answer_delay(value: Any, default: float) -> float:
    """``None`` → ``default``; else a number of seconds from 0 to an hour."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
        raise InvalidInputError(f"lost_answer_delay must be a number of seconds from 0 to 3600, got {value!r}.")
    return float(value)


def newest_id(session: ControlRoomSession, queue_id: str) -> Operation[int]:
    """The queue's newest work item id (0 for an empty queue): the mark of the next add."""
    request = newest_id_request(queue_id)
    return read_newest_id((yield from session.request_json(request)), request)


def add_batch(
    session: ControlRoomSession,
    queue_id: str,
    batch: Sequence[Mapping[str, Any]],
    *,
    mark_id: int,
    clock: Callable[[], float],
    lost_answer_delay: float,
    dedupe_key: str | None = None,
    maybe_sent_since: float | None = None,
    claimed: frozenset[str] = frozenset(),
) -> Operation[BatchOutcome]:
    """
    Add ``batch`` so that each item exists exactly once.

    :param mark_id: an id no item of this batch can have or be below: the queue's newest id
        before the batch was first sent.
    :param clock: local wall-clock seconds (only compared with itself).
    :param lost_answer_delay: seconds a Control Room may still commit an add after its answer was
        lost; the queue is checked only once they have passed since the answer was given up on.
    :param maybe_sent_since: set when an earlier try may have sent this batch already (when,
        on the local clock): the queue is checked before anything is sent.
    :param claimed: ids of items already accounted for, never taken for this batch's.
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
            reconciled += yield from _settle_and_reconcile(
                session,
                queue_id,
                batch,
                created,
                dedupe_key,
                mark_id,
                claimed,
                clock,
                uncertain_since,
                lost_answer_delay,
            )
            uncertain_since = None
        pending = [index for index, item in enumerate(created) if item is None]
        if not pending:
            break
        request = add_request(queue_id, [batch[index] for index in pending])
        try:
            answer = yield from session.request_json(request)
        except AmbiguousOutcomeError as lost:
            # The lost-answer delay runs from when the answer was given up on, not from the send:
            # a commit after a read timeout (or after retries the session made) still counts.
            problem, uncertain_since = lost, clock()
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
                    session,
                    queue_id,
                    [batch[index]],
                    mark_id=mark_id,
                    clock=clock,
                    lost_answer_delay=lost_answer_delay,
                    dedupe_key=dedupe_key,
                    claimed=claimed | {item["id"] for item in created if item is not None},
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
        reconciled += yield from _settle_and_reconcile(
            session, queue_id, batch, created, dedupe_key, mark_id, claimed, clock, uncertain_since, lost_answer_delay
        )
    missing = sum(item is None for index, item in enumerate(created) if index not in duplicates)
    if missing:
        raise AutomationAnywhereError(
            f"Adding {len(batch)} work item(s) to queue {queue_id} got no clear answer "
            f"{MAX_ADD_ATTEMPTS} times; {len(batch) - missing} are in the queue, {missing} are "
            f"not. Last problem: {problem}"
        )
    return BatchOutcome(created, reconciled)


def _settle_and_reconcile(
    session: ControlRoomSession,
    queue_id: str,
    batch: Sequence[Mapping[str, Any]],
    created: list[dict[str, Any] | None],
    dedupe_key: str | None,
    mark_id: int,
    claimed: frozenset[str],
    clock: Callable[[], float],
    sent_at: float,
    lost_answer_delay: float,
) -> Operation[int]:
    """
    Wait until a late commit had its time, then fill ``created`` with the batch's items the
    queue already holds; return how many.
    """
    # ``sent_at`` may come from another worker's clock (an earlier try): never wait longer
    # than the lost-answer delay itself, however far ahead that clock was.
    wait = min(sent_at + lost_answer_delay - clock(), lost_answer_delay)
    if wait > 0:
        yield Sleep(wait)
    pending = [index for index, item in enumerate(created) if item is None]
    known = claimed | {item["id"] for item in created if item is not None}
    candidates: list[dict[str, Any]] = []
    # A value several items share is looked up once: twice, its items would be candidates
    # twice, and one created item could be taken for two of ours.
    values = list(dict.fromkeys(batch[index][dedupe_key] for index in pending)) if dedupe_key else [None]
    for start in range(0, len(values), PAGE_LENGTH):
        wanted = added_since_filter(mark_id, dedupe_key, values[start : start + PAGE_LENGTH])
        found = yield from read_all(
            session, list_request(queue_id, filter=wanted, sort=[{"field": "id", "direction": "asc"}])
        )
        # The mark is checked here too: a proxy that drops the filter must not make older
        # look-alikes count as ours.
        candidates += [item for item in found if item["id"] not in known and int(item["id"]) > mark_id]
    matches = match_created([batch[index] for index in pending], candidates, dedupe_key=dedupe_key)
    for index, match in zip(pending, matches):
        created[index] = match
    return sum(match is not None for match in matches)


@dataclass
class AddProgress:
    """
    How far an add of many items got, saved after every step so that a later task try
    continues instead of adding again.

    ``batches``: the ids of each finished batch (``None`` for an item the queue refused as a
    duplicate) — together a prefix of the input, in order. ``mark_id``: the queue's newest id
    before the next batch is sent. ``in_flight_since``: when (local clock) a batch was sent
    whose answer is not recorded yet.

    Saved in parts so that each step writes O(batch) bytes, not the whole id list:
    :meth:`header` (a few numbers) after every step, and each batch's ids once.
    """

    fingerprint: str
    batches: list[list[str | None]] = field(default_factory=list)
    #: Saved in parts: the header counts them under this name (see ``tasks.state.SavedProgress``).
    PARTS: ClassVar[str] = "batches"
    mark_id: int | None = None
    in_flight_since: float | None = None

    @property
    def ids(self) -> list[str | None]:
        return [item_id for batch in self.batches for item_id in batch]

    def header(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "batches": len(self.batches),
            "mark_id": self.mark_id,
            "in_flight_since": self.in_flight_since,
        }

    @classmethod
    def load(cls, header: Any, batch: Callable[[int], Any], fingerprint: str) -> AddProgress:
        """The saved progress of the same add (``batch(n)``: the saved ids of batch n), or a fresh start."""
        if not isinstance(header, dict) or header.get("fingerprint") != fingerprint:
            return cls(fingerprint)
        if isinstance(header.get("ids"), list):
            # Saved by a provider version that kept all ids in one value and no mark: the
            # highest id saved (or 0: the whole queue) is a mark that misses none of ours.
            ids = [None if item_id is None else str(item_id) for item_id in header["ids"]]
            in_flight = header.get("in_flight_since")
            highest = max((int(item_id) for item_id in ids if item_id), default=0 if in_flight is not None else None)
            return cls(fingerprint, [ids] if ids else [], highest, in_flight)
        batches = []
        for number in range(int(header.get("batches") or 0)):
            ids = batch(number)
            if not isinstance(ids, list):
                break  # a part that never got written: continue from the parts that did
            batches.append([None if item_id is None else str(item_id) for item_id in ids])
        mark = header.get("mark_id")
        return cls(fingerprint, batches, None if mark is None else int(mark), header.get("in_flight_since"))


def add_fingerprint(queue_id: str, items: Sequence[Mapping[str, Any]]) -> str:
    """
    Identifies one add's input, so saved progress is only reused for the same items: the
    queue and the items' digest (:class:`ValidWorkItems`, computed item by item as they are
    validated). The same input gives the same fingerprint in every try.
    """
    digest = validate_work_items(items).digest
    return hashlib.sha256(f"{queue_id}\n{digest}".encode()).hexdigest()


def add_items(
    session: ControlRoomSession,
    queue_id: str,
    items: Sequence[Mapping[str, Any]],
    *,
    batch_size: int,
    progress: AddProgress,
    clock: Callable[[], float],
    lost_answer_delay: float,
    dedupe_key: str | None = None,
    fail_on_duplicate: bool = True,
    keep_items: bool = True,
    save: Callable[[AddProgress], None] = lambda _: None,
    warn: Callable[[str], None] = lambda _: None,
    note: Callable[[str], None] = lambda _: None,
) -> Operation[list[dict[str, Any]]]:
    """
    Add ``items`` (validated) ``batch_size`` per request, each exactly once, continuing
    ``progress`` (a fresh one, or where an earlier try stopped: items it created are
    skipped, a batch it may have sent is checked first).

    :param save: persists the progress before each batch is sent and after its answer.
    :param warn: receives what the user should see in the task log (items found after a lost
        answer; duplicates skipped).
    :param note: receives the progress (items added, id range, rate, time left; at most one
        line per ``PROGRESS_EVERY`` seconds on ``clock``) and, at the end, one summary line:
        the count and the lowest and highest id, not every id.
    :param fail_on_duplicate: items the queue refuses as duplicates raise
        :class:`DuplicateWorkItemsError` (after the others were added), else a warning each.
    :return: the created items in request order (empty unless ``keep_items``).
    """
    created: list[dict[str, Any]] = []
    earlier = len(progress.ids)
    log = ProgressLog(clock, note, done=earlier)
    for start in range(len(progress.ids), len(items), batch_size):
        if progress.mark_id is None:
            progress.mark_id = yield from newest_id(session, queue_id)
        maybe_sent_since, progress.in_flight_since = progress.in_flight_since, clock()
        save(progress)
        outcome = yield from add_batch(
            session,
            queue_id,
            items[start : start + batch_size],
            mark_id=progress.mark_id,
            clock=clock,
            lost_answer_delay=lost_answer_delay,
            dedupe_key=dedupe_key,
            maybe_sent_since=maybe_sent_since,
        )
        if outcome.reconciled:
            warn(
                f"{outcome.reconciled} of {len(outcome.created)} work item(s) of a batch whose answer was lost "
                f"were already in queue {queue_id}: not added again."
            )
        ids = [None if item is None else item["id"] for item in outcome.created]
        if keep_items:
            created += [item for item in outcome.created if item is not None]
        progress.batches.append(ids)
        progress.mark_id = max([progress.mark_id, *(int(item_id) for item_id in ids if item_id)])
        progress.in_flight_since = None
        save(progress)
        if log.due():
            sent = start + len(ids)
            text = f"Sent {sent} of {len(items)} work item(s) to queue {queue_id} ({id_range(progress.ids)})"
            log.step(sent, len(items) - sent, text)
    refused = [
        f"work_items[{index}] {_describe(items[index], dedupe_key)}"
        for index, item_id in enumerate(progress.ids)
        if item_id is None
    ]
    if refused and fail_on_duplicate:
        raise DuplicateWorkItemsError(
            f"Queue {queue_id} refused {len(refused)} work item(s) as duplicates of items it already "
            f"holds (disallowDuplicate); the other {len(items) - len(refused)} were added:\n  " + "\n  ".join(refused)
        )
    for line in refused:
        warn(f"Skipped as a duplicate the queue already holds: {line}")
    added = len(progress.ids) - len(refused)
    by_earlier = sum(item_id is not None for item_id in progress.ids[:earlier])
    by_earlier_text = f", {by_earlier} of them by an earlier try" if by_earlier else ""
    skipped = f"; {len(refused)} skipped as duplicates" if refused else ""
    note(
        f"Added {added} work item(s) to queue {queue_id} in {duration(log.elapsed())}{by_earlier_text}: "
        f"{id_range(progress.ids)}{skipped}."
    )
    return created


def _describe(item: Mapping[str, Any], dedupe_key: str | None) -> str:
    if dedupe_key:
        return f"({dedupe_key}={item[dedupe_key]!r})"
    text = json.dumps(item, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
