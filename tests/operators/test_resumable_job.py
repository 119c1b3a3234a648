"""
Airflow 3.3's ResumableJobMixin and the deploy operator: not adopted (docs/lineage-and-links.md).

The mixin's retry submits a new job when the stored one ended in failure, and after a try
that died between the submit and the store's write. The deploy operator keeps its own
mechanism, which deploys once per DAG run in both cases: these tests show it.
"""

from __future__ import annotations

import time

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from tests.sensors.test_bot_run_sensor import StateStore

DEPLOY = "POST /v4/automations/deploy"


def test_the_deploy_operator_is_not_a_resumable_job_on_airflow_3_3():
    try:
        from airflow.sdk import ResumableJobMixin
    except ImportError:  # Airflow 3.1/3.2: no mixin, the same mechanism
        ResumableJobMixin = None
    if ResumableJobMixin is not None:
        assert not issubclass(AutomationAnywhereDeployBotOperator, ResumableJobMixin)
    assert not hasattr(AutomationAnywhereDeployBotOperator, "execute_resumable")


def test_a_retry_after_the_run_failed_reports_the_failure_and_never_deploys_again(aa_emulator, monkeypatch):
    """Where the mixin would see a failed job under its stored id and submit a new one."""
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=1.0)
    aa_emulator.use_connection(monkeypatch)
    store = StateStore()

    def deploy(timeout: float) -> AutomationAnywhereDeployBotOperator:
        return AutomationAnywhereDeployBotOperator(
            task_id="deploy",
            bot_id=501,
            run_as_user_ids=[29],
            bot_input={"sVendor": "FAIL on purpose"},
            wait_for_completion=True,
            poke_interval=0.2,
            timeout=timeout,
        )

    # The first try ends while the bot runs (as a worker that dies while it waits)...
    with pytest.raises(AirflowSensorTimeout):
        deploy(timeout=0.1).execute({"task_state_store": store})
    (saved,) = store.values.values()
    deadline = time.monotonic() + 30
    while aa_emulator.bot_runs()[0]["status"] != "RUN_FAILED":
        assert time.monotonic() < deadline, aa_emulator.bot_runs()
        time.sleep(0.2)

    # ...and the retry finds the run failed: it reports that run, and deploys nothing.
    with pytest.raises(AirflowFailException, match="RUN_FAILED: Emulated bot failure"):
        deploy(timeout=30).execute({"task_state_store": store})
    assert aa_emulator.counters.requests(DEPLOY) == 1
    assert saved["deployment_id"] == aa_emulator.bot_runs()[0]["deploymentId"]
    assert store.values == {}  # the run ended: a cleared task deploys anew
