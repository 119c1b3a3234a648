"""The fault matrix's deploy DAG: deploy a bot once (retries=1), then wait for its run by poking."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor

with DAG(
    dag_id="deploy_once",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
) as dag:
    deploy = AutomationAnywhereDeployBotOperator(
        task_id="deploy", bot_id=501, run_as_user_ids=[29], bot_input={"sVendor": "Acme GmbH"}
    )
    AutomationAnywhereBotRunSensor(
        task_id="wait_poke",
        deployment_id=deploy.output,
        poke_interval=0.5,
        timeout=60,
        activity_grace_period=30,
        deferrable=False,
    ).set_upstream(deploy)
