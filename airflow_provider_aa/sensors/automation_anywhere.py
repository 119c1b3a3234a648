"""Wait for Automation Anywhere work items to move on."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow_provider_aa.airflow_compat import AirflowFailException, AirflowSensorTimeout, conf
from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_RUNNING_STATUSES,
    judge,
    normalise_statuses,
)
from airflow_provider_aa.control_room.work_items import validate_id, validate_ids
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger

__all__ = ["AutomationAnywhereWorkItemSensor", "WORK_ITEM_RUNNING_STATUSES", "WorkItemWatch"]


class AutomationAnywhereWorkItemSensor(BaseSensorOperator):
    """
    Wait until work items leave the pending statuses (by default: until a bot picked them up).

    Each poke reads all items with one list request per 100 ids.

    - Keeps waiting while any item's status is in ``pending_statuses``. To wait until the
      items are *finished*, pass ``pending_statuses=WORK_ITEM_RUNNING_STATUSES``.
    - Fails (without retries) as soon as an item is in ``failure_statuses``, naming each
      failed item's id, status and ``error`` (or ``result``) text.
    - Fails (without retries) when the queue does not hold an id.
    - A status this provider does not know is logged once and keeps the sensor waiting.

    Works in ``poke`` and ``reschedule`` mode, and deferrable: it pokes once, then hands the
    wait to :class:`AutomationAnywhereWorkItemTrigger` in the triggerer (no worker slot
    held), with the same outcome, XCom and errors. ``poke_interval``, ``timeout``,
    ``exponential_backoff``, ``max_wait`` and ``soft_fail`` apply in every mode.

    :param queue_id: the work queue's id (templated).
    :param work_item_ids: one id or a list of ids (templated; e.g. the add operator's XComArg).
    :param pending_statuses: statuses that mean "keep waiting" (default ``("NEW",)``).
    :param failure_statuses: statuses that fail the task (default FAILED, UNSUCCESSFUL,
        DATA_ERROR, ERROR).
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).

    XCom (return value): ``{id: work item}`` for every id, as the Control Room returned the
    items (ids as strings), e.g. ``{"40957": {"id": "40957", "status": "COMPLETED",
    "result": "...", "json": {...}, ...}}``.
    """

    template_fields: Sequence[str] = ("queue_id", "work_item_ids")
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        queue_id: int | str,
        work_item_ids: Any,
        pending_statuses: Collection[str] = ("NEW",),
        failure_statuses: Collection[str] = WORK_ITEM_FAILURE_STATUSES,
        automation_anywhere_conn_id: str = AutomationAnywhereHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.queue_id = queue_id
        self.work_item_ids = work_item_ids
        self.pending_statuses = normalise_statuses(pending_statuses, "pending_statuses")
        self.failure_statuses = normalise_statuses(failure_statuses, "failure_statuses")
        self.automation_anywhere_conn_id = automation_anywhere_conn_id

    @cached_property
    def hook(self) -> AutomationAnywhereHook:
        return AutomationAnywhereHook(self.automation_anywhere_conn_id)

    @cached_property
    def watch(self) -> WorkItemWatch:
        """The rendered, validated wait (built on first use, after templating)."""
        return WorkItemWatch(
            queue_id=validate_id(self.queue_id, "queue_id"),
            work_item_ids=validate_ids(self.work_item_ids, "work_item_ids"),
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            log=self.log,
        )

    def execute(self, context: Context) -> Any:
        try:
            if not self.deferrable:
                return super().execute(context)
            first = self.poke(context)
            if first.is_done:
                return first.xcom_value
        finally:
            if "hook" in self.__dict__:
                self.hook.close()
        self.defer(
            trigger=self.watch.trigger(self.automation_anywhere_conn_id, timeout=self.timeout, poke_interval=self.poke_interval, exponential_backoff=self.exponential_backoff, max_wait=self.max_wait),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after deferral with the outcome a poke would have had."""
        return self.watch.resume(event)

    def poke(self, context: Context) -> PokeReturnValue:
        items = self.hook.get_work_items(self.watch.queue_id, self.watch.work_item_ids)
        done = self.watch.check(items)
        return PokeReturnValue(is_done=done is not None, xcom_value=done)


class WorkItemWatch:
    """
    One wait on work items: what ends it, shared by the sensor, the add operator's
    ``wait_for_completion`` and their deferred resumption, so all give the same outcome.

    ``log`` is the owning operator's logger.
    """

    def __init__(
        self,
        *,
        queue_id: str,
        work_item_ids: list[str],
        pending_statuses: tuple[str, ...],
        failure_statuses: tuple[str, ...],
        log: Any,
    ) -> None:
        self.queue_id = queue_id
        self.work_item_ids = work_item_ids
        self.pending_statuses = pending_statuses
        self.failure_statuses = failure_statuses
        self.log = log
        self._reported_unknown: set[str] = set()

    def check(self, items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
        """
        Judge one reading: the items when the wait is over, ``None`` while it goes on.

        :raises AirflowFailException: an item failed, or the queue does not hold an id.
        """
        missing = [item_id for item_id in self.work_item_ids if item_id not in items]
        if missing:
            raise AirflowFailException(f"Work queue {self.queue_id} holds no work item with id {', '.join(missing)}.")
        verdict = judge(items, pending_statuses=self.pending_statuses, failure_statuses=self.failure_statuses)
        for item_id, status in verdict.unknown.items():
            if status not in self._reported_unknown:
                self._reported_unknown.add(status)
                self.log.warning(
                    "Work item %s has status %r, unknown to this provider: waiting on until it "
                    "changes or the wait times out.",
                    item_id,
                    status,
                )
        if verdict.failed:
            raise AirflowFailException(f"Work queue {self.queue_id}: {verdict.failure_message()}")
        count = len(self.work_item_ids)
        if verdict.pending:
            self.log.info("%d of %d work item(s) still pending in queue %s.", len(verdict.pending), count, self.queue_id)
            return None
        self.log.info("All %d work item(s) in queue %s are done: %s", count, self.queue_id, _summary(items))
        return items

    def trigger(
        self, conn_id: str, *, timeout: float, poke_interval: float, exponential_backoff: bool, max_wait: Any
    ) -> AutomationAnywhereWorkItemTrigger:
        # Imported here: DAG parsing should not pay for httpx and the trigger machinery.
        from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger

        max_poke_interval = max_wait.total_seconds() if isinstance(max_wait, timedelta) else max_wait
        return AutomationAnywhereWorkItemTrigger(
            automation_anywhere_conn_id=conn_id,
            queue_id=self.queue_id,
            work_item_ids=self.work_item_ids,
            pending_statuses=list(self.pending_statuses),
            failure_statuses=list(self.failure_statuses),
            deadline=time.time() + timeout,
            poke_interval=poke_interval,
            exponential_backoff=exponential_backoff,
            max_poke_interval=max_poke_interval or 3600.0,
        )

    def resume(self, event: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The outcome of a trigger event: the items, or the error a poke would raise."""
        status = event.get("status")
        if status == "done":
            # The trigger stops on the same judgement (statuses.judge) as check(), so this
            # ends the wait: the items, or the same failure a poke raises.
            done = self.check(event["items"])
            if done is not None:
                return done
        if status == "timeout":
            raise AirflowSensorTimeout(event.get("message", "Timed out waiting for work items."))
        raise AutomationAnywhereError(f"Waiting for work items failed in the triggerer: {event.get('message')}")


def _summary(items: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{item_id}={item.get('status')}" for item_id, item in items.items())
