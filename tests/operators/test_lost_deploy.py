"""
A deploy whose answer was lost, against the emulator: the task takes its own deployment,
found by the automation name it sent, never another task's deployment of the same bot for
the same run-as user a second earlier.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from tests.sensors.test_bot_run_sensor import StateStore

DEPLOY = "POST /v4/automations/deploy"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def deploy_task():
    return AutomationAnywhereDeployBotOperator(
        task_id="deploy", bot_id=501, run_as_user_ids=[29], bot_input={"sVendor": "ours"}, lost_answer_delay=0
    )


def another_tasks_deployment():
    hook = AutomationAnywhereHook()
    try:
        return hook.deploy_bot(501, [29], bot_input={"sVendor": "theirs"})
    finally:
        hook.close()


def test_a_lost_deploy_takes_its_own_deployment_not_another_tasks(emulator):
    theirs = another_tasks_deployment()
    emulator.faults.add("drop_after_commit", count=1, method="POST", path=r"/automations/deploy$")

    ours = deploy_task().execute({"task_state_store": StateStore()})

    (run,) = [run for run in emulator.bot_runs() if run["deploymentId"] == ours]
    assert ours != theirs and run["automationName"].startswith("Airflow deploy ")
    assert emulator.counters.requests(DEPLOY) == 2  # theirs and ours, never sent again


def test_a_lost_deploy_that_never_ran_does_not_take_another_tasks_deployment(emulator):
    theirs = another_tasks_deployment()
    emulator.faults.add("drop_before_commit", count=1, method="POST", path=r"/automations/deploy$")
    store = StateStore()

    with pytest.raises(AutomationAnywhereError, match=rf"as deployment\(s\) {theirs} since") as unclear:
        deploy_task().execute({"task_state_store": store})

    assert not isinstance(unclear.value, AirflowFailException)  # a retry looks again, never deploys
    assert store.values["automation_anywhere_bot_deployment"]["deployment_id"] is None
    assert emulator.counters.requests(DEPLOY) == 2
