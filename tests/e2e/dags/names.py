"""tests/e2e/test_names.py's DAG: deploy a bot given by path, run-as users and pools by name (retries=1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator

with DAG(
    dag_id="names_deploy",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
    # The run-as users are a list: render it as one, not as its text.
    render_template_as_native_obj=True,
    params={"bot": "Bots/Finance/Invoice Processor", "users": ["runner_finance"], "pools": []},
) as dag:
    AutomationAnywhereDeployBotOperator(
        task_id="deploy",
        bot_path="{{ params.bot }}",
        run_as_user_names="{{ params.users }}",
        pool_names="{{ params.pools }}",
        bot_input={"sVendor": "Acme GmbH"},
        poke_interval=0.5,
        timeout=60,
    )
