"""Add work items to an Automation Anywhere work queue."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Variable
from airflow_provider_aa.airflow_compat import AirflowFailException, AirflowSensorTimeout, conf
from airflow_provider_aa.control_room.adding import AddProgress, DuplicateWorkItemsError, add_fingerprint
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_RUNNING_STATUSES,
    normalise_statuses,
)
from airflow_provider_aa.control_room.work_items import validate_batch_size, validate_id, validate_work_items
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import WorkItemWatch

if TYPE_CHECKING:
    from airflow.sdk import Context


class AutomationAnywhereAddWorkItemsOperator(BaseOperator):
    """
    Add work items to a Control Room work queue (WLM) and return their ids.

    :param queue_id: the work queue's id (int or digit string; templated).
    :param work_items: one dict or a list of dicts of the queue's work item attributes
        (templated; an ``XComArg`` works too). An empty list adds nothing.
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param batch_size: items per add request (1–1000, default 100).
    :param dedupe_key: an attribute that identifies a work item (e.g. an invoice number),
        used to recognise items already in the queue after a lost answer.
    :param on_duplicate: for queues with ``disallowDuplicate``: the other items are added
        either way; ``"fail"`` (default) then fails the task naming each refused item,
        ``"skip"`` logs them and returns the ids of the added ones.
    :param wait_for_completion: after adding, wait in the same task until the items leave
        ``pending_statuses`` (default: until finished), like the sensor does.
    :param pending_statuses: with ``wait_for_completion``: statuses that mean "keep waiting".
    :param failure_statuses: with ``wait_for_completion``: statuses that fail the task.
    :param poke_interval: with ``wait_for_completion``: seconds between status checks.
    :param timeout: with ``wait_for_completion``: seconds to wait before failing.
    :param deferrable: with ``wait_for_completion``: wait in the triggerer (default:
        ``[operators] default_deferrable``).

    Exactly once: progress is saved before and after every batch (in the task state store of
    Airflow 3.3+, else in an Airflow Variable per task instance), so a retried or cleared
    failed task continues where the earlier try stopped instead of adding again; an add
    whose answer was lost is reconciled against the queue before anything is re-sent. The
    saved progress is removed when the task succeeds (with ``wait_for_completion``: after
    the wait), so clearing a *successful* task adds the items again.

    XCom (return value): the created work item ids as strings, in the order given, e.g.
    ``["40957", "40958"]`` — ready for ``AutomationAnywhereWorkItemSensor(work_item_ids=...)``.
    With ``wait_for_completion`` the finished items are pushed too, under the key
    ``work_items`` as ``{id: work item}``.

    :raises AutomationAnywhereError: invalid input (before any request) or a failed call.
    """

    template_fields: Sequence[str] = ("queue_id", "work_items")
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        queue_id: int | str,
        work_items: Any,
        automation_anywhere_conn_id: str = AutomationAnywhereHook.default_conn_name,
        batch_size: int = 100,
        dedupe_key: str | None = None,
        on_duplicate: str = "fail",
        wait_for_completion: bool = False,
        pending_statuses: Collection[str] = WORK_ITEM_RUNNING_STATUSES,
        failure_statuses: Collection[str] = WORK_ITEM_FAILURE_STATUSES,
        poke_interval: float = 30.0,
        timeout: float = 7 * 24 * 3600.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.queue_id = queue_id
        self.work_items = work_items
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.batch_size = validate_batch_size(batch_size)
        self.dedupe_key = dedupe_key
        self.on_duplicate = on_duplicate
        self.wait_for_completion = wait_for_completion
        self.pending_statuses = normalise_statuses(pending_statuses, "pending_statuses")
        self.failure_statuses = normalise_statuses(failure_statuses, "failure_statuses")
        self.poke_interval = poke_interval
        self.timeout = timeout
        self.deferrable = deferrable

    def execute(self, context: Context) -> list[str]:
        queue_id = validate_id(self.queue_id, "queue_id")
        items = validate_work_items(self.work_items)
        if not items:
            self.log.info("No work items to add to queue %s.", queue_id)
            return []
        store = _ProgressStore(context)
        progress = AddProgress.from_json(store.load(), add_fingerprint(queue_id, items))
        if progress.ids:
            self.log.info("An earlier try added %d of these work item(s): not adding them again.", len(progress.ids))
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            try:
                hook.add_work_items(
                    queue_id,
                    items,
                    batch_size=self.batch_size,
                    dedupe_key=self.dedupe_key,
                    progress=progress,
                    on_progress=store.save,
                    on_duplicate=self.on_duplicate,
                )
            except DuplicateWorkItemsError as refused:
                # A retry cannot change the queue's verdict: fail for good.
                raise AirflowFailException(str(refused)) from refused
            ids = [item_id for item_id in progress.ids if item_id is not None]
            self.log.info("Work items in queue %s: %s", queue_id, ", ".join(ids))
            if not self.wait_for_completion:
                store.done()
                return ids
            watch = self._watch(queue_id, ids)
            if not self.deferrable:
                context["ti"].xcom_push(key="work_items", value=self._poll(hook, watch))
                store.done()
                return ids
        finally:
            hook.close()
        self.defer(
            trigger=watch.trigger(
                self.automation_anywhere_conn_id,
                timeout=self.timeout,
                poke_interval=self.poke_interval,
                exponential_backoff=False,
                max_wait=None,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Resume after deferral: push the finished items, return the ids."""
        # The ids travel in the trigger's event: `dag.test()` drops `defer(kwargs=...)`.
        ids = list(event.get("work_item_ids") or [])
        watch = self._watch(validate_id(self.queue_id, "queue_id"), ids)
        context["ti"].xcom_push(key="work_items", value=watch.resume(event))
        _ProgressStore(context).done()
        return ids

    def _watch(self, queue_id: str, ids: list[str]) -> WorkItemWatch:
        return WorkItemWatch(
            queue_id=queue_id,
            work_item_ids=ids,
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            log=self.log,
        )

    def _poll(self, hook: AutomationAnywhereHook, watch: WorkItemWatch) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + self.timeout
        while (done := watch.check(hook.get_work_items(watch.queue_id, watch.work_item_ids))) is None:
            if time.monotonic() + self.poke_interval > deadline:
                raise AirflowSensorTimeout(
                    f"Timed out after {self.timeout:g} s waiting for work item(s) in queue {watch.queue_id}."
                )
            time.sleep(self.poke_interval)
        return done


class _ProgressStore:
    """
    Where an add's progress survives a failed task try: Airflow 3.3's task state store,
    else (Airflow 3.1/3.2) a Variable named after the task instance, deleted on success.
    Without a task instance (a bare ``execute({})``) nothing is kept.
    """

    def __init__(self, context: Context) -> None:
        self._state = context.get("task_state_store")
        ti = context.get("ti")
        self._variable = (
            f"airflow_provider_aa.add_progress.{ti.dag_id}.{ti.task_id}.{ti.run_id}.{ti.map_index}"
            if self._state is None and ti is not None and getattr(ti, "run_id", None)
            else None
        )

    def load(self) -> Any:
        if self._state is not None:
            return self._state.get(_PROGRESS_KEY)
        if self._variable is not None:
            return Variable.get(self._variable, default=None, deserialize_json=True)
        return None

    def save(self, progress: AddProgress) -> None:
        if self._state is not None:
            self._state.set(_PROGRESS_KEY, progress.to_json())
        elif self._variable is not None:
            Variable.set(self._variable, progress.to_json(), serialize_json=True)

    def done(self) -> None:
        """The task succeeded: a later run (a cleared success) is a new add."""
        if self._state is not None:
            self._state.delete(_PROGRESS_KEY)
        elif self._variable is not None:
            Variable.delete(self._variable)


_PROGRESS_KEY = "automation_anywhere_add_progress"
