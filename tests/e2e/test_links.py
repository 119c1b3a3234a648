"""Operator extra links through real Airflow (dag.test): what the task runner stores for the UI."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import load_test_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_each_task_stores_its_control_room_link_built_from_the_connection_host(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)

    run = load_test_dag("links").test()

    assert set(task_states(run).values()) == {"success"}
    (record,) = fast_bot.bot_runs()
    # written by Airflow's task runner from each link's get_link when the try ended
    queue_links, run_links = (
        xcoms(run, "_link_AutomationAnywhereQueueLink"),
        xcoms(run, "_link_AutomationAnywhereRunLink"),
    )
    assert queue_links == {
        "add": f"{fast_bot.url}/#/workload/queues/20",
        "wait": f"{fast_bot.url}/#/workload/queues/20",
    }
    assert run_links == {
        "deploy": f"{fast_bot.url}/#/activity/historical/{record['deploymentId']}/view",
        "wait_run": f"{fast_bot.url}/#/activity/historical/{record['deploymentId']}/view",
    }
    assert xcoms(run, "automation_anywhere_run")["deploy"] == {
        "control_room_url": fast_bot.url,
        "deployment_id": record["deploymentId"],
        "bot_id": "501",
    }
    # the links carry no credential of the connection
    password = fast_bot.credentials("password")["password"]
    assert not [link for link in [*queue_links.values(), *run_links.values()] if password in link]
