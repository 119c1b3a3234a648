"""
Deploy a bot with input variables, wait for its run in the triggerer, print its outputs.

The bot is given by its path in the public repository and the run-as user by username; the
provider looks their ids up when the task runs (``bot_id=`` and ``run_as_user_ids=`` work as
well). The inputs are plain Python values; the provider sends them typed (STRING, NUMBER,
BOOLEAN, LIST, DICTIONARY, DATETIME) and converts the run's output variables back. Runs
against any Control Room reachable through ``automation_anywhere_default`` — for example the
bundled emulator, whose bot ``Bots/Finance/Invoice Processor`` echoes its inputs as outputs.
Trigger it with another bot, run-as user or vendor through the DAG params (``bot_path``,
``run_as_user``, ``vendor``).

Needs a running triggerer (``airflow triggerer``); ``airflow dags test`` runs triggers in-line.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor

with DAG(
    dag_id="example_automation_anywhere_bot",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # Templates render to text here (no render_template_as_native_obj), so that a STRING input
    # such as a zip code "10115" stays a string instead of turning into a NUMBER.
    params={"bot_path": "Bots/Finance/Invoice Processor", "run_as_user": "runner_finance", "vendor": "Acme GmbH"},
    tags=["automation_anywhere", "example"],
) as dag:
    deploy = AutomationAnywhereDeployBotOperator(
        task_id="deploy_invoice_bot",
        bot_path="{{ params.bot_path }}",
        run_as_user_names="{{ params.run_as_user }}",
        bot_input={
            "sVendor": "{{ params.vendor }}",
            "nAmount": 1250.5,
            "bUrgent": True,
            "lLines": ["Consulting", "Travel"],
            "dAddress": {"city": "Berlin", "zip": "10115"},
            "dtDue": datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc),
        },
    )

    wait_for_run = AutomationAnywhereBotRunSensor(
        task_id="wait_for_run",
        deployment_id=deploy.output,
        deferrable=True,
        poke_interval=1,
        timeout=3600,
        activity_grace_period=60,
        paused_timeout=1800,  # a run paused for 30 minutes fails the task
        unknown_timeout=600,  # so does a run whose device the Control Room lost for 10 minutes
    )

    @task
    def print_outputs(run: dict[str, Any]) -> dict[str, Any]:
        """Print the run's status and each output variable; return the outputs."""
        print(f"deployment {run['deployment_id']}: {run['status']}")
        for name, value in run["outputs"].items():
            print(f"  {name} = {value!r}")
        return run["outputs"]

    print_outputs(wait_for_run.output)
