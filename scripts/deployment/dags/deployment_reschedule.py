"""
The sensors in ``reschedule`` mode, once per auth mode: each poke is a task try of its own
on a worker (the hook logs in, or starts from the pre-issued token, every time).

``poke_interval=10``: Airflow 3.3.2 fails a reschedule-mode sensor whose next poke is queued
before the scheduler has handled the executor's event of the previous one
(apache/airflow#71172); on a busy 2-core machine that lag reached 4 s, so 2 s pokes failed.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
)
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereBotRunSensor,
    AutomationAnywhereWorkItemSensor,
)

CONNECTIONS = {"password": "automation_anywhere_default", "api_key": "aa_api_key", "token": "aa_token"}

for _mode, _conn_id in CONNECTIONS.items():
    with DAG(
        dag_id=f"deployment_reschedule__{_mode}",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args={"automation_anywhere_conn_id": _conn_id},
        tags=["automation_anywhere", "deployment-test"],
    ) as _dag:
        _add = AutomationAnywhereAddWorkItemsOperator(
            task_id="add", queue_id=22, work_items=[{"order_id": f"RS-{_mode}-1"}, {"order_id": f"RS-{_mode}-2"}]
        )
        AutomationAnywhereWorkItemSensor(
            task_id="wait_items",
            queue_id=22,
            work_item_ids=_add.output,
            pending_statuses=WORK_ITEM_RUNNING_STATUSES,
            mode="reschedule",
            poke_interval=10,
            timeout=240,
        )
        _deploy = AutomationAnywhereDeployBotOperator(
            task_id="deploy", bot_id=501, run_as_user_ids=[29], bot_input={"sVendor": f"reschedule {_mode}"}
        )
        AutomationAnywhereBotRunSensor(
            task_id="wait_run", deployment_id=_deploy.output, mode="reschedule", poke_interval=10, timeout=240
        )
    globals()[f"dag_{_mode}"] = _dag
