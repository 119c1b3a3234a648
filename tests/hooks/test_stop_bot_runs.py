"""hook.stop_bot_runs against the emulator: what it stops, what it returns, what it refuses."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError, StopRefusedError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

MANAGE = "POST /v3/activity/manage"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def test_the_unfinished_runs_are_stopped_once_and_their_ids_returned(emulator, capsys):
    hook = AutomationAnywhereHook()
    deployment_id = hook.deploy_bot(501, [29, 30])
    execution_ids = [run.execution_id for run in hook.get_bot_runs(deployment_id)]

    assert hook.stop_bot_runs(deployment_id) == execution_ids
    assert [run.status for run in hook.get_bot_runs(deployment_id)] == ["RUN_ABORTED", "RUN_ABORTED"]
    assert f"Asked the Control Room to stop run(s) {', '.join(execution_ids)} of deployment {deployment_id}." in (
        capsys.readouterr().out
    )
    # Again: nothing runs any more, so no stop is sent.
    assert hook.stop_bot_runs(deployment_id) == []
    assert emulator.counters.requests(MANAGE) == 1


@pytest.mark.parametrize("deployment_id", ["", "no spaces please", None])
def test_a_bad_deployment_id_fails_before_any_request(emulator, deployment_id):
    with pytest.raises(InvalidInputError, match="deployment_id must be the deploymentId returned by a deploy"):
        AutomationAnywhereHook().stop_bot_runs(deployment_id)
    assert emulator.counters.requests() == 0


def test_runs_the_control_room_refuses_to_stop_are_named_as_not_stopped(emulator):
    emulator.configure(stop_takes_deployment_ids=True)  # refuses the activity record ids sent
    hook = AutomationAnywhereHook()
    deployment_id = hook.deploy_bot(501, [29, 30])
    execution_ids = [run.execution_id for run in hook.get_bot_runs(deployment_id)]

    with pytest.raises(StopRefusedError) as refused:
        hook.stop_bot_runs(deployment_id)
    assert refused.value.not_stopped == execution_ids
    assert f"Not stopped: {', '.join(execution_ids)} (execution_ids sent: the runs' activity record ids" in str(
        refused.value
    )
    assert [run.status for run in hook.get_bot_runs(deployment_id)] == ["RUNNING", "RUNNING"]
