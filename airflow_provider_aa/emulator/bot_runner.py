"""
The emulated bot that works the queues.

Lazy and deterministic: nothing runs in the background. Before every request the state
calls :meth:`BotRunner.advance` with the current time, and each item is moved exactly as if
the bot had run all along:

- NEW → ACTIVE ``pickup_delay`` seconds after the item became NEW (creation, or an update
  that set status NEW). With ``bot_rate`` the bot takes at most that many items per second,
  oldest first. ``pause_bot`` keeps items NEW; time spent paused does not count.
- ACTIVE → final status ``work_delay`` seconds later, decided by the item's data
  (:func:`outcome`). ``updatedOn`` is the moment of the transition; each transition bumps
  ``version``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_aa.emulator.config import EmulatorConfig
from airflow_provider_aa.emulator.models import WorkItem

RESULT_TEXT = "Processed by emulated bot"
STATUS_PREFIX = "STATUS:"
FAILURE_STATUSES = frozenset({"FAILED", "UNSUCCESSFUL", "DATA_ERROR", "ERROR"})
SUCCESS_STATUSES = frozenset({"COMPLETED", "SUCCESSFUL"})

_JOB_NAMESPACE = uuid.UUID("5a1e7c3e-8f35-4b8e-9a49-aa0e0e0e0e0e")


@dataclass(frozen=True)
class Outcome:
    status: str
    result: str = ""
    error: str = ""


def outcome(data: Mapping[str, Any]) -> Outcome:
    """
    How the bot ends an item, from its top-level ``json`` values, first rule that applies:

    1. a string value ``STATUS:<X>`` → status ``X`` (any text, e.g. ``ON_HOLD``,
       ``DATA_ERROR`` or an unknown one); ``error`` is set for FAILED, UNSUCCESSFUL,
       DATA_ERROR and ERROR, ``result`` for COMPLETED and SUCCESSFUL;
    2. a string value containing ``FAIL`` → FAILED, ``error`` "Emulated bot failure:
       <attribute> contains FAIL";
    3. otherwise COMPLETED with ``result`` "Processed by emulated bot".
    """
    for attribute, value in data.items():
        if isinstance(value, str) and value.startswith(STATUS_PREFIX) and value[len(STATUS_PREFIX) :].strip():
            status = value[len(STATUS_PREFIX) :].strip()
            if status in FAILURE_STATUSES:
                return Outcome(status, error=f"Emulated bot set status {status}: {attribute} is {value}")
            return Outcome(status, result=RESULT_TEXT if status in SUCCESS_STATUSES else "")
    for attribute, value in data.items():
        if isinstance(value, str) and "FAIL" in value:
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


class BotRunner:
    def __init__(self, identity: BotIdentity) -> None:
        self._identity = identity
        self._free_at = float("-inf")  # earliest time a rate-limited bot can take the next item

    def advance(self, items: Iterable[WorkItem], now: float, config: EmulatorConfig) -> None:
        """Apply every transition due by ``now``; the caller holds the state's lock."""
        items = list(items)
        if config.pause_bot:
            for item in items:
                if item.status == "NEW" and item.waiting_since is not None:
                    item.waiting_since = max(item.waiting_since, now)
        else:
            self._pick_up(items, now, config)
        for item in items:
            if item.status == "ACTIVE" and item.active_since is not None:
                finished_at = item.active_since + config.work_delay
                if finished_at <= now:
                    self._finish(item, finished_at)

    def _pick_up(self, items: list[WorkItem], now: float, config: EmulatorConfig) -> None:
        waiting = sorted(
            (item.waiting_since, item.id, item)
            for item in items
            if item.status == "NEW" and item.waiting_since is not None
        )
        for waiting_since, _, item in waiting:
            start = waiting_since + config.pickup_delay
            if config.bot_rate is not None:
                start = max(start, self._free_at)
            if start > now:
                break
            if config.bot_rate is not None:
                self._free_at = start + 1.0 / config.bot_rate
            item.status = "ACTIVE"
            item.waiting_since = None
            item.active_since = start
            item.device_id = self._identity.device_id
            item.device_user_id = self._identity.device_user_id
            item.automation_id = self._identity.automation_id
            item.job_execution_id = str(uuid.uuid5(_JOB_NAMESPACE, f"{item.id}/{item.version}"))
            item.touch(self._identity.device_user_id, start)

    def _finish(self, item: WorkItem, at: float) -> None:
        end = outcome(item.data)
        item.status = end.status
        item.result = end.result
        item.error = end.error
        item.active_since = None
        item.touch(self._identity.device_user_id, at)
