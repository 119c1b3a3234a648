"""
deploy, find_deployment and read_bot_runs driven through a real ControlRoomSession against a
scripted Control Room: versions, lost answers, the activity window on the Control Room's clock.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_aa.control_room.bots import (
    DEPLOY_LOOKBACK_UNKNOWN_CLOCK,
    BotDeployment,
    BotRun,
    deploy,
    find_deployment,
    read_bot_runs,
)
from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    DeploymentUnknownError,
)
from tests.control_room.scripted import (
    START,
    Script,
    answer,
    expect,
    jwt_token,
    login,
    lost,
    run,
)

DEPLOYMENT = BotDeployment.validate(
    "501", [29, "30"], pool_ids=7, bot_input={"sCity": "Berlin", "nCount": 3, "bUrgent": True, "lTags": ["a"]}
)
TYPED_INPUT = {
    "sCity": {"type": "STRING", "string": "Berlin"},
    "nCount": {"type": "NUMBER", "number": "3"},
    "bUrgent": {"type": "BOOLEAN", "boolean": "true"},
    "lTags": {"type": "LIST", "list": [{"type": "STRING", "string": "a"}]},
}
POOLS = {"poolIds": [7], "numOfRunAsUsersToUse": 2}
V4_UNATTENDED = {"runAsUserIds": [29, 30], **POOLS, "deviceUsageType": "RUN_ON_POOL_DEVICES"}
V4_BODY = {"botId": 501, "unattendedRequest": V4_UNATTENDED, "botInput": TYPED_INPUT}
V3_BODY = {"fileId": 501, "runAsUserIds": [29, 30], **POOLS, "overrideDefaultDevice": True, "botInput": TYPED_INPUT}
ACTIVITY = "/v3/activity/list"
#: The Control Room's clock runs an hour ahead of ours in the activity tests.
AHEAD = 3600.0


def v4(token, outcome):
    return (expect("POST", "/v4/automations/deploy", json=V4_BODY, token=token, replay_safe=False), outcome)


def v3(token, outcome):
    return (expect("POST", "/v3/automations/deploy", json=V3_BODY, token=token, replay_safe=False), outcome)


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


# -- deploy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [(" 1f0c6b1e-8d2a ", "1f0c6b1e-8d2a"), (42, "42")])
def test_deploy_sends_the_v4_body_with_typed_input_once_and_returns_the_id(session, clock, token, given, expected):
    script = Script([login(token), v4(token, answer(200, {"deploymentId": given, "automationName": "Invoices"}))])
    assert run(deploy(session, DEPLOYMENT), script, session=session, clock=clock) == expected


def test_a_control_room_without_v4_is_deployed_to_through_v3(session, clock, token):
    script = Script(
        [login(token), v4(token, answer(404, {"message": "Not Found"})), v3(token, answer(200, {"deploymentId": "d3"}))]
    )
    assert run(deploy(session, DEPLOYMENT), script, session=session, clock=clock) == "d3"


def test_a_404_from_v3_too_is_the_error(session, clock, token):
    script = Script(
        [login(token), v4(token, answer(404, {})), v3(token, answer(404, {"code": "BOT_NOT_FOUND", "message": "no"}))]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(deploy(session, DEPLOYMENT), script, session=session, clock=clock)
    error = failed.value
    assert (error.status, error.path, error.code) == (404, "/v3/automations/deploy", "BOT_NOT_FOUND")


def test_another_refusal_from_v4_is_not_tried_on_v3(session, clock, token):
    script = Script([login(token), v4(token, answer(400, {"code": "BAD_INPUT", "message": "unknown variable"}))])
    with pytest.raises(AutomationAnywhereError) as failed:
        run(deploy(session, DEPLOYMENT), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code) == (400, "BAD_INPUT")


@pytest.mark.parametrize(
    "outcome",
    [lost("timeout"), lost("dropped"), answer(500, {}), answer(502, {}), answer(503, {}), answer(504, {})],
    ids=["timeout", "dropped", "500", "502", "503", "504"],
)
def test_a_deploy_without_a_clear_answer_is_ambiguous_and_never_sent_again(session, clock, token, outcome):
    script = Script([login(token), v4(token, outcome)])
    with pytest.raises(AmbiguousOutcomeError) as ambiguous:
        run(deploy(session, DEPLOYMENT), script, session=session, clock=clock)
    assert ambiguous.value.path == "/v4/automations/deploy" and script.sleeps == []


@pytest.mark.parametrize(
    ("outcome", "sleep"),
    [(lost("connect"), 1.0), (answer(429, {}, headers={"Retry-After": "3"}), 3.0)],
    ids=["not-connected", "429"],
)
def test_a_deploy_that_provably_was_not_processed_is_sent_again(session, clock, token, outcome, sleep):
    script = Script([login(token), v4(token, outcome), v4(token, answer(200, {"deploymentId": "d4"}))])
    assert run(deploy(session, DEPLOYMENT), script, session=session, clock=clock) == "d4"
    assert script.sleeps == [sleep]


def test_a_deploy_refused_with_401_is_sent_again_after_a_new_login(session, clock, token):
    fresh = jwt_token()
    script = Script(
        [
            login(token),
            v4(token, answer(401, {"code": "UM1110"})),
            login(fresh),
            v4(fresh, answer(200, {"deploymentId": "d4"})),
        ]
    )
    assert run(deploy(session, DEPLOYMENT), script, session=session, clock=clock) == "d4"


@pytest.mark.parametrize("body", [{}, {"deploymentId": ""}, {"deploymentId": True}, {"deploymentId": None}, []])
def test_a_deploy_answer_without_a_deployment_id_is_an_error(session, clock, token, body):
    script = Script([login(token), v4(token, answer(200, body))])
    with pytest.raises(AutomationAnywhereError, match="carries no deploymentId"):
        run(deploy(session, DEPLOYMENT), script, session=session, clock=clock)


# -- find_deployment ----------------------------------------------------------------------------

#: The unique automation name this task's lost deploy carried.
NAME = "Airflow deploy 3f2a"


def record(deployment_id, user_id, created_on, record_id=None, name=None):
    return {
        "id": record_id or f"e-{deployment_id}-{user_id}",
        "deploymentId": deployment_id,
        "automationName": name or "Invoice Processor",
        "fileId": 501,
        "userId": user_id,
        "createdOn": iso(created_on),
    }


def activity_page(token, records, *, offset=0, total=None):
    body = {
        "filter": {"operator": "eq", "field": "fileId", "value": "501"},
        "sort": [{"field": "createdOn", "direction": "desc"}],
        "page": {"offset": offset, "length": 100},
    }
    page = {"offset": offset, "totalFilter": total if total is not None else len(records)}
    return (expect("POST", ACTIVITY, json=body, token=token), answer(200, {"list": records, "page": page}))


def lost_deploy(session, clock, token):
    """The deploy whose answer was lost, sent at START; the login told the Control Room's clock."""
    script = Script([login(token, date=START + AHEAD), v4(token, lost("timeout"))])
    with pytest.raises(AmbiguousOutcomeError):
        run(deploy(session, DEPLOYMENT), script, session=session, clock=clock)


def find(session, clock, script, name=NAME):
    return run(find_deployment(session, DEPLOYMENT, START, name), script, session=session, clock=clock)


def test_the_deploy_sends_the_automation_name_on_v4_only(session, clock, token):
    named = {**V4_BODY, "automationName": NAME}
    script = Script(
        [
            login(token),
            (expect("POST", "/v4/automations/deploy", json=named, token=token, replay_safe=False), answer(404, {})),
            v3(token, answer(200, {"deploymentId": "d3"})),
        ]
    )
    assert run(deploy(session, DEPLOYMENT, NAME), script, session=session, clock=clock) == "d3"


def test_the_activity_is_read_newest_first_back_to_a_minute_before_the_send_on_the_control_rooms_clock(
    session, clock, token
):
    lost_deploy(session, clock, token)
    sent = START + AHEAD  # the send on the Control Room's clock
    records = [
        record("dep-ours", "29", sent + 5, name=NAME),
        record("dep-someone-elses", "77", sent + 3),  # another run-as user
        record("dep-ours", "30", sent - 59, name=NAME),  # the deployment's second run
        # 30 s after the send on OUR clock, but an hour before it on the Control Room's: the end.
        record("dep-earlier", "29", START + 30),
        record("dep-much-earlier", "29", START - 600),
    ]
    script = Script([activity_page(token, records, total=250)])  # more pages exist: not read

    assert find(session, clock, script) == "dep-ours"


def test_another_tasks_deployment_of_the_same_bot_and_users_a_second_earlier_is_not_taken(session, clock, token):
    lost_deploy(session, clock, token)
    sent = START + AHEAD
    theirs = [record("dep-theirs", "29", sent - 1), record("dep-theirs", "30", sent - 1)]

    ours_too = [record("dep-ours", "29", sent, name=NAME), *theirs]
    assert find(session, clock, Script([activity_page(token, ours_too)])) == "dep-ours"
    with pytest.raises(DeploymentUnknownError, match=r"as deployment\(s\) dep-theirs since") as unknown:
        find(session, clock, Script([activity_page(token, theirs)]))  # ours is not listed yet
    assert f"its deploy was named {NAME!r}" in str(unknown.value)


def test_without_a_name_no_deployment_can_be_told_to_be_ours(session, clock, token):
    """A marker saved before names were sent (or a v3 deploy): a look-alike run is never taken."""
    lost_deploy(session, clock, token)
    script = Script([activity_page(token, [record("dep-a", "29", START + AHEAD + 1)])])
    with pytest.raises(DeploymentUnknownError, match=r"dep-a since .*\(its deploy carried no name\)"):
        find(session, clock, script, name=None)


def test_the_activity_is_paged_until_the_window_is_passed(session, clock, token):
    lost_deploy(session, clock, token)
    sent = START + AHEAD
    busy = [record(f"dep-other-{n}", "77", sent + 50 - n * 0.1) for n in range(100)]
    script = Script(
        [
            activity_page(token, busy, total=300),
            activity_page(
                token,
                [record("dep-ours", "29", sent + 1, name=NAME), record("dep-old", "29", sent - 61)],
                offset=100,
                total=300,
            ),
        ]
    )
    assert find(session, clock, script) == "dep-ours"


def test_no_run_since_the_send_is_none(session, clock, token):
    lost_deploy(session, clock, token)
    script = Script([activity_page(token, [record("dep-old", "29", START + AHEAD - 61)])])
    assert find(session, clock, script) is None


def test_without_the_control_rooms_clock_a_whole_day_is_searched(session, clock, token):
    """No Date header ever: the Control Room's clock may be far off ours, so the window is wide."""
    records = [
        record("dep-yesterday", "29", START - DEPLOY_LOOKBACK_UNKNOWN_CLOCK + 60, name=NAME),
        record("dep-older", "29", START - DEPLOY_LOOKBACK_UNKNOWN_CLOCK - 60),
    ]
    script = Script([login(token), activity_page(token, records)])
    assert find(session, clock, script) == "dep-yesterday"


def test_a_fresh_session_learns_the_control_rooms_clock_before_choosing_the_window(session, clock, token):
    script = Script(
        [
            login(token, date=START),  # the Control Room tells its clock (the same as ours) at once
            activity_page(token, [record("dep-two-hours-ago", "29", START - 7200)]),
        ]
    )
    assert find(session, clock, script) is None


# -- read_bot_runs ------------------------------------------------------------------------------


def runs_page(token, records):
    body = {
        "filter": {"operator": "eq", "field": "deploymentId", "value": "dep-1"},
        "page": {"offset": 0, "length": 100},
    }
    return (expect("POST", ACTIVITY, json=body, token=token), answer(200, {"list": records}))


def test_runs_still_going_are_read_without_their_outputs(session, clock, token):
    records = [
        {"id": "e1", "deploymentId": "dep-1", "status": "COMPLETED"},
        {"id": "e2", "deploymentId": "dep-1", "status": "RUNNING"},
    ]
    script = Script([login(token), runs_page(token, records)])
    assert run(read_bot_runs(session, "dep-1"), script, session=session, clock=clock) == [
        BotRun("e1", "COMPLETED"),
        BotRun("e2", "RUNNING"),
    ]


def test_outputs_are_read_once_every_run_completed_and_only_where_missing(session, clock, token):
    carried = {"values": {"nTotal": {"type": "NUMBER", "number": "2"}}}
    records = [
        {"id": "e1", "deploymentId": "dep-1", "status": "COMPLETED"},
        {"id": "e2", "deploymentId": "dep-1", "status": "completed", "botOutVariables": carried},
    ]
    outputs = {"sResult": {"type": "STRING", "string": "ok"}}
    script = Script(
        [
            login(token),
            runs_page(token, records),
            (
                expect("GET", "/v3/activity/execution/e1", token=token),
                answer(200, {"id": "e1", "botOutVariables": {"values": outputs}}),
            ),
        ]
    )
    assert run(read_bot_runs(session, "dep-1"), script, session=session, clock=clock) == [
        BotRun("e1", "COMPLETED", "", outputs),
        BotRun("e2", "COMPLETED", "", carried["values"]),
    ]


def test_no_runs_yet_is_an_empty_list(session, clock, token):
    script = Script([login(token), runs_page(token, [])])
    assert run(read_bot_runs(session, "dep-1"), script, session=session, clock=clock) == []
