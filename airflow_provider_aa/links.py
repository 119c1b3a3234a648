"""
Operator extra links: the Control Room page of what a task drove, on the task in Airflow's UI.

A task pushes what it drove to XCom as soon as it knows it (a work queue, a deployment),
under a stable key, with the Control Room URL of its connection; the link is built from
that XCom alone. Airflow 3 shows a link from the XCom its task runner writes when the try
ends (``_link_<class name>``); the task writes it too when it pushes, so that the link is
there while the task waits. The URL is the connection's host (scheme, host, port, path
prefix; a host with credentials is refused when the connection is read), so a link never
carries a secret. The page shapes are in :mod:`airflow_provider_aa.control_room.ui_pages`
(per-run and per-queue pages unconfirmed by AA's docs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

from airflow_provider_aa.control_room.ui_pages import queue_page, run_page

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

#: XCom key of ``{"control_room_url": ..., "queue_id": ...}``: the work queue a task used.
QUEUE_XCOM_KEY = "automation_anywhere_queue"
#: XCom key of ``{"control_room_url": ..., "deployment_id": ...}``: the deployment a task ran or waited for.
RUN_XCOM_KEY = "automation_anywhere_run"


def _xcom_value(ti_key: TaskInstanceKey, key: str) -> Any:
    # Imported here: it resolves the configured XCom backend, which only a running task needs.
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_value(ti_key=ti_key, key=key)


class _ControlRoomLink(BaseOperatorLink):
    """A link to the Control Room page of the object a task pushed under :attr:`target_key`."""

    target_key: ClassVar[str]
    id_field: ClassVar[str]

    def page(self, control_room_url: str, object_id: str) -> str:
        raise NotImplementedError

    def url_of(self, target: Any) -> str:
        """The page of a pushed target, or ``""`` (no link) for anything else."""
        if not isinstance(target, dict) or not target.get("control_room_url") or not target.get(self.id_field):
            return ""
        return self.page(str(target["control_room_url"]), str(target[self.id_field]))

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return self.url_of(_xcom_value(ti_key, self.target_key))

    def push(self, context: Context, hook: AutomationAnywhereHook, object_id: str, **more: str) -> None:
        """
        Push the target (and the link itself, shown at once) from a running task, with the
        Control Room URL of ``hook``'s connection; ``more`` goes along.
        """
        ti = context.get("ti")
        if ti is None:  # a bare execute({}) in a unit test: no task instance to push from
            return
        target = {**more, "control_room_url": hook.settings.base_url, self.id_field: str(object_id)}
        ti.xcom_push(key=self.target_key, value=target)
        ti.xcom_push(key=self.xcom_key, value=self.url_of(target))


class AutomationAnywhereRunLink(_ControlRoomLink):
    """
    "Control Room run": the deployment's run in the Control Room's Activity, at
    ``<Control Room URL>/#/activity/historical/<deployment id>/view``. AA documents no URL
    for one run; this shape is unconfirmed (``#/activity/historical`` itself is the
    Activity > Historical page seen in public code). Built from XCom
    ``automation_anywhere_run``.
    """

    name = "Control Room run"
    target_key = RUN_XCOM_KEY
    id_field = "deployment_id"

    def page(self, control_room_url: str, object_id: str) -> str:
        return run_page(control_room_url, object_id)


class AutomationAnywhereQueueLink(_ControlRoomLink):
    """
    "Work queue": the work queue in the Control Room, at ``<Control Room URL>/#/workload/queues/<queue id>``.
    AA documents no URL for a queue's page; this shape is unconfirmed. Built from XCom
    ``automation_anywhere_queue``.
    """

    name = "Work queue"
    target_key = QUEUE_XCOM_KEY
    id_field = "queue_id"

    def page(self, control_room_url: str, object_id: str) -> str:
        return queue_page(control_room_url, object_id)
