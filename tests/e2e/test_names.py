"""Names instead of ids through real Airflow (dag.test) against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import load_example_dag, load_test_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")

QUEUES = "POST /v3/wlm/queues/list"
FILES = "POST /v2/repository/workspaces/{workspace}/files/list"
RUN_AS_USERS = "POST /v1/devices/runasusers/list"
POOLS = "POST /v2/devices/pools/list"
DEPLOY = "POST /v4/automations/deploy"


def tries(run) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


def test_the_deferrable_example_looks_its_queue_up_once_per_task_not_in_the_trigger(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(pickup_delay=4.0)  # still NEW at the first poke: the sensor defers

    run = load_example_dag("example_automation_anywhere_deferrable").test()

    assert task_states(run) == {"add_orders": "success", "wait_in_triggerer": "success"}
    assert xcoms(run)["add_orders"] == [item["id"] for item in fast_bot.work_items(22)]  # "Orders" is queue 22
    # The add task and the sensor's first poke look "Orders" up; the trigger polls queue 22,
    # and the resumed sensor takes the id from the trigger's event.
    assert fast_bot.counters.requests(QUEUES) == 2
    assert fast_bot.counters.logins() == 3


def test_a_bot_deployed_by_names_runs_for_those_users_on_that_pool(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    dag = load_test_dag("names")
    dag.get_task("deploy").wait_for_completion = True

    run = dag.test(run_conf={"users": ["runner_finance", "runner_reports"], "pools": ["Finance Runners"]})

    assert task_states(run) == {"deploy": "success"}
    runs = fast_bot.bot_runs()
    assert sorted((record["fileId"], record["userId"]) for record in runs) == [("501", "29"), ("501", "30")]
    assert {record["deviceId"] for record in runs} <= {"111", "112"}  # the pool's devices
    assert xcoms(run, "bot_run")["deploy"]["status"] == "COMPLETED"
    assert [fast_bot.counters.requests(endpoint) for endpoint in (FILES, RUN_AS_USERS, POOLS)] == [1, 1, 1]


def test_a_retry_finds_the_same_ids_and_never_deploys_twice(fast_bot, monkeypatch):
    """The first try dies right after the deploy was answered; the retry looks the names up again."""
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    fast_bot.use_connection(monkeypatch, timeout=1)
    fast_bot.configure(activity_delay=0.3)
    deploy_bot, deployed = AutomationAnywhereHook.deploy_bot, []

    def dying(self: Any, *args: Any, **kwargs: Any) -> str:
        deployed.append(deploy_bot(self, *args, **kwargs))
        if len(deployed) == 1:
            raise SystemExit(1)
        return deployed[-1]

    monkeypatch.setattr(AutomationAnywhereHook, "deploy_bot", dying)
    run = load_test_dag("names").test()

    assert task_states(run) == {"deploy": "success"} and tries(run) == {"deploy": 2}
    (record,) = fast_bot.bot_runs()
    assert xcoms(run)["deploy"] == record["deploymentId"] == deployed[0]
    assert fast_bot.counters.requests(DEPLOY) == 1
    assert fast_bot.counters.requests(FILES) == 2  # once per try


def test_a_name_matching_nothing_fails_at_once_naming_the_near_ones(fast_bot, monkeypatch, capfd):
    fast_bot.use_connection(monkeypatch)
    run = load_test_dag("names").test(run_conf={"bot": "Bots/Finance/Invoice Procesor"})

    assert task_states(run) == {"deploy": "failed"} and tries(run) == {"deploy": 1}  # retries unused
    log = capfd.readouterr().out
    assert "bot_path 'Bots/Finance/Invoice Procesor': no bot matches. Near names: " in log
    assert "'Automation Anywhere\\Bots\\Finance\\Invoice Processor' (id 501)" in log
    assert fast_bot.counters.requests(DEPLOY) == 0 and fast_bot.bot_runs() == []
