"""Add work items to an Automation Anywhere work queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow_provider_aa.control_room.work_items import validate_batch_size, validate_id, validate_work_items
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

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

    XCom (return value): the created work item ids as strings, in the order given, e.g.
    ``["40957", "40958"]`` — ready for ``AutomationAnywhereWorkItemSensor(work_item_ids=...)``.

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.queue_id = queue_id
        self.work_items = work_items
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.batch_size = validate_batch_size(batch_size)

    def execute(self, context: Context) -> list[str]:
        queue_id = validate_id(self.queue_id, "queue_id")
        items = validate_work_items(self.work_items)
        if not items:
            self.log.info("No work items to add to queue %s.", queue_id)
            return []
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            created = hook.add_work_items(queue_id, items, batch_size=self.batch_size)
        finally:
            hook.close()
        ids = [item["id"] for item in created]
        self.log.info("Added %d work item(s) to queue %s: %s", len(ids), queue_id, ", ".join(ids))
        return ids
