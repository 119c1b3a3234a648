"""
The emulated bot that works the queues.

Lazy and deterministic: nothing runs in the background. Before every request the state
calls :meth:`BotRunner.advance` with the time, and each item is moved exactly as if the bot
had run all along (on the base clock: ``clock_offset`` changes no delay). The bot keeps the
items it waits on in heaps by due time, so a request costs it only the transitions due, not
a look at every item:

- NEW → ACTIVE ``pickup_delay`` seconds after the item became NEW (creation, or an update
  that set status NEW). With ``bot_rate`` the bot takes at most that many items per second,
  oldest first. ``pause_bot`` keeps items NEW; time spent paused does not count.
- ACTIVE → final status ``work_delay`` seconds later, decided by the item's data and whether
  the bot has worked it before (:func:`outcome`). ``updatedOn`` is the moment of the transition, on the Control Room's
  clock; each transition bumps ``version``.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automation_anywhere_emulator.clock import ControlRoomClock
from automation_anywhere_emulator.config import EmulatorConfig
from automation_anywhere_emulator.models import WorkItem

RESULT_TEXT = "Processed by emulated bot"
STATUS_PREFIX = "STATUS:"
#: In a value: the item fails the first time the bot works it, and succeeds when re-queued.
FAIL_ONCE = "FAIL_ONCE"
FAILURE_STATUSES = frozenset({"FAILED", "UNSUCCESSFUL", "DATA_ERROR", "ERROR"})
SUCCESS_STATUSES = frozenset({"COMPLETED", "SUCCESSFUL"})

_JOB_NAMESPACE = uuid.UUID("5a1e7c3e-8f35-4b8e-9a49-aa0e0e0e0e0e")


@dataclass(frozen=True)
class Outcome:
    status: str
    result: str = ""
    error: str = ""


def outcome(data: Mapping[str, Any], *, worked_before: bool = False) -> Outcome:
    """
    How the bot ends an item, from its top-level ``json`` values, first rule that applies:

    1. a string value ``STATUS:<X>`` → status ``X`` (any text, e.g. ``ON_HOLD``,
       ``DATA_ERROR`` or an unknown one); ``error`` is set for FAILED, UNSUCCESSFUL,
       DATA_ERROR and ERROR, ``result`` for COMPLETED and SUCCESSFUL;
    2. a string value containing ``FAIL_ONCE``, the first time the bot works the item (not
       ``worked_before``) → FAILED, ``error`` "Emulated bot failure: <attribute> contains
       FAIL_ONCE (a failure that a re-queue mends)"; worked before, ``FAIL_ONCE`` counts
       for nothing;
    3. a string value containing ``FAIL`` → FAILED, ``error`` "Emulated bot failure:
       <attribute> contains FAIL";
    4. otherwise COMPLETED with ``result`` "Processed by emulated bot".
    """
    for attribute, value in data.items():
        if isinstance(value, str) and value.startswith(STATUS_PREFIX) and value[len(STATUS_PREFIX) :].strip():
            status = value[len(STATUS_PREFIX) :].strip()
            if status in FAILURE_STATUSES:
                return Outcome(status, error=f"Emulated bot set status {status}: {attribute} is {value}")
            return Outcome(status, result=RESULT_TEXT if status in SUCCESS_STATUSES else "")
    for attribute, value in data.items():
        if isinstance(value, str) and FAIL_ONCE in value and not worked_before:
            return Outcome(
                "FAILED",
                error=f"Emulated bot failure: {attribute} contains {FAIL_ONCE} (a failure that a re-queue mends)",
            )
    for attribute, value in data.items():
        if isinstance(value, str) and "FAIL" in value.replace(FAIL_ONCE, ""):
            return Outcome("FAILED", error=f"Emulated bot failure: {attribute} contains FAIL")
    return Outcome("COMPLETED", result=RESULT_TEXT)


@dataclass(frozen=True)
class BotIdentity:
    """What the bot writes into the items it takes."""

    device_id: int
    device_user_id: int
    automation_id: int

    @classmethod
    def from_seed(cls, entry: Mapping[str, Any]) -> BotIdentity:
        return cls(int(entry["deviceId"]), int(entry["deviceUserId"]), int(entry["automationId"]))


#: A heap entry: (since when, item id, tie-breaker, item). The entry is stale, and skipped,
#: once the item's status or that time has changed (updated, deleted, taken, finished).
_Entry = tuple[float, int, int, WorkItem]


class BotRunner:
    def __init__(self, identity: BotIdentity) -> None:
        self._identity = identity
        self._free_at = float("-inf")  # earliest time a rate-limited bot can take the next item
        self._waiting: list[_Entry] = []  # NEW items by waiting_since, then id (oldest first)
        self._active: list[_Entry] = []  # the bot's ACTIVE items by active_since
        self._paused_at: float | None = None  # the last moment seen paused, until resumed
        self._ties = itertools.count()  # an item set NEW twice at one moment has two entries
        self._worked: set[int] = set()  # ids of the items the bot has finished at least once

    def watch(self, item: WorkItem) -> None:
        """Take note of an item that became NEW (``waiting_since`` set): created, or set NEW."""
        assert item.waiting_since is not None
        heapq.heappush(self._waiting, (item.waiting_since, item.id, next(self._ties), item))

    def advance(self, clock: ControlRoomClock, config: EmulatorConfig, now: float) -> None:
        """Apply every transition due by base time ``now``; the caller holds the state's lock."""
        if config.pause_bot:
            self._paused_at = now
        else:
            if self._paused_at is not None:
                self._resume(self._paused_at)
                self._paused_at = None
            self._pick_up(clock, now, config)
        while self._active:
            active_since, _, _, item = self._active[0]
            if item.status != "ACTIVE" or item.active_since != active_since:
                heapq.heappop(self._active)
            elif active_since + config.work_delay <= now:
                heapq.heappop(self._active)
                self._finish(item, clock.shown(active_since + config.work_delay))
            else:
                break

    def _resume(self, paused_at: float) -> None:
        """Paused time does not count: every waiting item waits from ``paused_at`` at the earliest."""
        waiting, self._waiting = [entry for entry in self._waiting if _is_waiting(entry)], []
        for waiting_since, item_id, tie, item in waiting:
            item.waiting_since = max(waiting_since, paused_at)
            self._waiting.append((item.waiting_since, item_id, tie, item))
        heapq.heapify(self._waiting)

    def _pick_up(self, clock: ControlRoomClock, now: float, config: EmulatorConfig) -> None:
        while self._waiting:
            entry = self._waiting[0]
            if not _is_waiting(entry):
                heapq.heappop(self._waiting)
                continue
            waiting_since, _, _, item = entry
            start = waiting_since + config.pickup_delay
            if config.bot_rate is not None:
                start = max(start, self._free_at)
            if start > now:
                break
            heapq.heappop(self._waiting)
            if config.bot_rate is not None:
                self._free_at = start + 1.0 / config.bot_rate
            item.status = "ACTIVE"
            item.waiting_since = None
            item.active_since = start
            item.device_id = self._identity.device_id
            item.device_user_id = self._identity.device_user_id
            item.automation_id = self._identity.automation_id
            item.job_execution_id = str(uuid.uuid5(_JOB_NAMESPACE, f"{item.id}/{item.version}"))
            item.touch(self._identity.device_user_id, clock.shown(start))
            heapq.heappush(self._active, (start, item.id, next(self._ties), item))

    def _finish(self, item: WorkItem, at: float) -> None:
        """End ``item``; ``at``: when, as the Control Room shows it."""
        end = outcome(item.data, worked_before=item.id in self._worked)
        self._worked.add(item.id)
        item.status = end.status
        item.result = end.result
        item.error = end.error
        item.active_since = None
        item.touch(self._identity.device_user_id, at)


def _is_waiting(entry: _Entry) -> bool:
    waiting_since, _, _, item = entry
    return item.status == "NEW" and item.waiting_since == waiting_since
