"""
on_kill of the deploy operator and the bot run sensor against the emulator: a task killed
while it waits stops its bot's runs (RUN_ABORTED, one stop request), unless stop_on_kill=False.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.operators import automation_anywhere as operators_module
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor
from tests.sensors.test_bot_run_sensor import StateStore

MANAGE = "POST /v3/activity/manage"
SAVED_DEPLOYMENT = "automation_anywhere_bot_deployment"


class Killed(BaseException):
    """What ends the task's process after Airflow called on_kill()."""


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    """Runs that are RUNNING at once and for an hour."""
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def statuses(emulator):
    return [run["status"] for run in emulator.bot_runs()]


def kill_while_waiting(monkeypatch, task):
    """The operator's first pause between polls is where Airflow kills it (SIGTERM → on_kill)."""

    def killed(seconds):
        task.on_kill()
        raise Killed

    monkeypatch.setattr(
        operators_module, "time", SimpleNamespace(time=time.time, monotonic=time.monotonic, sleep=killed)
    )


def deploy_and_wait(**kwargs):
    return AutomationAnywhereDeployBotOperator(
        task_id="deploy", bot_id=501, run_as_user_ids=[29, 30], wait_for_completion=True, poke_interval=5, **kwargs
    )


def test_a_deploy_operator_killed_while_it_waits_stops_its_runs_and_drops_the_saved_deployment(
    emulator, monkeypatch, capsys
):
    task, store = deploy_and_wait(), StateStore()
    kill_while_waiting(monkeypatch, task)

    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert emulator.counters.requests(MANAGE) == 1
    assert statuses(emulator) == ["RUN_ABORTED", "RUN_ABORTED"]
    assert SAVED_DEPLOYMENT not in store.values  # a cleared task deploys anew
    assert "Asked the Control Room to stop run(s)" in capsys.readouterr().out


def test_stop_on_kill_false_leaves_the_bot_running_and_the_deployment_saved(emulator, monkeypatch):
    task, store = deploy_and_wait(stop_on_kill=False), StateStore()
    kill_while_waiting(monkeypatch, task)

    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert emulator.counters.requests(MANAGE) == 0
    assert statuses(emulator) == ["RUNNING", "RUNNING"]
    assert store.values[SAVED_DEPLOYMENT]["deployment_id"]


def test_runs_whose_records_do_not_show_the_deployment_are_never_stopped(emulator, monkeypatch, capsys):
    """A Control Room that ignores the activity filter and shows no deploymentId: stop nobody's runs."""
    others = AutomationAnywhereHook()
    for _ in range(5):
        others.deploy_bot(501, [29])  # other tasks' runs of the same bot
    others.close()
    emulator.configure(ignore_filter=True, activity_deployment_ids=False)
    task, store = deploy_and_wait(), StateStore()
    kill_while_waiting(monkeypatch, task)

    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert emulator.counters.requests(MANAGE) == 0
    assert statuses(emulator) == ["RUNNING"] * 7
    assert "7 unfinished run(s) listed for deployment" in capsys.readouterr().out
    assert store.values[SAVED_DEPLOYMENT]["deployment_id"]  # not stopped: a retry waits for the run


def test_runs_the_control_room_refuses_to_stop_are_a_not_stopped_warning_naming_them(emulator, monkeypatch, capsys):
    emulator.configure(stop_takes_deployment_ids=True)  # refuses the activity record ids sent
    task, store = deploy_and_wait(), StateStore()
    kill_while_waiting(monkeypatch, task)

    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert emulator.counters.requests(MANAGE) == 1
    assert statuses(emulator) == ["RUNNING", "RUNNING"]
    (deployment_id,) = {run["deploymentId"] for run in emulator.bot_runs()}
    execution_ids = ", ".join(run["id"] for run in emulator.bot_runs())
    out = capsys.readouterr().out
    assert f"Task killed: run(s) {execution_ids} of bot deployment {deployment_id} not stopped" in out
    assert "[warning  ]" in out.split("not stopped")[0].splitlines()[-1]
    assert store.values[SAVED_DEPLOYMENT]["deployment_id"] == deployment_id  # a retry waits for the runs


def test_a_deploy_operator_killed_before_it_deployed_sends_nothing(emulator):
    deploy_and_wait().on_kill()
    assert emulator.counters.requests() == 0


def test_a_stop_that_fails_is_a_warning_and_the_deployment_stays_saved(emulator, monkeypatch, capsys):
    task, store = deploy_and_wait(), StateStore()

    def refused_login_then_killed(seconds):
        emulator.set_password("bot_runner", "Rotated-Passw0rd!")
        task.on_kill()
        raise Killed

    monkeypatch.setattr(
        operators_module,
        "time",
        SimpleNamespace(time=time.time, monotonic=time.monotonic, sleep=refused_login_then_killed),
    )
    with pytest.raises(Killed):
        task.execute({"task_state_store": store})

    assert emulator.counters.requests(MANAGE) == 0
    assert "Could not stop the runs of bot deployment" in capsys.readouterr().out
    assert store.values[SAVED_DEPLOYMENT]["deployment_id"]  # a retry waits for the run that goes on


def sensor(deployment_id, **kwargs):
    return AutomationAnywhereBotRunSensor(task_id="wait", deployment_id=deployment_id, **kwargs)


def test_a_bot_run_sensor_killed_while_it_waits_stops_the_runs(emulator):
    deployment_id = AutomationAnywhereHook().deploy_bot(501, [29])
    waiting = sensor(deployment_id)
    assert not waiting.poke({"task_state_store": StateStore()}).is_done

    waiting.on_kill()

    assert emulator.counters.requests(MANAGE) == 1
    assert statuses(emulator) == ["RUN_ABORTED"]


def test_a_bot_run_sensor_with_stop_on_kill_false_stops_nothing(emulator):
    deployment_id = AutomationAnywhereHook().deploy_bot(501, [29])
    waiting = sensor(deployment_id, stop_on_kill=False)
    waiting.poke({"task_state_store": StateStore()})

    waiting.on_kill()

    assert emulator.counters.requests(MANAGE) == 0
    assert statuses(emulator) == ["RUNNING"]


def test_a_bot_run_sensor_killed_before_its_first_poke_sends_nothing(emulator):
    sensor("{{ not rendered }}").on_kill()
    assert emulator.counters.requests() == 0
