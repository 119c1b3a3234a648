"""
Each area of the provider against every Control Room version the emulator knows, strict.

One emulator per profile (``EmulatorConfig.for_profile(name, strict=True)``), reset before each
test: the provider must send only what the API reference documents (strict answers anything
else with 400), and where a version lacks an API the test asserts the error the user gets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.roles import ROLE_PRESETS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.connections import connection_fields, env_var_name
from automation_anywhere_emulator.profiles import PROFILES
from tests.e2e.conftest import load_example_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")

A360 = ["automation-360-latest", "automation-360-v30"]
ON_PREM = "on-prem-11.3"
UPDATE_V3 = "PUT /v3/wlm/queues/{queueId}/workitems/{id}"
UPDATE_V4 = "PUT /v4/wlm/queues/{queueId}/workitems/{id}"


def missing_api(path: str, api: str) -> str:
    """The provider's error for a call the Control Room does not have, as a pattern."""
    return (
        rf"The Control Room does not know this resource \[{path} -> HTTP 404\].*"
        rf"message='No API at .*details='{re.escape(api)} is not available on this Control Room'"
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ControlRoomEmulator]]:
    """One strict emulator per profile, started when first asked for."""
    started: dict[str, ControlRoomEmulator] = {}
    try:
        yield started
    finally:
        for emulator in started.values():
            emulator.stop()


@pytest.fixture
def strict(servers, monkeypatch):
    """``strict(profile)``: that profile's strict emulator, reset, quick bot, as the default connection."""

    def start(profile: str) -> ControlRoomEmulator:
        if profile not in servers:
            config = EmulatorConfig.for_profile(
                profile, strict=True, pickup_delay=0.3, work_delay=0.5, activity_delay=0.3
            )
            servers[profile] = ControlRoomEmulator(config).start()
        emulator = servers[profile]
        emulator.reset()
        emulator.use_connection(monkeypatch, multiple_login=True)
        return emulator

    return start


def refused(emulator: ControlRoomEmulator) -> int:
    """Requests strict mode (or a call's own checks) answered 400."""
    return emulator.counters.statuses().get("400", 0)


def test_every_profile_is_covered():
    assert sorted(PROFILES) == sorted([*A360, ON_PREM])


@pytest.mark.parametrize("profile", A360)
def test_add_and_wait(strict, profile):
    emulator = strict(profile)

    run = load_example_dag("example_automation_anywhere").test()

    assert task_states(run) == {"add_invoices": "success", "wait_until_finished": "success", "report": "success"}
    assert set(xcoms(run)["report"].values()) == {"COMPLETED"}
    assert refused(emulator) == 0


@pytest.mark.parametrize("profile", A360)
def test_deferrable_wait(strict, profile):
    emulator = strict(profile)
    emulator.configure(pickup_delay=3.0)  # still NEW at the sensor's first poke: it defers

    run = load_example_dag("example_automation_anywhere_deferrable").test()

    assert task_states(run) == {"add_orders": "success", "wait_in_triggerer": "success"}
    assert {item["status"] for item in xcoms(run)["wait_in_triggerer"].values()} == {"COMPLETED"}
    assert emulator.counters.logins() == 3  # the add, the first poke, the trigger's own session
    assert refused(emulator) == 0


@pytest.mark.parametrize(("profile", "deploy_v4_answers"), [("automation-360-latest", 1), ("automation-360-v30", 0)])
def test_deploy_and_wait(strict, profile, deploy_v4_answers):
    emulator = strict(profile)

    run = load_example_dag("example_automation_anywhere_bot").test()

    assert task_states(run) == {"deploy_invoice_bot": "success", "wait_for_run": "success", "print_outputs": "success"}
    assert xcoms(run)["wait_for_run"]["status"] == "COMPLETED"
    statuses = emulator.counters.snapshot()["requests"]
    assert statuses.get("POST /v3/automations/deploy", 0) == 1 - deploy_v4_answers
    assert refused(emulator) == 0


@pytest.mark.parametrize(
    ("profile", "update"), [("automation-360-latest", UPDATE_V4), ("automation-360-v30", UPDATE_V3)]
)
def test_requeue(strict, profile, update):
    emulator = strict(profile)
    emulator.configure(pickup_delay=0, work_delay=0)
    emulator.add_work_items(20, [{"invoice_id": "INV-1 FAIL_ONCE"}, {"invoice_id": "INV-2"}])
    assert [item["status"] for item in emulator.work_items(20)] == ["FAILED", "COMPLETED"]
    emulator.configure(pickup_delay=0.3, work_delay=0.5)

    run = load_example_dag("example_automation_anywhere_requeue").test()

    assert task_states(run) == {
        "requeue_failed": "success",
        "anything_requeued": "success",
        "wait_until_finished": "success",
    }
    assert [item["status"] for item in emulator.work_items(20)] == ["COMPLETED", "COMPLETED"]
    assert emulator.counters.requests(update) == 1
    if update == UPDATE_V4:
        assert emulator.counters.requests(UPDATE_V3) == 0  # the deprecated call is not used where v4 answers
    assert refused(emulator) == 0


def export(hook: AutomationAnywhereHook, dataset: str, **options) -> int:
    now = datetime.now(timezone.utc)
    return sum(len(page) for page in hook.iter_history(dataset, now - timedelta(days=3), now, **options))


@pytest.mark.parametrize("profile", A360)
def test_export(strict, profile):
    emulator = strict(profile)
    emulator.configure(history_runs=30)
    emulator.add_work_items(20, [{"invoice_id": "INV-1"}])
    hook = AutomationAnywhereHook()

    assert export(hook, "bot_runs") == 30
    assert export(hook, "audit") == 30
    assert export(hook, "work_items", queue_ids=[20]) == 1
    # The one refusal: the bot runs' time filter (modifiedOn), which the reference does not
    # document for the activity list; the export then reads newest-first without it.
    assert refused(emulator) == 1


def test_export_on_premises(strict):
    emulator = strict(ON_PREM)
    emulator.configure(history_runs=30)
    hook = AutomationAnywhereHook()

    assert export(hook, "audit") == 30
    with pytest.raises(
        AutomationAnywhereError, match=missing_api("POST /v3/activity/list", "The v3 activity API (Automation 360)")
    ):
        export(hook, "bot_runs")
    with pytest.raises(
        AutomationAnywhereError, match=missing_api(r"POST /v3/wlm/\S+", "The v3 work queue API (Automation 360)")
    ):
        export(hook, "work_items", queue_ids=[20])


@pytest.mark.parametrize("profile", [*A360, ON_PREM])
def test_names(strict, profile):
    emulator = strict(profile)
    hook = AutomationAnywhereHook()

    assert hook.get_bot_id("Bots/Finance/Invoice Processor") == "501"
    assert hook.get_run_as_user_ids(["runner_finance", "runner_reports"]) == ["29", "30"]
    assert hook.get_pool_ids("Finance Runners") == ["61"]
    if profile == ON_PREM:
        with pytest.raises(
            AutomationAnywhereError,
            match=missing_api("POST /v3/wlm/queues/list", "The v3 work queue API (Automation 360)"),
        ):
            hook.get_queue_id("Invoices")
    else:
        assert hook.get_queue_id("Invoices") == "20"
    assert refused(emulator) == 0


@pytest.mark.parametrize("profile", [*A360, ON_PREM])
def test_roles(strict, profile, monkeypatch):
    emulator = strict(profile)
    admin = connection_fields(emulator.url, {"login": "cr_admin", "password": "Admin-Passw0rd!"}, "password")
    monkeypatch.setenv(env_var_name("aa_admin"), json.dumps(admin))
    hook = AutomationAnywhereHook("aa_admin")

    created = hook.ensure_role("Airflow Service", ROLE_PRESETS["bot_deployer"])
    updated = hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"])

    assert created.created and not updated.created and updated.id == created.id
    assert len(updated.added) == len(ROLE_PRESETS["airflow_service"]) - len(ROLE_PRESETS["bot_deployer"])
    if profile == ON_PREM:
        assert emulator.counters.requests("POST /v2/usermanagement/roles") == 0
    assert refused(emulator) == 0


def test_work_queues_and_bots_on_premises_fail_with_the_missing_api(strict):
    emulator = strict(ON_PREM)
    hook = AutomationAnywhereHook()
    (item,) = emulator.add_work_items(20, [{"invoice_id": "INV-1"}])

    with pytest.raises(
        AutomationAnywhereError, match=missing_api(r"POST /v3/wlm/\S+", "The v3 work queue API (Automation 360)")
    ):
        hook.add_work_items(20, [{"invoice_id": "INV-2"}])
    # what the sensor and its trigger read
    with pytest.raises(
        AutomationAnywhereError, match=missing_api(r"POST /v3/wlm/\S+", "The v3 work queue API (Automation 360)")
    ):
        hook.get_work_items(20, [item["id"]])
    with pytest.raises(
        AutomationAnywhereError, match=missing_api(r"POST /v3/wlm/\S+", "The v3 work queue API (Automation 360)")
    ):
        hook.update_work_item(20, item["id"], status="ON_HOLD")
    with pytest.raises(
        AutomationAnywhereError, match=missing_api("POST /v3/automations/deploy", "The v3 deploy API (Automation 360)")
    ):
        hook.deploy_bot(501, [29])
    assert emulator.counters.requests("POST /v1/authentication") == 1  # after v2's 404
    assert len(emulator.work_items(20)) == 1 and refused(emulator) == 0
