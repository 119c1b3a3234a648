"""
Waiting on work items and bot runs: what ends a wait and what the task makes of it, shared
by the sensors, the operators' ``wait_for_completion`` and their deferred resumption, so
that every way of waiting gives the same outcome. The judgement itself is the protocol's
(:class:`~airflow_provider_aa.control_room.statuses.WorkItemCheck`,
:class:`~airflow_provider_aa.control_room.bots.BotRunCheck`); this module turns it into logs,
XCom values, Airflow's errors and triggers.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

from airflow_provider_aa.control_room.bots import BotRun, BotRunCheck, bot_run_result
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, FatalError, InvalidInputError
from airflow_provider_aa.control_room.statuses import UnknownStatusWarnings, WorkItemCheck
from airflow_provider_aa.tasks.errors import airflow_error

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseSensorOperator
    from airflow.triggers.base import StartTriggerArgs

    from airflow_provider_aa.control_room.settings import ConnectionSettings
    from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
    from airflow_provider_aa.tasks.state import TaskStateStore
    from airflow_provider_aa.triggers.automation_anywhere import (
        AutomationAnywhereBotRunTrigger,
        AutomationAnywhereWorkItemTrigger,
    )


class TriggerPolling(NamedTuple):
    """How a trigger polls, from a sensor's or operator's settings; the deadline is ``timeout`` from now."""

    timeout: float
    poke_interval: float
    exponential_backoff: bool = False
    max_poke_interval: float = 3600.0

    @classmethod
    def of(cls, sensor: BaseSensorOperator) -> TriggerPolling:
        max_wait = sensor.max_wait.total_seconds() if isinstance(sensor.max_wait, timedelta) else sensor.max_wait
        return cls(sensor.timeout, sensor.poke_interval, sensor.exponential_backoff, max_wait or 3600.0)

    def trigger_kwargs(self, now: float, *, with_deadline: bool = True) -> dict[str, Any]:
        """The trigger's polling arguments; ``now`` (epoch seconds) starts the ``timeout``."""
        return {
            **({"deadline": now + self.timeout} if with_deadline else {}),
            "poke_interval": self.poke_interval,
            "exponential_backoff": self.exponential_backoff,
            "max_poke_interval": self.max_poke_interval,
        }


def start_in_triggerer(sensor: AutomationAnywhereWorkItemSensor) -> tuple[bool, StartTriggerArgs | None]:
    """
    ``start_from_trigger`` and ``start_trigger_args`` for a work item sensor that asked to
    start in the triggerer: ``(False, None)`` where Airflow cannot render its values there.

    An upstream task's XCom (``add.output``) becomes a template that the triggerer renders
    as JSON, as a worker would resolve it; the sensor keeps the XComArg, so the task still
    depends on its upstream and a try started on a worker resolves it as always.

    :raises InvalidInputError: the sensor needs a worker (not deferrable, ``reschedule``
        mode, a queue given by name) or a value is neither a template nor an upstream XCom.
    """
    from airflow.providers.common.compat.sdk import XComArg
    from airflow.triggers.base import StartTriggerArgs

    from airflow_provider_aa.triggers.automation_anywhere import END_MARGIN
    from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS

    needs_worker = []
    if not sensor.deferrable:
        needs_worker.append("deferrable=False (it pokes on a worker)")
    if sensor.mode == "reschedule":
        needs_worker.append('mode="reschedule" (it pokes on a worker)')
    if sensor.queue_name is not None:
        needs_worker.append("queue_name (looked up on a worker; give queue_id)")
    if needs_worker:
        raise InvalidInputError(
            f"start_from_trigger=True starts the sensor in the triggerer, which this sensor cannot: "
            f"{', '.join(needs_worker)}."
        )
    values: dict[str, Any] = {}
    json_fields = []
    for field in ("queue_id", "work_item_ids"):
        value = getattr(sensor, field)
        if isinstance(value, XComArg):
            value = _xcom_template(field, value)
            json_fields.append(field)
        values[field] = value
    templated = [
        field for field, value in values.items() if isinstance(value, str) and any(m in value for m in ("{{", "{%"))
    ]
    if templated and not AIRFLOW_V_3_3_PLUS:
        warnings.warn(
            f"start_from_trigger=True with a templated {' and '.join(templated)} needs Airflow 3.3 or later, "
            f"whose triggerer renders templates; task {sensor.task_id!r} starts on a worker and defers from there.",
            UserWarning,
            stacklevel=4,
        )
        return False, None
    return True, StartTriggerArgs(
        trigger_cls="airflow_provider_aa.triggers.automation_anywhere.AutomationAnywhereWorkItemTrigger",
        trigger_kwargs={
            "automation_anywhere_conn_id": sensor.automation_anywhere_conn_id,
            **values,
            "pending_statuses": list(sensor.pending_statuses),
            "failure_statuses": list(sensor.failure_statuses),
            "return_full_items": sensor.return_full_items,
            "deadline": None,
            "timeout": float(sensor.timeout),
            **TriggerPolling.of(sensor).trigger_kwargs(0.0, with_deadline=False),
            "start_from_trigger": True,
            "json_fields": json_fields,
            "soft_fail": bool(sensor.soft_fail or sensor.never_fail),
            # Airflow retries a task failed from the triggerer when it has retries left, so a
            # failure that a worker would not retry goes to a worker then (see the trigger).
            "fail_in_triggerer": not sensor.retries,
        },
        next_method="execute_complete",
        timeout=timedelta(seconds=float(sensor.timeout) + END_MARGIN),
    )


def _xcom_template(field: str, value: Any) -> str:
    """A template rendering an upstream task's XCom as JSON, for an XComArg."""
    from airflow.sdk.definitions.xcom_arg import PlainXComArg

    if not isinstance(value, PlainXComArg) or value.operator.is_mapped:
        raise InvalidInputError(
            f"start_from_trigger=True takes {field} as a value, a template or an unmapped task's XCom "
            f"(task.output, task.output['key']), got {value!r}."
        )
    task_ids, key = json.dumps(value.operator.task_id), json.dumps(value.key)
    # map_indexes=-1: the triggerer reads one XCom (Airflow 3.3's triggerer does not serve
    # the reading of all of a task's map indexes that xcom_pull makes without it).
    return f"{{{{ ti.xcom_pull(task_ids={task_ids}, key={key}, map_indexes=-1) | tojson }}}}"


def warn_before_deferring(settings: ConnectionSettings, warn: Callable[[str], object]) -> None:
    """
    Before a task hands its wait to the triggerer: the triggerer's session and the workers'
    end each other when the connection asks for single-session tokens, and this is the first
    moment a task knows it will share the user with another process.
    """
    warning = settings.single_session_warning
    if warning:
        warn(f"Deferring to the triggerer, which logs in by itself. {warning}")


class TaskWorkItemWait:
    """
    One wait on work items: what ends it, shared by the sensor, the add operator's
    ``wait_for_completion`` and their deferred resumption, so all give the same outcome.

    :param full_items: the result holds each item as the Control Room returned it, instead
        of its id, status, result and error text, each cut to ``TEXT_LIMIT`` characters.
    :param log: the owning operator's logger.
    :param clock: epoch seconds, for the deferred wait's deadline (default ``time.time``).
    """

    def __init__(
        self,
        *,
        queue_id: str,
        work_item_ids: list[str],
        pending_statuses: tuple[str, ...],
        failure_statuses: tuple[str, ...],
        full_items: bool = False,
        log: Any,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.wait = WorkItemCheck(queue_id, tuple(work_item_ids), pending_statuses, failure_statuses, full_items)
        self.log = log
        self._clock = clock or time.time
        self._unknown_statuses = UnknownStatusWarnings(log, "Work item")

    @property
    def queue_id(self) -> str:
        return self.wait.queue_id

    @property
    def work_item_ids(self) -> list[str]:
        return list(self.wait.work_item_ids)

    def check(self, items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
        """
        Judge one reading: the wait's result (:meth:`WorkItemCheck.result`) when it is over,
        ``None`` while it goes on.

        :raises AirflowFailException: an item failed, or the queue does not hold an id.
        """
        return self.wait.result(items) if self._over(items) else None

    def _over(self, items: dict[str, dict[str, Any]]) -> bool:
        verdict = self.wait.judge(items)
        self._unknown_statuses.warn(verdict.unknown)
        if verdict.outcome in ("failed", "missing"):
            raise AirflowFailException(verdict.message)
        self.log.info(verdict.message)
        return verdict.outcome == "done"

    def trigger(self, conn_id: str, polling: TriggerPolling) -> AutomationAnywhereWorkItemTrigger:
        # Imported here: DAG parsing should not pay for httpx and the trigger machinery.
        from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger

        return AutomationAnywhereWorkItemTrigger(
            automation_anywhere_conn_id=conn_id,
            queue_id=self.wait.queue_id,
            work_item_ids=list(self.wait.work_item_ids),
            pending_statuses=list(self.wait.pending_statuses),
            failure_statuses=list(self.wait.failure_statuses),
            return_full_items=self.wait.full_items,
            **polling.trigger_kwargs(self._clock()),
        )

    def resume(self, event: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The outcome of a trigger event: the wait's result, or the error a poke would raise."""
        # The trigger ended the wait on the same judgement (WorkItemCheck) that check() makes,
        # and sent the result in the wait's shape: judged again here, it gives the result or
        # raises the same failure a poke raises.
        if event.get("status") == "done" and self._over(event["items"]):
            return dict(event["items"])
        raise event_error(event, "work items")


class TaskBotRunWait:
    """
    One wait on a bot deployment, shared by the sensor, the deploy operator's
    ``wait_for_completion`` and their deferred resumption, so all give the same outcome.
    The judgement is :meth:`BotRunCheck.judge`; this class turns it into logs, an XCom value
    or the task's failure.

    :param wait: the policy and its clocks.
    :param log: the owning operator's logger.
    :param store: where the clocks are kept between pokes and tries (forgotten once the wait
        is over); ``None`` keeps them in memory only.
    :param clock: epoch seconds, for the policy's deadlines and the deferred wait's (default
        ``time.time``).
    """

    def __init__(
        self,
        wait: BotRunCheck,
        *,
        log: Any,
        store: TaskStateStore | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.wait = wait
        self.log = log
        self._store = store
        self._clock = clock or time.time
        self._unknown_statuses = UnknownStatusWarnings(log, "Bot run")

    def check(self, runs: list[BotRun]) -> dict[str, Any] | None:
        """
        Judge one reading: the result when the wait is over, ``None`` while it goes on.

        :raises AirflowFailException: a run failed, or the policy gave up (no activity
            record after the grace period, a run paused or unknown too long).
        """
        before = self.wait.to_json()
        verdict = self.wait.judge(runs, self._clock())
        self._unknown_statuses.warn(verdict.unknown)
        if verdict.outcome == "waiting":
            if self._store is not None and self.wait.to_json() != before:
                self._store.save(self.wait.to_json())
            self.log.info(verdict.message)
            return None
        return self._finish(verdict.outcome, verdict.message, runs)

    def trigger(
        self, conn_id: str, polling: TriggerPolling, *, stop_on_kill: bool = True
    ) -> AutomationAnywhereBotRunTrigger:
        """The trigger that continues this wait; ``stop_on_kill``: a wait the user ends stops the runs."""
        from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereBotRunTrigger

        return AutomationAnywhereBotRunTrigger(
            automation_anywhere_conn_id=conn_id,
            wait=self.wait.to_json(),
            stop_on_kill=stop_on_kill,
            **polling.trigger_kwargs(self._clock()),
        )

    def resume(self, event: dict[str, Any]) -> dict[str, Any]:
        """The outcome of a trigger event: the result, or the error a poke would raise."""
        if event.get("status") == "done":
            # The trigger judged with the same BotRunCheck as check(): take its verdict.
            runs = [BotRun.from_json(run) for run in event.get("runs") or []]
            return self._finish(event["outcome"], str(event.get("message") or ""), runs)
        raise event_error(event, "the bot run")

    def _finish(self, outcome: str, message: str, runs: list[BotRun]) -> dict[str, Any]:
        if self._store is not None:
            self._store.done()
        if outcome != "completed":
            raise AirflowFailException(message)
        self.log.info(message)
        return bot_run_result(self.wait.deployment_id, runs)


def event_error(event: dict[str, Any], waiting_for: str) -> Exception:
    """The error for a trigger event that did not end the wait with a reading."""
    message = str(event.get("message") or "")
    if event.get("status") == "timeout":
        return AirflowSensorTimeout(message or f"Timed out waiting for {waiting_for}.")
    text = f"Waiting for {waiting_for} failed in the triggerer: {message}"
    # A refused login or bad input in the triggerer: a retry would only repeat it.
    return airflow_error(FatalError(text) if event.get("fatal") else AutomationAnywhereError(text))
