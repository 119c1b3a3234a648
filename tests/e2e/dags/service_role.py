"""tests/e2e/test_roles.py's DAG: docs/permissions.md's one-off admin DAG (the service role, a copied role), and hook.run."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_aa.control_room.roles import ROLE_PRESETS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


@task
def service_role() -> dict:
    hook = AutomationAnywhereHook("aa_admin")
    try:
        return hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"]).to_dict()
    finally:
        hook.close()


@task
def copied_role() -> dict:
    """A role whose permissions come from one built in the UI (the seeded "Generate API-Key")."""
    hook = AutomationAnywhereHook("aa_admin")
    try:
        return hook.ensure_role("Airflow Keys", copy_from="Generate API-Key").to_dict()
    finally:
        hook.close()


@task
def pools() -> list:
    hook = AutomationAnywhereHook("aa_admin")
    try:
        answer = hook.run("POST", "/v2/devices/pools/list", json={}, replay_safe=True)
        return [pool["name"] for pool in answer["list"]]
    finally:
        hook.close()


with DAG(dag_id="aa_service_role", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    service_role() >> copied_role() >> pools()
