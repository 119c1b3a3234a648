"""stop_runs driven through a real ControlRoomSession against a scripted Control Room."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, StopRefusedError
from airflow_provider_aa.control_room.stopping import stop_runs
from tests.control_room.scripted import Script, answer, expect, login, lost, run

ACTIVITY_BODY = {
    "filter": {"operator": "eq", "field": "deploymentId", "value": "dep-1"},
    "page": {"offset": 0, "length": 100},
}


def runs_page(token, *records):
    listed = [{"id": execution_id, "deploymentId": "dep-1", "status": status} for execution_id, status in records]
    return (expect("POST", "/v3/activity/list", json=ACTIVITY_BODY, token=token), answer(200, {"list": listed}))


def stop(token, execution_ids, outcome):
    body = {"stop_executions": {"execution_ids": execution_ids}}
    return (expect("POST", "/v3/activity/manage", json=body, token=token, replay_safe=True), outcome)


def test_only_the_runs_not_finished_are_stopped_in_one_request(session, clock, token):
    script = Script(
        [
            login(token),
            runs_page(
                token,
                ("e1", "RUNNING"),
                ("e2", "COMPLETED"),
                ("e3", "DEPLOYED"),
                ("e4", "RUN_FAILED"),
                ("e5", "RUN_PAUSED"),
                ("e6", "SOMETHING_NEW"),
            ),
            stop(token, ["e1", "e3", "e5", "e6"], answer(200, {})),
        ]
    )
    assert run(stop_runs(session, "dep-1"), script, session=session, clock=clock) == ["e1", "e3", "e5", "e6"]


@pytest.mark.parametrize("records", [(), (("e1", "COMPLETED"), ("e2", "RUN_ABORTED"))], ids=["no-runs", "finished"])
def test_nothing_to_stop_sends_no_stop_request(session, clock, token, records):
    script = Script([login(token), runs_page(token, *records)])
    assert run(stop_runs(session, "dep-1"), script, session=session, clock=clock) == []


def test_a_lost_stop_answer_is_sent_again_as_stopping_twice_stops_once(session, clock, token):
    script = Script(
        [
            login(token),
            runs_page(token, ("e1", "RUNNING")),
            stop(token, ["e1"], lost("timeout")),
            stop(token, ["e1"], answer(200, {"manage_action_errors": []})),
        ]
    )
    assert run(stop_runs(session, "dep-1"), script, session=session, clock=clock) == ["e1"]


def test_refused_runs_are_named_with_the_control_rooms_reason(session, clock, token):
    refusal = {"execution_id": "e2", "error_response": {"code": "ALREADY_FINISHED", "message": "Run has ended"}}
    script = Script(
        [
            login(token),
            runs_page(token, ("e1", "RUNNING"), ("e2", "RUNNING")),
            stop(token, ["e1", "e2"], answer(200, {"manage_action_errors": [refusal]})),
        ]
    )
    with pytest.raises(StopRefusedError) as refused:
        run(stop_runs(session, "dep-1"), script, session=session, clock=clock)
    text = str(refused.value)
    assert "did not stop 1 of 2 run(s) of deployment dep-1" in text
    assert "run e2: code='ALREADY_FINISHED', message='Run has ended'" in text
    assert "Not stopped: e2 (execution_ids sent: the runs' activity record ids, not the deployment id" in text
    assert "Asked to stop: e1." in text and refused.value.not_stopped == ["e2"]
    assert "POST /v3/activity/manage -> HTTP 200" in text


def test_a_stop_request_refused_with_400_is_not_stopped_and_names_the_ids_sent(session, clock, token):
    # A Control Room that wants the deployment id (as leoporfi/sam sends) may refuse activity ids.
    refusal = {"code": "BAD_REQUEST", "message": "Invalid execution id"}
    script = Script(
        [
            login(token),
            runs_page(token, ("e1", "RUNNING"), ("e2", "DEPLOYED")),
            stop(token, ["e1", "e2"], answer(400, refusal)),
        ]
    )
    with pytest.raises(StopRefusedError) as refused:
        run(stop_runs(session, "dep-1"), script, session=session, clock=clock)
    text = str(refused.value)
    assert "did not stop 2 of 2 run(s) of deployment dep-1" in text and "Not stopped: e1, e2" in text
    assert "the runs' activity record ids, not the deployment id" in text
    assert (refused.value.status, refused.value.code, refused.value.not_stopped) == (400, "BAD_REQUEST", ["e1", "e2"])


def test_a_refused_stop_request_surfaces_the_control_rooms_error(session, clock, token):
    script = Script(
        [
            login(token),
            runs_page(token, ("e1", "RUNNING")),
            stop(token, ["e1"], answer(403, {"code": "FORBIDDEN", "message": "No permission to manage activity"})),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as refused:
        run(stop_runs(session, "dep-1"), script, session=session, clock=clock)
    assert refused.value.status == 403
    assert refused.value.code == "FORBIDDEN"
    assert refused.value.message == "No permission to manage activity"


def test_unfinished_runs_whose_records_show_no_deployment_id_are_not_stopped_but_named(session, clock, token):
    listed = [
        {"id": "e1", "deploymentId": "dep-1", "status": "RUNNING"},
        {"id": "x1", "status": "RUNNING"},
        {"id": "x2", "deploymentId": "", "status": "DEPLOYED"},
        {"id": "x3", "status": "COMPLETED"},  # finished: nothing to stop either way
    ]
    script = Script(
        [
            login(token),
            (expect("POST", "/v3/activity/list", json=ACTIVITY_BODY, token=token), answer(200, {"list": listed})),
            stop(token, ["e1"], answer(200, {})),
        ]
    )
    with pytest.raises(StopRefusedError) as unshown:
        run(stop_runs(session, "dep-1"), script, session=session, clock=clock)
    text = str(unshown.value)
    assert "2 unfinished run(s) listed for deployment dep-1 were not asked to stop" in text
    assert "show no deploymentId (they may be other deployments' runs): x1, x2" in text
    assert "Asked to stop: e1." in text and unshown.value.not_stopped == ["x1", "x2"]


def test_only_records_without_a_deployment_id_send_no_stop_request(session, clock, token):
    listed = [{"id": "x1", "status": "RUNNING"}]
    script = Script(
        [
            login(token),
            (expect("POST", "/v3/activity/list", json=ACTIVITY_BODY, token=token), answer(200, {"list": listed})),
        ]
    )
    with pytest.raises(StopRefusedError, match=r"were not asked to stop.*: x1; check them") as unshown:
        run(stop_runs(session, "dep-1"), script, session=session, clock=clock)
    assert unshown.value.path == "/v3/activity/list"
