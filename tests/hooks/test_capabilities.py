"""The compatibility check (hook.check_compatibility, python -m airflow_provider_aa.check) and the per-process capabilities."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_aa import check as check_cli
from airflow_provider_aa.control_room.capabilities import REPORT_KEYS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import EmulatorConfig

V4_DEPLOY = "POST /v4/automations/deploy"
V4_UPDATE = "PUT /v4/wlm/queues/{queueId}/workitems/{id}"


def use(emulator, monkeypatch, conn_id="automation_anywhere_default", auth_type="password", **extra):
    if auth_type == "password":
        extra.setdefault("multiple_login", True)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emulator.connection_env_value(auth_type, **extra))


def use_deployer(emulator, monkeypatch, conn_id):
    """User bot_deployer: may deploy bots, has no queue rights."""
    fields = {
        "conn_type": "automation_anywhere",
        "host": emulator.url,
        "login": "bot_deployer",
        "password": "Deployer-Passw0rd!",
        "extra": {"auth_type": "password", "multiple_login": True},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def checked(**kwargs):
    hook = AutomationAnywhereHook()
    try:
        return hook.check_compatibility(**kwargs)
    finally:
        hook.close()


def test_the_check_reports_login_sessions_versions_rights_and_filters(aa_emulator, monkeypatch):
    use(aa_emulator, monkeypatch)
    report = checked().to_dict()
    assert list(report) == [*REPORT_KEYS, "advice"]
    assert report["login"]["status"] == "ok"
    assert report["login"]["endpoint"] == "POST /v2/authentication with multipleLogin"
    assert report["login"]["token_lifetime_seconds"] in (1200, 1201)
    statuses = {key: report[key]["status"] for key in REPORT_KEYS}
    assert statuses == {
        "login": "ok",
        "parallel_sessions": "yes",
        "deploy_api": "v4",
        "api_tasks": "available",
        "work_item_update_api": "v4",
        "user_management_api": statuses["user_management_api"],  # the role API's order is roles.py's
        "queue_access": "visible",
        "activity_access": "visible",
        "audit_access": "visible",
        "activity_time_filter": "accepted",
    }
    assert statuses["user_management_api"] in ("v1", "v2")
    # Read-only: nothing was added or deployed, and the second session was logged out.
    assert [queue for queue in (20, 21, 22) if aa_emulator.work_items(queue)] == []
    assert aa_emulator.bot_runs() == []
    assert aa_emulator.counters.logins("bot_runner") == 2


def profile(emulator, name, **changes):
    emulator.configure(**EmulatorConfig.for_profile(name, **changes).to_dict())


def test_an_old_control_room_gets_v3_and_advice(aa_emulator, monkeypatch):
    profile(aa_emulator, "automation-360-v30")
    use(aa_emulator, monkeypatch)
    report = checked()
    assert report.ok
    assert (report.findings["deploy_api"].status, report.findings["work_item_update_api"].status) == ("v3", "v3")
    assert report.findings["deploy_api"].uses == "POST /v3/automations/deploy"
    assert any("no /v4 deploy" in advice for advice in report.advice)
    assert report.findings["api_tasks"].status == "unavailable"
    assert any(advice.startswith("api_task=True fails") and "API tasks need" in advice for advice in report.advice)
    assert any("deprecates" in advice for advice in report.advice)


def test_an_on_premises_11_3_control_room_cannot_serve_the_provider(aa_emulator, monkeypatch):
    profile(aa_emulator, "on-prem-11.3")
    use(aa_emulator, monkeypatch)
    report = checked()
    assert not report.ok
    assert report.findings["login"].facts["endpoint"] == "POST /v1/authentication with multipleLogin"
    statuses = {key: report.findings[key].status for key in ("queue_access", "deploy_api", "user_management_api")}
    assert statuses == {"queue_access": "not available", "deploy_api": "none", "user_management_api": "v1"}
    assert any("/v3 work queue API" in advice for advice in report.advice)


def test_a_refused_time_filter_sends_the_export_newest_first_at_once(aa_emulator, monkeypatch):
    """The check's 400 to a time filter is what the export in the same process goes by: no second 400."""
    profile(aa_emulator, "automation-360-latest", strict=True, history_runs=5)
    use(aa_emulator, monkeypatch)
    assert checked().findings["activity_time_filter"].status == "refused"
    hook = AutomationAnywhereHook()
    end = datetime.now(timezone.utc)
    try:
        runs = [run for page in hook.iter_history("bot_runs", end - timedelta(days=3), end) for run in page]
    finally:
        hook.close()
    assert len(runs) == 5
    activity = [entry["status"] for entry in aa_emulator.request_log.entries() if entry["path"] == "/v3/activity/list"]
    assert activity.count(400) == 1  # the check's probe; the export sent no filter


def test_an_ignored_time_filter_is_told_from_an_accepted_one(aa_emulator, monkeypatch):
    aa_emulator.configure(history_runs=5, ignore_filter=True)
    use(aa_emulator, monkeypatch)
    finding = checked().findings["activity_time_filter"]
    assert finding.status == "ignored" and finding.advice


def test_api_key_and_single_session_modes_do_not_probe_parallel_sessions(aa_emulator, monkeypatch):
    use(aa_emulator, monkeypatch, auth_type="api_key")
    report = checked()
    assert report.findings["parallel_sessions"].status == "unknown"
    assert aa_emulator.counters.logins("api_user") == 1
    use(aa_emulator, monkeypatch, multiple_login=False)
    assert checked().findings["parallel_sessions"].status == "unknown"
    assert aa_emulator.counters.logins("bot_runner") == 1


def test_a_user_without_queue_rights_fails_the_check(aa_emulator, monkeypatch):
    use_deployer(aa_emulator, monkeypatch, "automation_anywhere_default")
    report = checked()
    assert not report.ok
    assert report.findings["queue_access"].status == "no permission"
    assert any("queue rights" in advice for advice in report.advice)


def test_a_refused_login_fails_the_check_and_probes_nothing_else(aa_emulator, monkeypatch):
    use(aa_emulator, monkeypatch)
    aa_emulator.set_password("bot_runner", "Another-Passw0rd!")
    report = checked()
    assert not report.ok
    assert report.findings["login"].status == "failed"
    assert {report.findings[key].status for key in REPORT_KEYS[1:]} == {"unknown"}
    assert aa_emulator.counters.requests(V4_DEPLOY) == 0


def test_write_adds_updates_and_deletes_one_work_item(aa_emulator, monkeypatch):
    aa_emulator.configure(pause_bot=True)
    use(aa_emulator, monkeypatch)
    report = checked(write_queue="Invoices", write_item={"invoice": "CHECK-1"})
    assert report.write is not None and report.write.status == "ok", report.write
    assert "updated it on /v4" in report.write.detail
    assert aa_emulator.work_items(20) == []
    assert report.to_dict()["write"]["status"] == "ok"


def test_the_hooks_of_one_process_pay_for_a_missing_v4_once(aa_emulator, monkeypatch):
    """Two hooks deploy and update on a Control Room without /v4: one 404 for each, not one per hook."""
    aa_emulator.configure(deploy_v4_enabled=False, wlm_v4_enabled=False, pause_bot=True)
    use(aa_emulator, monkeypatch)
    item = aa_emulator.add_work_items(20, [{"n": 1}])[0]["id"]
    for number in range(2):
        hook = AutomationAnywhereHook()
        try:
            hook.deploy_bot(501, 29)
            hook.update_work_item(20, item, result=f"pass {number}")
        finally:
            hook.close()
    assert aa_emulator.counters.requests(V4_DEPLOY) == 1
    assert aa_emulator.counters.requests(V4_UPDATE) == 1
    assert aa_emulator.counters.requests("POST /v3/automations/deploy") == 2


def test_what_the_check_learns_the_hooks_use(aa_emulator, monkeypatch):
    aa_emulator.configure(deploy_v4_enabled=False)
    use(aa_emulator, monkeypatch)
    checked()
    hook = AutomationAnywhereHook()
    try:
        hook.deploy_bot(501, 29)
    finally:
        hook.close()
    assert aa_emulator.counters.requests(V4_DEPLOY) == 1  # the check's probe, none for the deploy


def test_another_user_learns_for_itself(aa_emulator, monkeypatch):
    aa_emulator.configure(deploy_v4_enabled=False)
    use(aa_emulator, monkeypatch)
    use(aa_emulator, monkeypatch, conn_id="other", auth_type="api_key")
    for conn_id in ("automation_anywhere_default", "other"):
        hook = AutomationAnywhereHook(conn_id)
        try:
            hook.deploy_bot(501, 29)
        finally:
            hook.close()
    assert aa_emulator.counters.requests(V4_DEPLOY) == 2


def test_the_command_prints_json_and_exits_0(aa_emulator, monkeypatch, capsys):
    # An unknown extra makes the hook log a warning while the check runs: not on standard output.
    use(aa_emulator, monkeypatch, conn_id="tenant", colour="blue")
    assert check_cli.main(["--conn-id", "tenant", "--json"]) == 0
    printed = capsys.readouterr()
    assert "colour" in printed.err
    shown = json.loads(printed.out)
    assert list(shown) == [*REPORT_KEYS, "advice"]
    assert shown["queue_access"]["status"] == "visible"


@pytest.mark.parametrize(
    ("name", "exit_code", "expected"),
    [
        (
            "automation-360-latest",
            0,
            {"login": "ok", "deploy_api": "v4", "api_tasks": "available", "work_item_update_api": "v4"},
        ),
        (
            "automation-360-v30",
            0,
            {"login": "ok", "deploy_api": "v3", "api_tasks": "unavailable", "work_item_update_api": "v3"},
        ),
        (
            "on-prem-11.3",
            1,
            {"login": "ok", "deploy_api": "none", "api_tasks": "unavailable", "queue_access": "not available"},
        ),
    ],
)
def test_the_command_answers_each_emulator_profile_strict_with_its_json(
    aa_emulator, monkeypatch, capsys, name, exit_code, expected
):
    profile(aa_emulator, name, strict=True)
    use(aa_emulator, monkeypatch, conn_id="tenant")
    assert check_cli.main(["--conn-id", "tenant", "--json"]) == exit_code
    shown = json.loads(capsys.readouterr().out)
    assert list(shown) == [*REPORT_KEYS, "advice"]
    assert {key: shown[key]["status"] for key in expected} == expected
    assert shown["advice"]


def test_the_command_prints_a_report_and_exits_1_when_queues_are_refused(aa_emulator, monkeypatch, capsys):
    use_deployer(aa_emulator, monkeypatch, "tenant")
    assert check_cli.main(["--conn-id", "tenant"]) == 1
    out = capsys.readouterr().out
    assert "queue_access" in out and "no permission" in out and "Advice: Give the user queue rights" in out


def test_write_needs_a_queue(capsys):
    with pytest.raises(SystemExit) as exit_:
        check_cli.main(["--write"])
    assert exit_.value.code == 2
    assert "--write needs --queue" in capsys.readouterr().err


def test_an_unknown_connection_exits_1_with_a_message(capsys):
    assert check_cli.main(["--conn-id", "no_such_connection"]) == 1
    assert "Cannot check connection 'no_such_connection'" in capsys.readouterr().err


def test_the_hooks_of_one_process_pay_for_a_missing_v2_login_once(aa_emulator, monkeypatch):
    aa_emulator.configure(auth_v2_enabled=False)
    use(aa_emulator, monkeypatch)
    for _ in range(2):
        hook = AutomationAnywhereHook()
        try:
            hook.get_queue_id("Invoices")
        finally:
            hook.close()
    assert aa_emulator.counters.requests("POST /v2/authentication") == 1
    assert aa_emulator.counters.requests("POST /v1/authentication") == 2
