"""
Case 7: a bot deployed with ``wait_for_completion``, the worker killed after the Control
Room accepted the deploy; ``retries=1``. The bot must run once.

The test makes the deploy's answer slow (emulator fault ``slow_response``: committed at
once, answered seconds later) and kills the worker while it waits for that answer: the
retry finds the marker saved before the send, but no deployment id, and must take the run
from the bot's activity instead of deploying again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator

with DAG(
    dag_id="deployment_deploy_kill",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "deployment-test"],
) as dag:
    AutomationAnywhereDeployBotOperator(
        task_id="deploy_and_wait",
        automation_anywhere_conn_id="aa_deploy",
        bot_id=501,
        run_as_user_ids=[77],  # a run-as user no other DAG of the test uses: the look-up finds only this run
        bot_input={"sVendor": "deploy once"},
        wait_for_completion=True,
        deferrable=False,
        poke_interval=1,
        timeout=240,
        lost_answer_delay=3,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
