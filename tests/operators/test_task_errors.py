"""
Bad input names the task as well as the field, when a task is made and when it runs (before
any request), and fails it without retries (an ``AirflowFailException``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
    AutomationAnywhereRequeueWorkItemsOperator,
)
from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    AutomationAnywhereBotRunSensor,
    AutomationAnywhereWorkItemSensor,
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: AutomationAnywhereAddWorkItemsOperator(
                task_id="add_items", queue_id=20, work_items=[], batch_size=0
            ),
            "Task 'add_items': batch_size must be an integer from 1 to 1000, got 0.",
        ),
        (
            lambda: AutomationAnywhereDeployBotOperator(
                task_id="run_bot", bot_id=5, bot_path="Bots/x", run_as_user_ids=[1]
            ),
            "Task 'run_bot': Give bot_id or bot_path, not both.",
        ),
        (
            lambda: AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_id=20, max_items=0),
            "Task 'requeue': max_items must be",
        ),
        (
            lambda: AutomationAnywhereExportOperator(
                task_id="export", dataset="audit", destination="/data/aa", overlap=timedelta(hours=-1)
            ),
            "Task 'export': overlap must be a timedelta of 0 or more",
        ),
        (
            lambda: AutomationAnywhereWorkItemSensor(
                task_id="wait_items", queue_id=20, work_item_ids=[1], pending_statuses=[1]
            ),
            "Task 'wait_items': pending_statuses",
        ),
        (
            lambda: AutomationAnywhereBotRunSensor(task_id="wait_run", deployment_id="d", activity_grace_period=-1),
            "Task 'wait_run': activity_grace_period",
        ),
    ],
)
def test_a_task_made_with_bad_input_names_itself_once(make, message):
    with pytest.raises(InvalidInputError) as raised:
        make()
    assert str(raised.value).startswith(message) and str(raised.value).count("Task '") == 1
    assert isinstance(raised.value, AirflowFailException)


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            AutomationAnywhereAddWorkItemsOperator(task_id="add_items", queue_id=20, work_items="{{ not items }}"),
            "Task 'add_items': work_items must be",
        ),
        (
            AutomationAnywhereAddWorkItemsOperator(
                task_id="add_items", queue_id=20, work_items=[{"n": 1}], on_duplicate="ignore"
            ),
            "Task 'add_items': on_duplicate must be 'fail' or 'skip'",
        ),
        (
            AutomationAnywhereDeployBotOperator(task_id="run_bot", bot_id="x", run_as_user_ids=[1]),
            "Task 'run_bot': bot_id must be",
        ),
        (
            AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_id=20, statuses=["NEW"]),
            "Task 'requeue': statuses",
        ),
        (
            AutomationAnywhereExportOperator(task_id="export", dataset="audit", destination="s3:/typo"),
            "Task 'export': destination must be",
        ),
        (
            AutomationAnywhereWorkItemSensor(task_id="wait_items", queue_id=20, work_item_ids=[1, "2;drop"]),
            "Task 'wait_items': work_item_ids[1]",
        ),
        (
            AutomationAnywhereBotRunSensor(task_id="wait_run", deployment_id="not a deployment id"),
            "Task 'wait_run': deployment_id",
        ),
    ],
)
def test_a_task_run_with_bad_input_names_itself_before_any_request(aa_emulator, monkeypatch, task, message):
    aa_emulator.use_connection(monkeypatch)
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    context = {
        "data_interval_start": end - timedelta(hours=4),
        "data_interval_end": end,
        "ti": SimpleNamespace(try_number=1),
    }
    with pytest.raises(InvalidInputError) as raised:
        task.execute(context)
    assert str(raised.value).startswith(message)
    assert isinstance(raised.value, AirflowFailException)
    assert aa_emulator.counters.requests() == 0
