"""Wait for Automation Anywhere work items to move on, and for bot runs to finish."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue, conf

from airflow_provider_aa.control_room.bots import BotRunPolicy
from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_RUNNING_STATUSES,
    normalise_statuses,
)
from airflow_provider_aa.hooks import DEFAULT_CONN_ID
from airflow_provider_aa.links import AutomationAnywhereQueueLink, AutomationAnywhereRunLink
from airflow_provider_aa.tasks.errors import TaskErrors, check_id_or_name

# What a sensor needs only when it runs is imported then (see the operators' module).
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
    from airflow_provider_aa.tasks.waits import TaskBotRunWait, TaskWorkItemWait, TriggerPolling
    from airflow_provider_aa.triggers.automation_anywhere import (
        AutomationAnywhereBotRunTrigger,
        AutomationAnywhereWorkItemTrigger,
    )

__all__ = [
    "WORK_ITEM_RUNNING_STATUSES",
    "AutomationAnywhereBotRunSensor",
    "AutomationAnywhereWorkItemSensor",
]


class _AutomationAnywhereSensor(TaskErrors, BaseSensorOperator):
    """
    What the sensors share: a hook per task try (logged out when the try ends) and deferrable
    execution — one poke, then the wait continues in the subclass's trigger.
    """

    ui_color = "#ffb81c"

    def __init__(self, *, automation_anywhere_conn_id: str, deferrable: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> AutomationAnywhereHook:
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

        return AutomationAnywhereHook(self.automation_anywhere_conn_id)

    def execute(self, context: Context) -> Any:
        if getattr(self, "start_from_trigger", False):
            self.log.info(
                "start_from_trigger: this try started on a worker (as Airflow starts mapped tasks, and dag.test() "
                "runs tasks), so it pokes once and defers as usual."
            )
        # BaseSensorOperator runs every poke, the first one of a deferrable wait included, so
        # that soft_fail, never_fail, silent_fail and timeouts behave the same in every mode.
        try:
            return super().execute(context)
        finally:
            self._close_hook()

    def poke(self, context: Context) -> PokeReturnValue:
        reading = self._poke(context)
        if self.deferrable and not reading.is_done:
            from airflow_provider_aa.tasks.waits import TriggerPolling, warn_before_deferring

            # Hand the wait to the triggerer: TaskDeferred is a BaseException, so it passes
            # BaseSensorOperator's error handling untouched.
            warn_before_deferring(self.hook.settings, self.log.warning)
            self._close_hook()
            self.defer(
                trigger=self._trigger(context, TriggerPolling.of(self)),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )
        return reading

    def _close_hook(self) -> None:
        if "hook" in self.__dict__:
            self.hook.close()
            del self.__dict__["hook"]

    def _poke(self, context: Context) -> PokeReturnValue:
        """One reading of the Control Room."""
        raise NotImplementedError

    def _trigger(self, context: Context, polling: TriggerPolling) -> BaseTrigger:
        """The trigger that continues the wait after the first poke."""
        raise NotImplementedError


class AutomationAnywhereWorkItemSensor(_AutomationAnywhereSensor):
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
    :param queue_name: the work queue's name instead of ``queue_id`` (templated), looked up
        at the first poke of each try (exact, case-sensitive; a name matching no queue or
        several fails the task without retries). A deferred wait polls the id.
    :param work_item_ids: one id or a list of ids (templated; e.g. the add operator's XComArg).
    :param pending_statuses: statuses that mean "keep waiting" (default ``("NEW",)``).
    :param failure_statuses: statuses that fail the task (default FAILED, UNSUCCESSFUL,
        DATA_ERROR, ERROR).
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param return_full_items: return each item as the Control Room returned it (every field
        and the item's data: about 1.5 KB per item plus its data) instead of its outcome.
    :param start_from_trigger: start the wait in the triggerer and end it there: the task
        uses no worker at all (needs ``deferrable=True`` and ``queue_id``; see
        ``docs/work-items.md``). The triggerer renders ``queue_id`` and ``work_item_ids`` (on
        Airflow before 3.3, a templated value starts the task on a worker instead, with a
        warning) and ends the task with the XCom above, skipped (``soft_fail``) or failed
        (the reason in the task's log). Mapped tasks (``expand``) start on a worker.

    XCom (return value): ``{id: outcome}`` for every id in the order given (ids as strings),
    e.g. ``{"40957": {"id": "40957", "status": "COMPLETED", "result": "Paid", "error": ""}}``;
    ``status``, ``result`` and ``error`` hold at most 200 characters each, longer text is cut
    and marked ``… [N more characters]`` (so each item costs at most about 0.7 KB, and a
    deferred wait's trigger event the same). With ``return_full_items=True``: ``{id: work
    item}``, e.g. ``{"40957": {"id": "40957", "status": "COMPLETED", "result": "...",
    "json": {...}, "version": "2", ...}}``. See ``docs/payloads.md``. Under
    ``automation_anywhere_queue``: the queue (``{"control_room_url", "queue_id"}``) for the
    "Work queue" link.

    OpenLineage: the queue as an input (docs/lineage-and-links.md).
    """

    template_fields: Sequence[str] = ("queue_id", "queue_name", "work_item_ids")
    operator_extra_links = (AutomationAnywhereQueueLink(),)

    def __init__(
        self,
        *,
        queue_id: int | str | None = None,
        queue_name: str | None = None,
        work_item_ids: Any,
        pending_statuses: Collection[str] = ("NEW",),
        failure_statuses: Collection[str] = WORK_ITEM_FAILURE_STATUSES,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        return_full_items: bool = False,
        start_from_trigger: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(automation_anywhere_conn_id=automation_anywhere_conn_id, deferrable=deferrable, **kwargs)
        check_id_or_name("queue_id", queue_id, "queue_name", queue_name)
        self.return_full_items = return_full_items
        self.queue_id = queue_id
        self.queue_name = queue_name
        self.work_item_ids = work_item_ids
        self.pending_statuses = normalise_statuses(pending_statuses, "pending_statuses")
        self.failure_statuses = normalise_statuses(failure_statuses, "failure_statuses")
        #: The queue id this try waits on, for lineage.
        self._queue: str | None = None
        if start_from_trigger:
            from airflow_provider_aa.tasks.waits import start_in_triggerer

            self.start_from_trigger, self.start_trigger_args = start_in_triggerer(self)

    @cached_property
    def work_item_wait(self) -> TaskWorkItemWait:
        """
        The rendered, validated wait (built on first use, after templating); a queue given
        by name is looked up then, once per try, after the ids have been checked.
        """
        from airflow_provider_aa.control_room.work_items import validate_ids
        from airflow_provider_aa.tasks.names import queue_label, resolve_queue

        queue_label(self)
        validate_ids(self.work_item_ids, "work_item_ids")
        return self._work_item_wait(resolve_queue(self, self.hook))

    def _work_item_wait(self, queue_id: str) -> TaskWorkItemWait:
        from airflow_provider_aa.control_room.work_items import validate_ids
        from airflow_provider_aa.tasks.waits import TaskWorkItemWait

        return TaskWorkItemWait(
            queue_id=queue_id,
            work_item_ids=validate_ids(self.work_item_ids, "work_item_ids"),
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            full_items=self.return_full_items,
            log=self.log,
        )

    def _trigger(self, context: Context, polling: TriggerPolling) -> AutomationAnywhereWorkItemTrigger:
        return self.work_item_wait.trigger(self.automation_anywhere_conn_id, polling)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after deferral with the outcome a poke would have had."""
        from airflow_provider_aa.tasks.names import resumed_queue

        # The event names the queue the trigger polled: a queue_name needs no look-up again.
        watch = self._work_item_wait(resumed_queue(self, event))
        self._queue = watch.queue_id
        return watch.resume(event)

    def _poke(self, context: Context) -> PokeReturnValue:
        if self._queue is None:
            self._queue = self.work_item_wait.queue_id
            AutomationAnywhereQueueLink().push(context, self.hook, self._queue)
        items = self.hook.get_work_items(self.work_item_wait.queue_id, self.work_item_wait.work_item_ids)
        done = self.work_item_wait.check(items)
        return PokeReturnValue(is_done=done is not None, xcom_value=done)

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """The queue as an input, when given by id (a name is known once the sensor poked)."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, lineage.queue_before_run(self), read=True, written=False)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The queue waited on, as an input."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, self._queue, read=True, written=False)


class AutomationAnywhereBotRunSensor(_AutomationAnywhereSensor):
    """
    Wait until a bot deployment's runs have finished; return their status and outputs.

    Each poke reads the deployment's activity records (one list request), and once every run
    is ``COMPLETED`` their output variables (one request per run).

    - Succeeds when every run is ``COMPLETED``.
    - Fails (without retries) when a run is ``DEPLOY_FAILED``, ``RUN_FAILED``, ``RUN_ABORTED``
      or ``RUN_TIMED_OUT``, with each failed run's status and message.
    - Keeps waiting while runs are ``DEPLOYED``, ``QUEUED``, ``PENDING_EXECUTION``,
      ``RUNNING`` or ``UPDATE``, and on a status this provider does not know (logged once).
    - Late activity: the Control Room writes a run's activity record a few seconds after the
      deployment. No record at all is waited for ``activity_grace_period`` seconds from the
      first poke; then the sensor fails (wrong id, or a user without "View everyone's
      activity").
    - ``RUN_PAUSED`` (a person or the bot paused the run) is waited on for at most
      ``paused_timeout`` seconds, ``UNKNOWN`` (the Control Room lost the device) for at most
      ``unknown_timeout`` seconds, ``PENDING_EXECUTION`` (waiting for its device; Control
      Rooms have left runs there after the bot finished) for at most ``pending_timeout``
      seconds, counted from the first poke that saw the run so; then the sensor fails saying
      so. ``None``: wait until the sensor's ``timeout``. The clocks survive rescheduled
      pokes, retries and deferral.

    Works in ``poke`` and ``reschedule`` mode, and deferrable (one poke, then
    :class:`AutomationAnywhereBotRunTrigger` in the triggerer, same outcome).

    :param deployment_id: the ``deploymentId`` (templated; e.g. the deploy operator's XComArg).
    :param activity_grace_period: seconds to tolerate no activity record (default 60).
    :param paused_timeout: seconds a run may stay ``RUN_PAUSED`` (default 3600; ``None``: no limit).
    :param unknown_timeout: seconds a run may stay ``UNKNOWN`` (default 600; ``None``: no limit).
    :param pending_timeout: seconds a run may stay ``PENDING_EXECUTION`` (default 3600;
        ``None``: no limit).
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``; its user
        needs "View everyone's activity" to see runs of other run-as users.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param stop_on_kill: when the task is killed while it waits (marked failed or success,
        cleared, ``execution_timeout``), stop the deployment's runs that have not finished
        and log which (``on_kill``; deferred, the trigger does the same). Default ``True``;
        ``False`` leaves the bot running.
    :param expected_runs: how many runs the deployment starts, e.g. an API task's
        ``number_of_executions``: fewer listed keep the wait going, as the Control Room may
        list them late (default ``None``: the runs listed are all of them).

    XCom (return value): ``{"deployment_id": ..., "status": "COMPLETED", "outputs": {name:
    value}, "runs": [{"execution_id", "status", "message", "outputs"}, ...]}`` with plain
    output values; ``outputs`` are the first run's (a deployment runs once per run-as user,
    or once per execution of an API task).
    Under ``automation_anywhere_run``: ``{"control_room_url", "deployment_id"}`` for the
    "Control Room run" link.
    """

    template_fields: Sequence[str] = ("deployment_id",)
    operator_extra_links = (AutomationAnywhereRunLink(),)

    def __init__(
        self,
        *,
        deployment_id: str,
        activity_grace_period: float = 60.0,
        paused_timeout: float | None = 3600.0,
        unknown_timeout: float | None = 600.0,
        pending_timeout: float | None = 3600.0,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        stop_on_kill: bool = True,
        expected_runs: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(automation_anywhere_conn_id=automation_anywhere_conn_id, deferrable=deferrable, **kwargs)
        if expected_runs is not None and (
            isinstance(expected_runs, bool) or not isinstance(expected_runs, int) or expected_runs < 1
        ):
            raise InvalidInputError(f"expected_runs must be a whole number from 1, or None, got {expected_runs!r}.")
        self.deployment_id = deployment_id
        self.stop_on_kill = stop_on_kill
        self.expected_runs = expected_runs
        self.run_policy = BotRunPolicy(activity_grace_period, paused_timeout, unknown_timeout, pending_timeout)
        self._bot_run_wait: TaskBotRunWait | None = None
        self._pushed_run = False

    def bot_run_wait(self, context: Context) -> TaskBotRunWait:
        """The rendered, validated wait; its clocks continue those of an earlier poke or try."""
        if self._bot_run_wait is None:
            from airflow_provider_aa.control_room.bots import BotRunCheck, validate_deployment_id
            from airflow_provider_aa.tasks.state import TaskStateStore
            from airflow_provider_aa.tasks.waits import TaskBotRunWait

            deployment_id = validate_deployment_id(self.deployment_id)
            store = TaskStateStore(context, "bot_run_wait")
            saved = store.load()
            wait = BotRunCheck(deployment_id, self.run_policy, expected_runs=self.expected_runs)
            if isinstance(saved, dict) and saved.get("deployment_id") == deployment_id:
                wait.started_at, wait.held_since = saved.get("started_at"), dict(saved.get("held_since") or {})
            self._bot_run_wait = TaskBotRunWait(wait, log=self.log, store=store)
        return self._bot_run_wait

    def _poke(self, context: Context) -> PokeReturnValue:
        watch = self.bot_run_wait(context)
        if not self._pushed_run:
            AutomationAnywhereRunLink().push(context, self.hook, watch.wait.deployment_id)
            self._pushed_run = True
        done = watch.check(self.hook.get_bot_runs(watch.wait.deployment_id))
        return PokeReturnValue(is_done=done is not None, xcom_value=done)

    def _trigger(self, context: Context, polling: TriggerPolling) -> AutomationAnywhereBotRunTrigger:
        return self.bot_run_wait(context).trigger(
            self.automation_anywhere_conn_id, polling, stop_on_kill=self.stop_on_kill
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after deferral with the outcome a poke would have had."""
        return self.bot_run_wait(context).resume(event)

    def on_kill(self) -> None:
        """With ``stop_on_kill``, once the wait has begun: stop the deployment's unfinished runs. Never raises."""
        if self.stop_on_kill and self._bot_run_wait is not None:
            from airflow_provider_aa.tasks.stop_on_kill import stop_runs_on_kill

            stop_runs_on_kill(self.automation_anywhere_conn_id, self._bot_run_wait.wait.deployment_id, self.log)
