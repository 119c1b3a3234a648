"""Add work items to an Automation Anywhere work queue, re-queue failed ones; deploy a bot."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout, BaseOperator, conf

from airflow_provider_aa.control_room.bots import BotRunPolicy, HeadlessRequest
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_RUNNING_STATUSES,
    normalise_statuses,
)
from airflow_provider_aa.control_room.work_item_changes import validate_max_items
from airflow_provider_aa.control_room.work_items import validate_batch_size, validate_filter, validate_work_items
from airflow_provider_aa.hooks import DEFAULT_CONN_ID
from airflow_provider_aa.links import RUN_XCOM_KEY, AutomationAnywhereQueueLink, AutomationAnywhereRunLink
from airflow_provider_aa.tasks.errors import TaskErrors, check_id_or_name

# What a task needs only when it runs is imported then: a DAG file that makes these tasks
# does not pay for the hook, the HTTP stack or the waits at every parse.
if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_aa.control_room.bots import BotDeployment
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
    from airflow_provider_aa.tasks.state import TaskStateStore
    from airflow_provider_aa.tasks.waits import TaskBotRunWait, TaskWorkItemWait

T = TypeVar("T")


class AutomationAnywhereAddWorkItemsOperator(TaskErrors, BaseOperator):
    """
    Add work items to a Control Room work queue (WLM) and return their ids.

    :param queue_id: the work queue's id (int or digit string; templated).
    :param queue_name: the work queue's name instead of ``queue_id`` (templated): looked up
        when the task runs (exact, case-sensitive); a name matching no queue or several fails
        the task without retries, naming near names or the matches.
    :param work_items: one dict or a list of dicts of the queue's work item attributes
        (templated; an ``XComArg`` works too). An empty list adds nothing.
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param batch_size: items per add request (1–1000, default 100).
    :param dedupe_key: an attribute that identifies a work item (e.g. an invoice number),
        used to recognise items already in the queue after a lost answer.
    :param on_duplicate: for queues with ``disallowDuplicate``: the other items are added
        either way; ``"fail"`` (default) then fails the task naming each refused item,
        ``"skip"`` logs them and returns the ids of the added ones.
    :param lost_answer_delay: seconds to let a Control Room commit an add late after its answer
        was lost, before the queue is checked and only missing items are re-sent (default:
        the connection's ``timeout``).
    :param wait_for_completion: after adding, wait in the same task until the items leave
        ``pending_statuses`` (default: until finished), like the sensor does.
    :param pending_statuses: with ``wait_for_completion``: statuses that mean "keep waiting".
    :param failure_statuses: with ``wait_for_completion``: statuses that fail the task.
    :param poke_interval: with ``wait_for_completion``: seconds between status checks.
    :param timeout: with ``wait_for_completion``: seconds to wait before failing.
    :param deferrable: with ``wait_for_completion``: wait in the triggerer (default:
        ``[operators] default_deferrable``).
    :param return_full_items: with ``wait_for_completion``: push each finished item as the
        Control Room returned it (every field and the item's data: about 1.5 KB per item
        plus its data) instead of its outcome.

    Exactly once: progress is saved before and after every batch (in the task state store of
    Airflow 3.3+, else in an Airflow Variable per task instance), so a retried or cleared
    failed task continues where the earlier try stopped instead of adding again; an add
    whose answer was lost is reconciled against the queue before anything is re-sent. The
    saved progress is removed when the task succeeds (with ``wait_for_completion``: after
    the wait), so clearing a *successful* task adds the items again.

    XCom (return value): the created work item ids as strings, in the order given, e.g.
    ``["40957", "40958"]`` — ready for ``AutomationAnywhereWorkItemSensor(work_item_ids=...)``.
    With ``wait_for_completion`` the finished items are pushed too, under the key
    ``work_items`` (``add.output["work_items"]``), as the work item sensor returns them:
    ``{id: {"id", "status", "result", "error"}}``, each text at most 200 characters and a
    marker (about 0.7 KB per item at most); ``{id: work item}`` with ``return_full_items``.
    See ``docs/payloads.md``.
    Under ``automation_anywhere_queue``: the queue (``{"control_room_url", "queue_id"}``) for
    the "Work queue" link.

    OpenLineage: the queue as an output (docs/lineage-and-links.md).

    :raises AutomationAnywhereError: invalid input (before any request) or a failed call.
    """

    template_fields: Sequence[str] = ("queue_id", "queue_name", "work_items")
    operator_extra_links = (AutomationAnywhereQueueLink(),)
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        queue_id: int | str | None = None,
        queue_name: str | None = None,
        work_items: Any,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        batch_size: int = 100,
        dedupe_key: str | None = None,
        on_duplicate: str = "fail",
        lost_answer_delay: float | None = None,
        wait_for_completion: bool = False,
        pending_statuses: Collection[str] = WORK_ITEM_RUNNING_STATUSES,
        failure_statuses: Collection[str] = WORK_ITEM_FAILURE_STATUSES,
        poke_interval: float = 30.0,
        timeout: float = 7 * 24 * 3600.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        return_full_items: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_id_or_name("queue_id", queue_id, "queue_name", queue_name)
        self.return_full_items = return_full_items
        self.queue_id = queue_id
        self.queue_name = queue_name
        self.work_items = work_items
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.batch_size = validate_batch_size(batch_size)
        self.dedupe_key = dedupe_key
        self.on_duplicate = on_duplicate
        self.lost_answer_delay = lost_answer_delay
        self.wait_for_completion = wait_for_completion
        self.pending_statuses = normalise_statuses(pending_statuses, "pending_statuses")
        self.failure_statuses = normalise_statuses(failure_statuses, "failure_statuses")
        self.poke_interval = poke_interval
        self.timeout = timeout
        self.deferrable = deferrable
        #: The queue id this try added to, for lineage.
        self._queue: str | None = None

    def execute(self, context: Context) -> list[str]:
        from airflow_provider_aa.control_room.adding import add_fingerprint
        from airflow_provider_aa.control_room.errors import DuplicateWorkItemsError
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
        from airflow_provider_aa.tasks.names import queue_label, resolve_queue
        from airflow_provider_aa.tasks.state import SavedAddProgress, TaskStateStore
        from airflow_provider_aa.tasks.waits import TriggerPolling, warn_before_deferring

        queue = queue_label(self)  # checked before any request, as the items are
        items = validate_work_items(self.work_items)
        if not items:
            self.log.info("No work items to add to queue %s.", queue)
            return []
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            # By name, the id is looked up first: the saved progress is the queue id's.
            queue_id = resolve_queue(self, hook)
            saved = SavedAddProgress(TaskStateStore(context, "add_progress"))
            progress = saved.load(add_fingerprint(queue_id, items))
            if progress.ids:
                self.log.info(
                    "An earlier try added %d of these work item(s): not adding them again.", len(progress.ids)
                )
            try:
                hook.add_work_items(
                    queue_id,
                    items,
                    batch_size=self.batch_size,
                    dedupe_key=self.dedupe_key,
                    progress=progress,
                    on_progress=saved.save,
                    on_duplicate=self.on_duplicate,
                    lost_answer_delay=self.lost_answer_delay,
                    keep_items=False,  # the ids are in the progress; items would cost memory
                )
            except DuplicateWorkItemsError:
                # A retry cannot change the queue's verdict (the error is fatal): forget the progress.
                saved.clear()
                raise
            except AirflowFailException:
                # Failing for good: forget the progress unless it holds items of a partial
                # add, which a manual clear of the task must continue, not repeat.
                if not progress.ids and progress.in_flight_since is None:
                    saved.clear()
                raise
            ids = [item_id for item_id in progress.ids if item_id is not None]
            self._queue = queue_id
            AutomationAnywhereQueueLink().push(context, hook, queue_id)
            if not self.wait_for_completion:
                saved.clear()
                return ids
            watch = self._watch(queue_id, ids)
            if not self.deferrable:
                finished = _poll(
                    lambda: watch.check(hook.get_work_items(watch.queue_id, watch.work_item_ids)),
                    poke_interval=self.poke_interval,
                    timeout=self.timeout,
                    waiting_for=f"work item(s) in queue {watch.queue_id}",
                )
                context["ti"].xcom_push(key="work_items", value=finished)
                saved.clear()
                return ids
        finally:
            hook.close()
        warn_before_deferring(hook.settings, self.log.warning)
        self.defer(
            trigger=watch.trigger(self.automation_anywhere_conn_id, TriggerPolling(self.timeout, self.poke_interval)),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Resume after deferral: push the finished items, return the ids."""
        from airflow_provider_aa.tasks.names import resumed_queue
        from airflow_provider_aa.tasks.state import SavedAddProgress, TaskStateStore

        # The ids travel in the trigger's event: `dag.test()` drops `defer(kwargs=...)`.
        ids = list(event.get("work_item_ids") or [])
        watch = self._watch(resumed_queue(self, event), ids)
        self._queue = watch.queue_id
        context["ti"].xcom_push(key="work_items", value=watch.resume(event))
        SavedAddProgress(TaskStateStore(context, "add_progress")).clear()
        return ids

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """The queue as an output, when given by id (a name is known once the task ran)."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, lineage.queue_before_run(self), read=False, written=True)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The queue the items were added to, as an output."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, self._queue, read=False, written=True)

    def _watch(self, queue_id: str, ids: list[str]) -> TaskWorkItemWait:
        from airflow_provider_aa.tasks.waits import TaskWorkItemWait

        return TaskWorkItemWait(
            queue_id=queue_id,
            work_item_ids=ids,
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            full_items=self.return_full_items,
            log=self.log,
        )


@dataclass(frozen=True)
class Sent:
    """A deploy sent: when (epoch seconds, this machine's clock), and the name it carried."""

    at: float
    automation_name: str | None

    def saved(self, deployment_id: str | None) -> dict[str, Any]:
        return {"sent_at": self.at, "automation_name": self.automation_name, "deployment_id": deployment_id}


class AutomationAnywhereDeployBotOperator(TaskErrors, BaseOperator):
    """
    Deploy a bot (run it unattended) or an API task (``api_task=True``: a headless bot in
    the Control Room's cloud) and return the ``deploymentId``; optionally wait for the runs
    and return their status and output variables.

    :param bot_id: the bot's file id in the Control Room's public repository (templated).
    :param bot_path: the bot's path in the public repository instead of ``bot_id``
        (templated), e.g. ``"Bots/Finance/Invoice Processor"``: ``/`` or ``\\``, with or
        without the root folder ``Automation Anywhere``.
    :param run_as_user_ids: the user id(s) whose unattended Bot Runner runs the bot; one run
        per user (templated).
    :param run_as_user_names: the run-as users' usernames instead of ``run_as_user_ids``
        (one or a list; templated).
    :param pool_ids: device pool ids to run on (optional, templated).
    :param pool_names: device pool names instead of ``pool_ids`` (optional, templated).
    :param bot_input: the bot's input variables as plain Python values (templated): ``str``,
        ``int``/``float``, ``bool``, ``datetime``, ``list``, ``dict``, nested freely. They are
        sent typed (``{"type": "STRING", "string": "x"}``, NUMBER, BOOLEAN, DATETIME, LIST,
        DICTIONARY); ``None`` values and other types fail the task before any request.
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param wait_for_completion: wait in the same task until the run has finished, as
        :class:`~airflow_provider_aa.sensors.automation_anywhere.AutomationAnywhereBotRunSensor`
        does (same statuses, same policy).
    :param poke_interval: with ``wait_for_completion``: seconds between status checks.
    :param timeout: with ``wait_for_completion``: seconds to wait before failing.
    :param activity_grace_period: with ``wait_for_completion``: seconds to tolerate that the
        Control Room shows no activity record yet (default 60).
    :param paused_timeout: with ``wait_for_completion``: seconds a run may stay
        ``RUN_PAUSED`` before the task fails (default 3600; ``None``: until ``timeout``).
    :param unknown_timeout: with ``wait_for_completion``: seconds a run may stay ``UNKNOWN``
        (device lost) before the task fails (default 600; ``None``: until ``timeout``).
    :param pending_timeout: with ``wait_for_completion``: seconds a run may stay
        ``PENDING_EXECUTION`` before the task fails (default 3600; ``None``: until ``timeout``).
    :param deferrable: with ``wait_for_completion``: wait in the triggerer (default:
        ``[operators] default_deferrable``).
    :param stop_on_kill: with ``wait_for_completion`` (default ``True``): when the task is
        killed while it waits (marked failed or success, cleared, ``execution_timeout``),
        stop the deployment's runs that have not finished and log which (``on_kill``; in the
        triggerer, the deferred wait does the same). ``False`` leaves the bot running.

    :param lost_answer_delay: after a deploy whose answer was lost, seconds to let the Control
        Room write its activity records before looking for the run (default: the
        connection's ``timeout``).

    :param api_task: deploy an API task (``POST /v4/automations/deploy`` with
        ``headlessRequest``): no run-as users, no pools, no devices; ``bot_id``/``bot_path``
        name the API task. Needs an Automation 360 Cloud Control Room with the v4 deploy
        API: elsewhere the task fails before anything runs, naming the requirement. See
        ``docs/api-tasks.md``.
    :param number_of_executions: with ``api_task``: how many runs (1 to 100; default 1);
        with ``wait_for_completion`` the task waits for every one.
    :param queue_on_slots_exhaustion: with ``api_task``: when the tenant's API task
        concurrency is used up, queue the runs (``True``) instead of having the deploy
        refused (``False``, the default; the task fails and a retry deploys anew).
    :param shared_run_as_user_id: with ``api_task``: the run-as user whose context the runs
        get (optional, templated).
    :param shared_run_as_user_name: its username instead (templated).

    The bot runs once per DAG run, also across retries and lost answers: a marker is saved
    (task state store of Airflow 3.3+, else a Variable per task instance) before the deploy
    is sent, and the deployment id as soon as it is known. A try that finds a saved id takes
    that deployment (with ``wait_for_completion``: waits for it). A lost answer, or a try
    that finds only the marker (the worker died in between), looks for the run in the bot's
    activity for the run-as users since the marker and takes it; when the activity shows no
    such run yet, the try fails without deploying and keeps the marker (a retry looks again);
    runs of several deployments fail the task for good. It says so either way.
    The saved state is dropped once the task succeeds, or the run succeeded or failed.

    XCom (return value): the ``deploymentId`` (a string, e.g. for
    ``AutomationAnywhereBotRunSensor(deployment_id=...)``), whether or not the task waits.
    With ``wait_for_completion`` the finished run is pushed too, under the key ``bot_run``
    (``deploy.output["bot_run"]``), as the bot run sensor returns it: ``{"deployment_id",
    "status": "COMPLETED", "outputs": {name: value}, "runs": [...]}``, output variables as
    plain values. See ``docs/payloads.md``.
    The run's shape is the same for one run or several (run-as users, an API task's
    executions): ``outputs`` are the first listed run's, ``runs`` holds every run as
    ``{"execution_id", "status", "message", "outputs"}``. Under ``automation_anywhere_run``:
    ``{"control_room_url", "deployment_id", "bot_id"}`` for the "Control Room run" link.

    OpenLineage: the deployment id, the bot id and the run's status as a run facet
    (docs/lineage-and-links.md).

    :raises AutomationAnywhereError: invalid input (before any request) or a failed call.
    """

    template_fields: Sequence[str] = (
        "bot_id",
        "bot_path",
        "run_as_user_ids",
        "run_as_user_names",
        "pool_ids",
        "pool_names",
        "bot_input",
        "shared_run_as_user_id",
        "shared_run_as_user_name",
    )
    operator_extra_links = (AutomationAnywhereRunLink(),)
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        bot_id: int | str | None = None,
        bot_path: str | None = None,
        run_as_user_ids: Any = None,
        run_as_user_names: Any = None,
        pool_ids: Any = None,
        pool_names: Any = None,
        bot_input: Any = None,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = False,
        poke_interval: float = 30.0,
        timeout: float = 7 * 24 * 3600.0,
        activity_grace_period: float = 60.0,
        paused_timeout: float | None = 3600.0,
        unknown_timeout: float | None = 600.0,
        pending_timeout: float | None = 3600.0,
        lost_answer_delay: float | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        stop_on_kill: bool = True,
        api_task: bool = False,
        number_of_executions: int = 1,
        queue_on_slots_exhaustion: bool = False,
        shared_run_as_user_id: int | str | None = None,
        shared_run_as_user_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lost_answer_delay = lost_answer_delay
        check_id_or_name("bot_id", bot_id, "bot_path", bot_path)
        if not isinstance(api_task, bool):
            raise InvalidInputError(f"api_task must be True or False, got {api_task!r}.")
        if api_task:
            check_api_task_targets(
                run_as_user_ids=run_as_user_ids,
                run_as_user_names=run_as_user_names,
                pool_ids=pool_ids,
                pool_names=pool_names,
            )
            check_id_or_name(
                "shared_run_as_user_id",
                shared_run_as_user_id,
                "shared_run_as_user_name",
                shared_run_as_user_name,
                required=False,
            )
            HeadlessRequest.validate(number_of_executions, queue_on_slots_exhaustion)
        else:
            check_task_bot_only(
                number_of_executions=(number_of_executions, 1),
                queue_on_slots_exhaustion=(queue_on_slots_exhaustion, False),
                shared_run_as_user_id=(shared_run_as_user_id, None),
                shared_run_as_user_name=(shared_run_as_user_name, None),
            )
            check_id_or_name("run_as_user_ids", run_as_user_ids, "run_as_user_names", run_as_user_names)
            check_id_or_name("pool_ids", pool_ids, "pool_names", pool_names, required=False)
        self.api_task = api_task
        self.number_of_executions = number_of_executions
        self.queue_on_slots_exhaustion = queue_on_slots_exhaustion
        self.shared_run_as_user_id = shared_run_as_user_id
        self.shared_run_as_user_name = shared_run_as_user_name
        self.bot_id = bot_id
        self.bot_path = bot_path
        self.run_as_user_ids = run_as_user_ids
        self.run_as_user_names = run_as_user_names
        self.pool_ids = pool_ids
        self.pool_names = pool_names
        self.bot_input = bot_input
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.timeout = timeout
        self.run_policy = BotRunPolicy(activity_grace_period, paused_timeout, unknown_timeout, pending_timeout)
        self.deferrable = deferrable
        self.stop_on_kill = stop_on_kill
        # What on_kill stops: the deployment this try waits for, and where it is saved.
        self._waiting_for: tuple[str, TaskStateStore] | None = None
        #: The deployment of this try, for lineage: deployment_id, bot_id, status (once waited for).
        self._run: dict[str, Any] | None = None

    def execute(self, context: Context) -> str:
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
        from airflow_provider_aa.tasks.names import deployment_of
        from airflow_provider_aa.tasks.state import TaskStateStore
        from airflow_provider_aa.tasks.waits import TriggerPolling, warn_before_deferring

        store = TaskStateStore(context, "bot_deployment")
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            # Names are looked up first: the saved deployment's fingerprint holds the ids.
            deployment = deployment_of(self, hook)
            deployment_id = self._deploy(hook, deployment, store)
            self._run = {"deployment_id": deployment_id, "bot_id": deployment.bot_id}
            AutomationAnywhereRunLink().push(context, hook, deployment_id, bot_id=deployment.bot_id)
            if not self.wait_for_completion:
                store.done()
                return deployment_id
            self._waiting_for = (deployment_id, store)
            watch = self._watch(deployment_id, deployment.runs_expected if deployment.headless else None)
            if not self.deferrable:
                return self._finish(
                    context,
                    store,
                    deployment_id,
                    lambda: _poll(
                        lambda: watch.check(hook.get_bot_runs(deployment_id)),
                        poke_interval=self.poke_interval,
                        timeout=self.timeout,
                        waiting_for=f"bot deployment {deployment_id}",
                    ),
                )
        finally:
            hook.close()
        warn_before_deferring(hook.settings, self.log.warning)
        self.defer(
            trigger=watch.trigger(
                self.automation_anywhere_conn_id,
                TriggerPolling(self.timeout, self.poke_interval),
                stop_on_kill=self.stop_on_kill,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after deferral: push the finished run, return the id; or the error a poll would raise."""
        from airflow_provider_aa.tasks.state import TaskStateStore

        # The id travels in the trigger's event: `dag.test()` drops `defer(kwargs=...)`.
        deployment_id = str(event.get("deployment_id") or "")
        watch = self._watch(deployment_id)
        pushed = context["ti"].xcom_pull(task_ids=self.task_id, key=RUN_XCOM_KEY)
        self._run = dict(pushed) if isinstance(pushed, dict) else {"deployment_id": deployment_id}
        return self._finish(
            context, TaskStateStore(context, "bot_deployment"), deployment_id, lambda: watch.resume(event)
        )

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """Nothing yet: the deployment exists once the task ran."""
        from airflow_provider_aa import lineage

        return lineage.deployment_lineage(None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The deployment id, bot id and (when waited for) the run's status, as a run facet."""
        from airflow_provider_aa import lineage

        return lineage.deployment_lineage(self._run)

    def on_kill(self) -> None:
        """
        With ``stop_on_kill``, while the task waits: stop the deployment's unfinished runs.
        Once they are stopped the saved deployment is dropped, so that a cleared or retried
        task deploys anew instead of taking the aborted run. Never raises.
        """
        if not (self.stop_on_kill and self._waiting_for):
            return
        from airflow_provider_aa.tasks.stop_on_kill import stop_runs_on_kill

        deployment_id, store = self._waiting_for
        if stop_runs_on_kill(self.automation_anywhere_conn_id, deployment_id, self.log):
            try:
                store.done()
            except Exception as problem:  # on_kill must never raise
                self.log.warning("Could not drop the saved bot deployment %s: %s", deployment_id, problem)

    def _deploy(self, hook: AutomationAnywhereHook, deployment: BotDeployment, store: TaskStateStore) -> str:
        """
        Deploy exactly once: a marker is saved before the deploy is sent and the deployment
        id as soon as it is known. A try that finds the id takes that deployment; one that
        finds only the marker (an earlier try died, or the answer was lost) looks for the
        run in the bot's activity instead of deploying again. The marker holds the deploy's
        unique automation name, the only thing that tells its runs from another task's
        deployment of the same bot for the same run-as users.
        """
        from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError

        fingerprint = deployment.fingerprint()
        saved = store.load()
        if isinstance(saved, dict) and saved.get("fingerprint") == fingerprint:
            if saved.get("deployment_id"):
                self.log.info(
                    "An earlier try deployed this bot as deployment %s: taking it, not deploying again.",
                    saved["deployment_id"],
                )
                return str(saved["deployment_id"])
            sent = Sent(float(saved["sent_at"]), saved.get("automation_name"))
            return self._adopt(hook, deployment, store, sent, "An earlier try of this task sent", settle_from=sent.at)
        sent = Sent(time.time(), f"Airflow {self.task_id[:120]} {uuid.uuid4().hex}")
        store.save({"fingerprint": fingerprint, **sent.saved(None)})
        try:
            deployment_id = self._send(hook, deployment, sent.automation_name)
        except AmbiguousOutcomeError:
            # The lost-answer delay runs from when the answer was given up on: a Control Room that
            # commits late writes the activity record later still.
            return self._adopt(hook, deployment, store, sent, "This task sent", settle_from=time.time())
        except AutomationAnywhereError:
            store.done()  # refused: nothing runs, a retry may deploy
            raise
        self.log.info("Deployed %s as deployment %s.", deployment.describe(), deployment_id)
        store.save({"fingerprint": fingerprint, **sent.saved(deployment_id)})
        return deployment_id

    def _send(self, hook: AutomationAnywhereHook, deployment: BotDeployment, automation_name: str | None) -> str:
        """The deploy request itself, through the hook's method for a task bot or an API task."""
        if deployment.headless:
            return hook.deploy_api_task(
                deployment.bot_id,
                number_of_executions=deployment.headless.number_of_executions,
                queue_on_slots_exhaustion=deployment.headless.queue_on_slots_exhaustion,
                shared_run_as_user_id=deployment.headless.shared_run_as_user_id,
                bot_input=self.bot_input,
                automation_name=automation_name,
            )
        return hook.deploy_bot(
            deployment.bot_id,
            deployment.run_as_user_ids,
            pool_ids=deployment.pool_ids,
            bot_input=self.bot_input,
            automation_name=automation_name,
        )

    def _adopt(
        self,
        hook: AutomationAnywhereHook,
        deployment: BotDeployment,
        store: TaskStateStore,
        sent: Sent,
        who: str,
        *,
        settle_from: float,
    ) -> str:
        """
        Take the deployment of a deploy whose answer never arrived (the one carrying its
        automation name), or fail without deploying. Failures keep the marker and are not
        final: a retry only looks again (the activity may be late) and never deploys.
        """
        from airflow_provider_aa.control_room.adding import validate_lost_answer_delay
        from airflow_provider_aa.control_room.errors import DeploymentUnknownError

        settle = validate_lost_answer_delay(self.lost_answer_delay, hook.settings.timeout)
        wait = min(settle_from + settle - time.time(), settle)
        if wait > 0:
            time.sleep(wait)  # the Control Room writes activity records a few seconds late
        when = datetime.fromtimestamp(sent.at, timezone.utc).isoformat(timespec="seconds")
        try:
            deployment_id = hook.find_bot_deployment(deployment, sent.at, sent.automation_name)
        except DeploymentUnknownError as unclear:
            raise AutomationAnywhereError(
                f"{who} a deploy of {deployment.describe()} at {when} without getting its answer. {unclear} Not "
                "taking another deployment's run, nor deploying again so that the bot never runs twice: a retry "
                "of this task looks again; check the Control Room's activity."
            ) from unclear
        if deployment_id is None:
            raise AutomationAnywhereError(
                f"{who} a deploy of {deployment.describe()} at {when} without getting its answer, and the Control "
                "Room's activity shows no run of it since then. Whether it ran cannot be told yet (the activity may be late, or the connection's user "
                'may lack "View everyone\'s activity"): not deploying again, so that the bot never runs twice. A '
                "retry of this task looks again; check the activity — if the bot never ran, a new DAG run deploys "
                "anew."
            )
        self.log.warning(
            "%s a deploy of %s at %s without getting its answer: it ran as deployment %s. Taking it, not "
            "deploying again.",
            who,
            deployment.describe(),
            when,
            deployment_id,
        )
        store.save({"fingerprint": deployment.fingerprint(), **sent.saved(deployment_id)})
        return deployment_id

    def _watch(self, deployment_id: str, expected_runs: int | None = None) -> TaskBotRunWait:
        from airflow_provider_aa.control_room.bots import BotRunCheck
        from airflow_provider_aa.tasks.waits import TaskBotRunWait

        return TaskBotRunWait(BotRunCheck(deployment_id, self.run_policy, expected_runs=expected_runs), log=self.log)

    def _finish(
        self, context: Context, store: TaskStateStore, deployment_id: str, wait: Callable[[], dict[str, Any]]
    ) -> str:
        """
        Push the wait's result (XCom ``bot_run``) and return the deployment id. Once the run
        succeeded or failed, the saved deployment is dropped (a retry or a clear deploys
        anew); after a timeout or a failed call it is kept, so that a retry waits for the
        same run.
        """
        try:
            result = wait()
        except AirflowFailException:
            store.done()
            raise
        context["ti"].xcom_push(key="bot_run", value=result)
        store.done()
        if self._run is not None:
            self._run["status"] = result.get("status")
        return deployment_id


def check_api_task_targets(**targets: Any) -> None:
    """
    An API task runs in the Control Room's cloud: run-as users and pools, which choose a
    task bot's devices, have no meaning for it.

    :raises InvalidInputError: naming every such parameter given.
    """
    given = [name for name, value in targets.items() if value not in (None, [], ())]
    if given:
        raise InvalidInputError(
            f"{' and '.join(given)} cannot be used with api_task=True: an API task runs in the Control Room's cloud, "
            "without run-as users' devices or pools (give shared_run_as_user_id or shared_run_as_user_name for "
            "the run-as user whose context its runs get)."
        )


def check_task_bot_only(**parameters: tuple[Any, Any]) -> None:
    """:raises InvalidInputError: naming the API task parameters set away from their defaults without ``api_task``."""
    given = [name for name, (value, default) in parameters.items() if value != default]
    if given:
        raise InvalidInputError(f"{' and '.join(given)} apply only to API tasks: set api_task=True, or leave them out.")


class AutomationAnywhereRequeueWorkItemsOperator(TaskErrors, BaseOperator):
    """
    Put a work queue's failed (or otherwise finished) work items back into the queue and
    return their ids — the day-two "re-queue" of an operations team.

    The items are listed by status (and ``filter``) 100 per request, oldest id first, and
    each is set to ``NEW`` with the version it was listed with (Automation 360 lets only the
    system set ``READY_TO_RUN`` and ``ACTIVE``; see ``control_room.work_item_changes``). An
    item that changed since it was listed is skipped with a warning, never overwritten.

    :param queue_id: the work queue's id (templated).
    :param queue_name: the work queue's name instead of ``queue_id`` (templated), looked up
        when the task runs.
    :param statuses: the statuses to re-queue (templated; default ``("FAILED",)``), e.g.
        ``["FAILED", "UNKNOWN"]``; not those of items still queued (``NEW``,
        ``READY_TO_RUN``, ``ACTIVE``, ...).
    :param filter: a Control Room filter the items must also match (templated), e.g.
        ``{"operator": "substring", "field": "error", "value": "timeout"}``.
    :param max_items: re-queue at most this many items per run (templated; default: all).
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.

    Safe to retry: the items chosen are saved with their versions before the first update
    (task state store of Airflow 3.3+, else an Airflow Variable per task instance). A retry
    reads them again and never touches an item again whose version moved past the saved
    one: it counts as re-queued by the earlier try when it is queued, being worked or
    finished (a bot may have failed it again since), and is left out with a warning when
    someone else moved it elsewhere (e.g. ``ON_HOLD``). The rest are re-queued. The saved
    progress is dropped when the task succeeds.

    XCom (return value): the re-queued ids as strings in ascending order, those re-queued by
    an earlier try included, e.g. ``["40957", "40958"]`` — ready for
    ``AutomationAnywhereWorkItemSensor(work_item_ids=..., pending_statuses=WORK_ITEM_RUNNING_STATUSES)``
    (re-queued items are already past ``NEW``'s pick-up or back in ``NEW``: wait until
    finished, not until picked up). An empty list when nothing was to re-queue. XCom
    ``skipped``: the ids chosen but not re-queued, by reason — ``{"changed": [...],
    "refused": [...], "gone": [...]}``: changed or moved by someone else after they were
    listed (also an item still ``FAILED`` after a person's edit, with no bot run since),
    refused both statuses by the Control Room, deleted meanwhile; the log's last line says
    the same. Under ``automation_anywhere_queue``: the queue (``{"control_room_url",
    "queue_id"}``) for the "Work queue" link.

    OpenLineage: the queue as an input and an output (docs/lineage-and-links.md).

    :raises AutomationAnywhereError: invalid input (before any request) or a failed call.
    """

    template_fields: Sequence[str] = ("queue_id", "queue_name", "statuses", "filter", "max_items")
    operator_extra_links = (AutomationAnywhereQueueLink(),)
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        queue_id: int | str | None = None,
        queue_name: str | None = None,
        statuses: str | Sequence[str] = ("FAILED",),
        filter: dict[str, Any] | None = None,
        max_items: int | str | None = None,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_id_or_name("queue_id", queue_id, "queue_name", queue_name)
        if not isinstance(max_items, str):  # a template is checked once rendered
            validate_max_items(max_items)
        self.queue_id = queue_id
        self.queue_name = queue_name
        self.statuses = statuses
        self.filter = filter
        self.max_items = max_items
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        #: The queue id this try re-queued in, for lineage.
        self._queue: str | None = None

    def execute(self, context: Context) -> list[str]:
        from airflow_provider_aa.control_room.work_item_changes import requeue_fingerprint, validate_requeue_statuses
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
        from airflow_provider_aa.tasks.names import queue_label, resolve_queue
        from airflow_provider_aa.tasks.state import SavedRequeueProgress, TaskStateStore

        # Everything is checked before the first request, the queue's name included.
        queue = queue_label(self)
        statuses = validate_requeue_statuses(self.statuses)
        checked_filter = validate_filter(self.filter, "filter")
        cap = validate_max_items(self.max_items)
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            # By name, the id is looked up first: the saved progress is the queue id's.
            queue_id = resolve_queue(self, hook)
            self._queue = queue_id
            AutomationAnywhereQueueLink().push(context, hook, queue_id)
            saved = SavedRequeueProgress(TaskStateStore(context, "requeue_progress"))
            progress = saved.load(requeue_fingerprint(queue_id, statuses, checked_filter, cap))
            if progress.requeued or progress.chosen:
                self.log.info(
                    "An earlier try re-queued %d work item(s) of queue %s and chose %d more: none is touched twice.",
                    len(progress.requeued),
                    queue,
                    len(progress.chosen or []),
                )
            ids = hook.requeue_work_items(
                queue_id,
                statuses,
                checked_filter,
                max_items=cap,
                progress=progress,
                on_progress=saved.save,
            )
        finally:
            hook.close()
        saved.clear()
        if "ti" in context:  # outside Airflow's task runner (a unit test) there is none
            context["ti"].xcom_push(key="skipped", value=progress.skipped)
        return ids

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """The queue as an input and an output, when given by id (a name is known once the task ran)."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, lineage.queue_before_run(self), read=True, written=True)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The queue whose items were re-queued, as an input and an output."""
        from airflow_provider_aa import lineage

        return lineage.queue_lineage(self, self._queue, read=True, written=True)


def _poll(check: Callable[[], T | None], *, poke_interval: float, timeout: float, waiting_for: str) -> T:
    """Call ``check`` every ``poke_interval`` seconds until it gives a result, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (done := check()) is None:
        if time.monotonic() + poke_interval > deadline:
            raise AirflowSensorTimeout(f"Timed out after {timeout:g} s waiting for {waiting_for}.")
        time.sleep(poke_interval)
    return done
