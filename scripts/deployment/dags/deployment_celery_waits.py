"""
The Celery leg's deferred waits (``run.py --executor celery``).

``deployment_celery_fanout``: held work items added to queues 30 and 31 (``STATUS:ON_HOLD``
keeps them waiting until the test releases them), each waited for by a sensor of its own
that starts and ends in the triggerer (``start_from_trigger``: no worker runs it), spread by
Airflow over the deployment's two triggerers. One task per wait, not a mapped task: Airflow
starts mapped tasks on a worker. How many (``AA_DEPLOYMENT_CELERY_WAITS``, read when the file
is parsed) is the test's, in DAGs of 20 waits on one queue each (``deployment_celery_fanout``
on queue 30, ``deployment_celery_fanout_1`` on 31, ...).

``deployment_celery_takeover``: 40 such waits on queue 37; the test SIGKILLs the triggerer
that holds some of them, and the other one takes them over.
"""

from __future__ import annotations

import math
import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

WAITS = int(os.environ.get("AA_DEPLOYMENT_CELERY_WAITS", "100"))
#: Waits per fanout DAG: a task that starts in the triggerer costs the triggerer a copy of
#: its whole DAG (Airflow 3.3 sends the serialized DAG with each such task and deserializes
#: it there, to render its templates), so 1,000 waits in one DAG of 1,000 sensors would cost
#: a million tasks' worth. In DAGs of 100 (158 KB serialized) a triggerer was sent some 300
#: at once, a 47-MB message, and once stalled for good while sending it
#: (docs/running-at-scale.md): DAGs of 20 are a fifth of that.
FANOUT_DAG_WAITS = 20
FANOUT_QUEUES = (30, 31)
TAKEOVER_WAITS = 40


def fanout_dag_id(k: int) -> str:
    """The k-th fanout DAG (the first keeps the name the deployment waits to see parsed)."""
    return "deployment_celery_fanout" if k == 0 else f"deployment_celery_fanout_{k}"


def held_items(queue_id: int, count: int) -> AutomationAnywhereAddWorkItemsOperator:
    return AutomationAnywhereAddWorkItemsOperator(
        task_id=f"add_{queue_id}",
        queue_id=queue_id,
        work_items=[{"ref": f"C{queue_id}-{n}", "hold": "STATUS:ON_HOLD"} for n in range(count)],
    )


#: What every wait of this file sets: deferred, until the item is done (or 20 minutes).
WAIT = {"pending_statuses": WORK_ITEM_RUNNING_STATUSES, "deferrable": True, "timeout": 1200}


def waits_from_trigger(queue_id: int, count: int, poke_interval: int) -> None:
    add = held_items(queue_id, count)
    for n in range(count):
        add >> AutomationAnywhereWorkItemSensor(
            task_id=f"wait_{queue_id}_{n}",
            queue_id=queue_id,
            # The triggerer renders it: the n-th id the add task returned (map_indexes=-1:
            # Airflow 3.3's triggerer serves the reading of one XCom, not of all map indexes).
            work_item_ids=f"{{{{ ti.xcom_pull(task_ids='add_{queue_id}', map_indexes=-1)[{n}] }}}}",
            start_from_trigger=True,
            poke_interval=poke_interval,
            **WAIT,
        )


def held_waits(queue_id: int, count: int, poke_interval: int) -> None:
    add = held_items(queue_id, count)
    AutomationAnywhereWorkItemSensor.partial(
        task_id=f"wait_{queue_id}",
        queue_id=queue_id,
        poke_interval=poke_interval,
        **WAIT,
    ).expand(work_item_ids=add.output)


for k in range(math.ceil(WAITS / FANOUT_DAG_WAITS)):
    with DAG(
        dag_id=fanout_dag_id(k),
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=2048,
        default_args={"automation_anywhere_conn_id": "aa_fanout"},
        tags=["automation_anywhere", "deployment-test"],
    ):
        waits_from_trigger(
            FANOUT_QUEUES[k % len(FANOUT_QUEUES)], min(FANOUT_DAG_WAITS, WAITS - k * FANOUT_DAG_WAITS), poke_interval=5
        )

with DAG(
    dag_id="deployment_celery_takeover",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=256,
    default_args={"automation_anywhere_conn_id": "aa_takeover"},
    tags=["automation_anywhere", "deployment-test"],
):
    held_waits(37, TAKEOVER_WAITS, poke_interval=2)
