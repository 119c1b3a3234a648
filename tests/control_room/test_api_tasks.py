"""
API tasks (headless bots) in the protocol: the v4 headless deploy body, its validation, no v3
fallback, the lost answer found by name among runs without run-as users, and a wait that
counts executions.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.bots import (
    ApiTasksUnavailableError,
    BotDeployment,
    BotRun,
    BotRunCheck,
    DeployApi,
    DeploymentUnknownError,
    DeployRefusedError,
    HeadlessRequest,
    deploy,
    find_deployment,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.session import AmbiguousOutcomeError
from tests.control_room.scripted import START, Script, answer, expect, login, lost, run
from tests.control_room.test_bots_operations import AHEAD, activity_page, record

NAME = "Airflow api_task 9c1d"
API_TASK = BotDeployment.api_task("701", HeadlessRequest.validate(3, True, "29"), {"sCity": "Berlin"})
HEADLESS_BODY = {
    "botId": 701,
    "automationName": NAME,
    "executionType": "RUN_NOW",
    "headlessRequest": {"numberOfExecutions": 3, "queueOnSlotsExhaustion": True, "sharedRunAsUserId": 29},
    "botInput": {"sCity": {"type": "STRING", "string": "Berlin"}},
}


def headless(token, outcome, body=HEADLESS_BODY):
    return (expect("POST", "/v4/automations/deploy", json=body, token=token, replay_safe=False), outcome)


def test_an_api_task_is_deployed_with_the_headless_body_on_v4(session, clock, token):
    script = Script([login(token), headless(token, answer(200, {"deploymentId": "d-h", "automationName": NAME}))])
    assert run(deploy(session, API_TASK, NAME), script, session=session, clock=clock) == "d-h"


def test_the_defaults_send_one_execution_not_queued_and_no_shared_user(session, clock, token):
    deployment = BotDeployment.api_task(701, HeadlessRequest.validate())
    body = {
        "botId": 701,
        "executionType": "RUN_NOW",
        "headlessRequest": {"numberOfExecutions": 1, "queueOnSlotsExhaustion": False},
    }
    script = Script([login(token), headless(token, answer(200, {"deploymentId": "d1"}), body)])
    assert run(deploy(session, deployment), script, session=session, clock=clock) == "d1"
    assert deployment.runs_expected == 1 and API_TASK.runs_expected == 3


def test_a_control_room_without_v4_gets_the_requirement_and_no_v3_deploy(session, clock, token):
    script = Script([login(token), headless(token, answer(404, {"code": "NOT_FOUND", "message": "No API"}))])
    with pytest.raises(ApiTasksUnavailableError) as failed:
        run(deploy(session, API_TASK, NAME), script, session=session, clock=clock)
    error = failed.value
    assert (error.status, error.path, error.code) == (404, "/v4/automations/deploy", "NOT_FOUND")
    assert "API tasks need an Automation 360 Cloud Control Room with POST /v4/automations/deploy" in str(error)
    assert "API task 701 (3 execution(s))" in str(error)


def test_a_control_room_known_to_deploy_on_v3_only_is_not_asked(session, clock, token):
    with pytest.raises(ApiTasksUnavailableError, match=r"deploys on /v3 only.*API tasks need"):
        run(deploy(session, API_TASK, NAME, api=DeployApi("v3")), Script([]), session=session, clock=clock)


def test_a_refused_api_task_keeps_the_control_rooms_answer(session, clock, token):
    refusal = {"code": "API_TASK_SLOTS_EXHAUSTED", "message": "All API task slots are in use"}
    script = Script([login(token), headless(token, answer(409, refusal))])
    with pytest.raises(AutomationAnywhereError) as failed:
        run(deploy(session, API_TASK, NAME), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code) == (409, "API_TASK_SLOTS_EXHAUSTED")
    assert not isinstance(failed.value, ApiTasksUnavailableError)


def test_a_412_names_the_api_task_not_run_as_users(session, clock, token):
    script = Script([login(token), headless(token, answer(412, {"code": "X", "message": "No license"}))])
    with pytest.raises(DeployRefusedError, match="refused to run API task 701") as failed:
        run(deploy(session, API_TASK, NAME), script, session=session, clock=clock)
    assert "run-as user(s)" not in str(failed.value)


def test_a_lost_headless_deploy_is_never_sent_again(session, clock, token):
    script = Script([login(token), headless(token, lost("timeout"))])
    with pytest.raises(AmbiguousOutcomeError):
        run(deploy(session, API_TASK, NAME), script, session=session, clock=clock)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0,), "number_of_executions must be a whole number from 1 to 100, got 0"),
        ((101,), "number_of_executions must be a whole number from 1 to 100, got 101"),
        ((True,), "number_of_executions must be a whole number"),
        (("2",), "number_of_executions must be a whole number"),
        ((1, "yes"), "queue_on_slots_exhaustion must be True or False, got 'yes'"),
        ((1, False, "runner"), "shared_run_as_user_id"),
    ],
)
def test_bad_headless_input_fails_naming_the_field(args, message):
    with pytest.raises(InvalidInputError, match=message):
        HeadlessRequest.validate(*args)


def test_an_api_task_has_no_v3_body():
    with pytest.raises(ValueError, match="only through /v4"):
        API_TASK.request("v3")


def test_the_fingerprint_tells_api_task_input_apart():
    other = BotDeployment.api_task("701", HeadlessRequest.validate(2, True, "29"), {"sCity": "Berlin"})
    assert API_TASK.fingerprint() != other.fingerprint()
    assert API_TASK.fingerprint() != BotDeployment.validate("701", [29], None, {"sCity": "Berlin"}).fingerprint()


# -- a lost answer ------------------------------------------------------------------------------


def lost_api_task(session, clock, token):
    script = Script([login(token, date=START + AHEAD), headless(token, lost("timeout"))])
    with pytest.raises(AmbiguousOutcomeError):
        run(deploy(session, API_TASK, NAME), script, session=session, clock=clock)


def activity(token, records):
    page = activity_page(token, records)
    page[0].json["filter"]["value"] = "701"
    return page


def test_a_lost_api_task_deploy_is_found_by_its_name(session, clock, token):
    lost_api_task(session, clock, token)
    sent = START + AHEAD
    records = [record("dep-ours", "29", sent + 1, name=NAME), record("dep-ours", "29", sent + 1, name=NAME)]
    script = Script([activity(token, records)])
    assert run(find_deployment(session, API_TASK, START, NAME), script, session=session, clock=clock) == "dep-ours"


def test_another_run_of_the_api_task_without_our_name_is_not_taken_whatever_its_user(session, clock, token):
    lost_api_task(session, clock, token)
    sent = START + AHEAD
    script = Script([activity(token, [record("dep-theirs", "77", sent + 1)])])
    with pytest.raises(DeploymentUnknownError, match=r"Runs of API task 701 \(3 execution\(s\)\) appeared as"):
        run(find_deployment(session, API_TASK, START, NAME), script, session=session, clock=clock)


# -- waiting for every execution ----------------------------------------------------------------


def test_the_wait_for_several_executions_goes_on_until_each_is_listed_and_done():
    wait = BotRunCheck("d-h", expected_runs=3)
    done = [BotRun(f"e{index}", "COMPLETED") for index in range(3)]
    verdict = wait.judge(done[:2], 0.0)
    assert (verdict.outcome, verdict.message) == ("waiting", "Bot deployment d-h: 2 of 3 run(s) listed so far.")
    assert wait.judge(done, 1.0).outcome == "completed"
    assert BotRunCheck.from_json(wait.to_json()) == wait


def test_a_failed_execution_fails_the_wait_before_the_others_are_listed():
    wait = BotRunCheck("d-h", expected_runs=3)
    assert wait.judge([BotRun("e0", "RUN_FAILED", "boom")], 0.0).outcome == "failed"
