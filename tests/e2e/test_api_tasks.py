"""
API tasks against the emulator over HTTP: the example DAG through real Airflow (deploy by
path, every execution waited for in the triggerer, outputs in XCom), a Control Room without
them, queued executions, a lost deploy answer, stop on kill, and the bot run sensor.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout

from airflow_provider_aa.control_room.bots import ApiTasksUnavailableError
from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor
from automation_anywhere_emulator import EmulatorConfig
from tests.e2e.conftest import load_example_dag, task_states, xcoms
from tests.operators.test_deploy_bot import TaskInstance
from tests.operators.test_on_kill import MANAGE, SAVED_DEPLOYMENT, Killed, kill_while_waiting
from tests.sensors.test_bot_run_sensor import StateStore

DEPLOY = "POST /v4/automations/deploy"
API_TASK = 701


def api_task(**kwargs):
    arguments = {"task_id": "api_task", "bot_id": API_TASK, "api_task": True, "lost_answer_delay": 0, **kwargs}
    return AutomationAnywhereDeployBotOperator(**arguments)


@pytest.mark.usefixtures("airflow_db")
def test_the_example_deploys_an_api_task_by_path_and_its_outputs_reach_xcom(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(activity_delay=1.0)

    run = load_example_dag("example_automation_anywhere_api_task").test()

    assert task_states(run) == {"classify_invoice": "success", "file_invoice": "success"}
    runs = fast_bot.bot_runs()
    assert len(runs) == 2 and {record["deploymentId"] for record in runs} == {runs[0]["deploymentId"]}
    assert {(record["fileId"], record["deviceId"]) for record in runs} == {("701", "")}  # no device
    result = xcoms(run, "bot_run")["classify_invoice"]
    assert (result["deployment_id"], result["status"]) == (runs[0]["deploymentId"], "COMPLETED")
    assert sorted(entry["execution_id"] for entry in result["runs"]) == sorted(record["id"] for record in runs)
    assert result["outputs"] == {
        "sCategory": "Utilities",
        "nConfidence": 0.97,
        "sInvoiceText": "Electricity, March 2026: 412.50 EUR",
    }
    assert all(entry["outputs"] == result["outputs"] for entry in result["runs"])
    assert xcoms(run)["file_invoice"] == {"category": "Utilities", "confidence": 0.97, "runs": 2}
    assert fast_bot.counters.requests(DEPLOY) == 1  # resuming after deferral deployed nothing again
    assert fast_bot.counters.requests("POST /v3/automations/deploy") == 0


@pytest.mark.parametrize("profile", ["automation-360-v30", "on-prem-11.3"])
def test_a_control_room_without_v4_fails_naming_the_requirement_before_anything_runs(aa_emulator, monkeypatch, profile):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(**EmulatorConfig.for_profile(profile).to_dict())
    store = StateStore()

    with pytest.raises(ApiTasksUnavailableError, match="API tasks need an Automation 360 Cloud Control Room"):
        api_task(wait_for_completion=True).execute({"task_state_store": store})

    assert aa_emulator.bot_runs() == []
    assert aa_emulator.counters.requests("POST /v3/automations/deploy") == 0
    assert SAVED_DEPLOYMENT not in store.values  # nothing ran: a later try may deploy


def test_more_executions_than_slots_queue_and_the_task_waits_for_every_one(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(api_task_slots=2, activity_delay=0, pickup_delay=0.2, work_delay=0.5)

    ti = TaskInstance()
    deployment_id = api_task(
        number_of_executions=3,
        queue_on_slots_exhaustion=True,
        shared_run_as_user_name="runner_finance",
        bot_input={"sInvoiceText": "x"},
        wait_for_completion=True,
        poke_interval=0.2,
    ).execute({"task_state_store": StateStore(), "ti": ti})
    result = ti.xcoms["bot_run"]
    assert result["deployment_id"] == deployment_id

    assert [entry["status"] for entry in result["runs"]] == ["COMPLETED"] * 3
    assert {record["userId"] for record in aa_emulator.bot_runs()} == {"29"}
    assert result["outputs"]["sCategory"] == "Utilities"


def test_exhausted_slots_without_queueing_fail_with_the_control_rooms_answer(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(api_task_slots=1, work_delay=3600)
    api_task().execute({"task_state_store": StateStore()})
    store = StateStore()

    with pytest.raises(Exception, match="API_TASK_SLOTS_EXHAUSTED") as refused:
        api_task().execute({"task_state_store": store})

    assert getattr(refused.value, "status", None) == 409
    assert SAVED_DEPLOYMENT not in store.values  # refused: a retry deploys anew
    assert len(aa_emulator.bot_runs()) == 1


def test_a_lost_deploy_answer_takes_the_api_tasks_deployment_by_its_name(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600, api_task_slots=4)
    hook = AutomationAnywhereHook()
    try:
        theirs = hook.deploy_api_task(API_TASK, number_of_executions=2, automation_name="another task")
    finally:
        hook.close()
    aa_emulator.faults.add("drop_after_commit", count=1, method="POST", path=r"/automations/deploy$")

    ours = api_task(number_of_executions=2).execute({"task_state_store": StateStore()})

    named = {record["deploymentId"] for record in aa_emulator.bot_runs() if record["automationName"] != "another task"}
    assert named == {ours} and ours != theirs
    assert aa_emulator.counters.requests(DEPLOY) == 2  # theirs and ours, never sent again


def test_an_api_task_killed_while_it_waits_stops_every_execution(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    task, store = api_task(number_of_executions=2, wait_for_completion=True, poke_interval=5), StateStore()
    kill_while_waiting(monkeypatch, task)

    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert [record["status"] for record in aa_emulator.bot_runs()] == ["RUN_ABORTED", "RUN_ABORTED"]
    assert aa_emulator.counters.requests(MANAGE) == 1
    assert SAVED_DEPLOYMENT not in store.values


def test_the_bot_run_sensor_waits_for_an_api_tasks_executions(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(activity_delay=0, pickup_delay=0.1, work_delay=0.3)
    deployment_id = api_task(number_of_executions=2).execute({"task_state_store": StateStore()})

    sensor = AutomationAnywhereBotRunSensor(
        task_id="wait", deployment_id=deployment_id, expected_runs=2, poke_interval=0.2, timeout=60
    )
    result = sensor.execute({"task_state_store": StateStore()})

    assert result["deployment_id"] == deployment_id and len(result["runs"]) == 2
    assert {entry["outputs"]["sCategory"] for entry in result["runs"]} == {"Utilities"}
    # Told to expect a third execution, which never comes, the sensor keeps waiting.
    more = AutomationAnywhereBotRunSensor(
        task_id="wait", deployment_id=deployment_id, expected_runs=3, poke_interval=0.2, timeout=1
    )
    with pytest.raises(AirflowSensorTimeout):
        more.execute({"task_state_store": StateStore()})


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"run_as_user_ids": [29]}, "run_as_user_ids cannot be used with api_task=True"),
        ({"run_as_user_names": "runner_finance", "pool_ids": [61]}, "run_as_user_names and pool_ids cannot be used"),
        ({"pool_names": ["Finance Runners"]}, "pool_names cannot be used with api_task=True"),
        ({"number_of_executions": 0}, "number_of_executions must be a whole number from 1 to 100"),
        ({"shared_run_as_user_id": 29, "shared_run_as_user_name": "x"}, "Give shared_run_as_user_id or"),
    ],
)
def test_bad_api_task_input_fails_when_the_task_is_made(kwargs, named):
    with pytest.raises(InvalidInputError, match=named):
        api_task(**kwargs)


def test_the_sensor_refuses_a_bad_expected_runs():
    with pytest.raises(InvalidInputError, match="expected_runs must be a whole number from 1"):
        AutomationAnywhereBotRunSensor(task_id="wait", deployment_id="d", expected_runs=0)


def test_api_task_parameters_without_api_task_are_refused():
    with pytest.raises(InvalidInputError, match="number_of_executions apply only to API tasks"):
        AutomationAnywhereDeployBotOperator(task_id="t", bot_id=501, run_as_user_ids=[29], number_of_executions=2)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (
            {"bot_path": "Bots/Finance/Invoice Classifier", "run_as_user_ids": [29]},
            "bot_path 'Bots/Finance/Invoice Classifier' is an API task \\(id 701\\): set api_task=True",
        ),
        (
            {"bot_path": "Bots/Finance/Invoice Processor", "api_task": True},
            "bot_path 'Bots/Finance/Invoice Processor' is a task bot \\(id 501\\), not an API task",
        ),
    ],
)
def test_a_bot_path_of_the_other_kind_fails_before_the_deploy(aa_emulator, monkeypatch, kwargs, named):
    aa_emulator.use_connection(monkeypatch)
    deploy = AutomationAnywhereDeployBotOperator(task_id="deploy", lost_answer_delay=0, **kwargs)

    with pytest.raises(InvalidInputError, match=named):
        deploy.execute({"task_state_store": StateStore()})

    assert aa_emulator.counters.requests(DEPLOY) == 0
    assert aa_emulator.counters.requests("POST /v3/automations/deploy") == 0
    assert aa_emulator.bot_runs() == []
