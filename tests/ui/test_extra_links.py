"""
The operator extra links in the web UI: a DAG run by ``dag.test()`` against the emulator,
then its tasks opened in a real ``airflow api-server`` (same metadata database) in Chromium.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import load_test_dag, task_states
from tests.ui.conftest import UI_TIMEOUT_MS

pytestmark = [pytest.mark.ui, pytest.mark.browser]


def test_the_tasks_show_their_control_room_links_pointing_at_the_emulator(
    signed_in, api_server, aa_emulator, monkeypatch
):
    aa_emulator.configure(pickup_delay=0.3, work_delay=0.5)
    aa_emulator.use_connection(monkeypatch)
    # api_server has migrated the database this run is written to, and serves it
    run = load_test_dag("links").test()
    assert set(task_states(run).values()) == {"success"}
    (record,) = aa_emulator.bot_runs()
    expected = {
        "deploy": ("Control Room run", f"{aa_emulator.url}/#/activity/historical/{record['deploymentId']}/view"),
        "wait_run": ("Control Room run", f"{aa_emulator.url}/#/activity/historical/{record['deploymentId']}/view"),
        "add": ("Work queue", f"{aa_emulator.url}/#/workload/queues/20"),
        "wait": ("Work queue", f"{aa_emulator.url}/#/workload/queues/20"),
    }

    page = signed_in.new_page()
    try:
        for task_id, (name, url) in expected.items():
            # the task instance's Details tab lists its extra links
            page.goto(f"{api_server.url}/dags/links/runs/{run.run_id}/tasks/{task_id}/details")
            link = page.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible(timeout=UI_TIMEOUT_MS)
            expect(link).to_have_attribute("href", url)
    finally:
        page.close()
