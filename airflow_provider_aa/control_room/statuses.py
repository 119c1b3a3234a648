"""
Work item statuses and what they mean for a waiting task.

Statuses stay plain strings: Control Room versions differ (``ACTIVE`` or ``IN_PROGRESS``,
``DATA_ERROR`` or ``ERROR``) and may add new ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.progress import id_range, some_ids

#: Still being worked on.
WORK_ITEM_WAITING_STATUSES = ("NEW", "READY_TO_RUN", "STAGED", "QUEUED", "PUSHED", "ACTIVE", "IN_PROGRESS", "DRAFT")
#: Finished successfully.
WORK_ITEM_SUCCESS_STATUSES = ("COMPLETED", "SUCCESSFUL")
#: Finished with a failure (the default ``failure_statuses`` of the sensor).
WORK_ITEM_FAILURE_STATUSES = ("FAILED", "UNSUCCESSFUL", "DATA_ERROR", "ERROR")
#: Stopped until a person or a schedule moves the item on; waited for until the timeout.
WORK_ITEM_HELD_STATUSES = ("ON_HOLD", "DEFERRED", "PAUSED", "UNKNOWN")
#: Every status of an item that is not finished yet: pass it as ``pending_statuses`` to
#: wait until items are finished.
WORK_ITEM_RUNNING_STATUSES = WORK_ITEM_WAITING_STATUSES + WORK_ITEM_HELD_STATUSES

#: Failed items a failure message names one by one (with their text) before it counts the rest.
FAILURES_SHOWN = 20

KNOWN_STATUSES = frozenset(WORK_ITEM_RUNNING_STATUSES + WORK_ITEM_SUCCESS_STATUSES + WORK_ITEM_FAILURE_STATUSES)


@dataclass(frozen=True)
class WaitVerdict:
    """
    Where a set of work items stands for a task waiting on them.

    ``failed`` lists ``(id, status, text)`` of items in a failure status, ``pending`` the ids
    still waiting, ``unknown`` the statuses this provider has never heard of (they keep the
    wait going: an unknown status is never taken for success).
    """

    failed: list[tuple[str, str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)

    def failure_message(self) -> str:
        """Each failed item's id, status and text, the first :data:`FAILURES_SHOWN` of them; then a count."""
        lines = [f"{len(self.failed)} work item(s) failed:"]
        lines += [
            f"  id {item_id}: status {status}: {text or '(no error text)'}"
            for item_id, status, text in self.failed[:FAILURES_SHOWN]
        ]
        if len(self.failed) > FAILURES_SHOWN:
            rest = self.failed[FAILURES_SHOWN:]
            lines.append(f"  ... and {len(rest)} more ({id_range([item_id for item_id, _, _ in rest])}).")
        return "\n".join(lines)


def judge(
    items: Mapping[str, Mapping[str, Any]],
    *,
    pending_statuses: Collection[str],
    failure_statuses: Collection[str],
) -> WaitVerdict:
    """Classify every item: failed, still pending (incl. unknown statuses), or settled."""
    verdict = WaitVerdict()
    for item_id, item in items.items():
        status = str(item.get("status") or "UNKNOWN").upper()
        if status in failure_statuses:
            text = cut_text(item.get("error") or item.get("result"))
            verdict.failed.append((item_id, status, text))
        elif status in pending_statuses:
            verdict.pending.append(item_id)
        elif status not in KNOWN_STATUSES:
            verdict.unknown[item_id] = status
            verdict.pending.append(item_id)
    return verdict


@dataclass(frozen=True)
class WorkItemVerdict:
    """
    The verdict of one reading of a wait on work items.

    ``outcome``: ``"waiting"``, ``"done"`` (no item pending), ``"failed"`` (an item is in a
    failure status) or ``"missing"`` (the queue does not hold an id). ``message`` says it in
    words — the same words whether a poke or a trigger took the reading.
    """

    outcome: Literal["waiting", "done", "failed", "missing"]
    message: str
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def over(self) -> bool:
        return self.outcome != "waiting"


#: Characters of a work item's ``status``, ``result`` and ``error`` text that a wait's XCom
#: value and trigger event keep; longer text is cut there and marked (:func:`cut_text`).
TEXT_LIMIT = 200


_CUT = re.compile(r"… \[[0-9]+ more characters\]")


def cut_text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """
    ``value`` as text of at most ``limit`` characters, and a marker saying how many were cut.
    Text cut already stays as it is: a deferred wait's resumption judges the items of the
    trigger's event again, and must name them as the trigger did.
    """
    text = "" if value is None else str(value)
    if len(text) <= limit or _CUT.fullmatch(text, limit):
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def work_item_outcome(item_id: str, item: Mapping[str, Any]) -> dict[str, str]:
    """
    What a wait returns of one work item by default: ``{"id", "status", "result", "error"}``,
    each text at most :data:`TEXT_LIMIT` characters and a marker ("" when the item has none):
    a bounded size per item, whatever data the item carries.
    """
    return {
        "id": item_id,
        "status": cut_text(item.get("status")),
        "result": cut_text(item.get("result")),
        "error": cut_text(item.get("error")),
    }


@dataclass(frozen=True)
class WorkItemCheck:
    """
    What ends a wait on work items. The one judgement behind the sensor's pokes, the add
    operator's ``wait_for_completion`` and the trigger, so that poking and deferring end
    at the same reading with the same outcome and message.

    ``full_items``: the wait's result holds each item as the Control Room returned it (all
    its fields and data) instead of :func:`work_item_outcome`.
    """

    queue_id: str
    work_item_ids: Sequence[str]
    pending_statuses: Collection[str]
    failure_statuses: Collection[str]
    full_items: bool = False

    def result(self, items: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The wait's value of a reading: ``{id: item}`` for the ids asked that ``items`` holds, in their order."""
        if self.full_items:
            return {item_id: dict(items[item_id]) for item_id in self.work_item_ids if item_id in items}
        return {
            item_id: work_item_outcome(item_id, items[item_id]) for item_id in self.work_item_ids if item_id in items
        }

    def judge(self, items: Mapping[str, Mapping[str, Any]]) -> WorkItemVerdict:
        """Judge one reading (``{id: work item}``; ids the queue does not hold are absent)."""
        missing = [item_id for item_id in self.work_item_ids if item_id not in items]
        if missing:
            return WorkItemVerdict(
                "missing", f"Work queue {self.queue_id} holds no work item with id {some_ids(missing)}."
            )
        asked = {item_id: items[item_id] for item_id in self.work_item_ids}
        verdict = judge(asked, pending_statuses=self.pending_statuses, failure_statuses=self.failure_statuses)
        if verdict.failed:
            return WorkItemVerdict(
                "failed", f"Work queue {self.queue_id}: {verdict.failure_message()}", verdict.unknown
            )
        count = len(self.work_item_ids)
        if verdict.pending:
            return WorkItemVerdict(
                "waiting",
                f"{len(verdict.pending)} of {count} work item(s) still pending in queue {self.queue_id}: "
                f"{some_ids(verdict.pending)}.",
                verdict.unknown,
            )
        # Counts by status and the id range: a wait on 100,000 items logs one short line.
        statuses = Counter(str(item.get("status")) for item in asked.values())
        summary = ", ".join(f"{number} {status}" for status, number in sorted(statuses.items()))
        return WorkItemVerdict(
            "done",
            f"All {count} work item(s) in queue {self.queue_id} are done ({id_range(self.work_item_ids)}): {summary}.",
        )


def normalise_statuses(values: Any, field: str) -> tuple[str, ...]:
    """A status or a collection of statuses → upper-case tuple (statuses are case-blind)."""
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, Collection) or not all(isinstance(value, str) and value.strip() for value in items):
        raise InvalidInputError(f"{field} must be a status name or a list of status names, got {values!r}.")
    return tuple(value.strip().upper() for value in items)


class UnknownStatusWarnings:
    """
    Warns once per wait about each status this provider does not know: the wait goes on,
    and a poke every few seconds should not repeat the same warning.

    :param log: the logger of the task or trigger that waits.
    :param subject: what carries the status, e.g. ``"Work item"`` or ``"Bot run"``.
    """

    def __init__(self, log: Any, subject: str) -> None:
        self._log = log
        self._subject = subject
        self._warned: set[str] = set()

    def warn(self, unknown: Mapping[str, str]) -> None:
        """``unknown``: record id → status, as in a verdict."""
        for record_id, status in unknown.items():
            if status not in self._warned:
                self._warned.add(status)
                self._log.warning(
                    "%s %s has status %r, unknown to this provider: waiting on until it changes or the wait times out.",
                    self._subject,
                    record_id,
                    status,
                )
