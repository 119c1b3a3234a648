"""The compatibility check's probes against a scripted Control Room: what each answer is read as."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.auth import AuthApi
from airflow_provider_aa.control_room.capabilities import Capabilities, check
from airflow_provider_aa.control_room.roles import ROLE_API_VERSIONS
from airflow_provider_aa.control_room.session import ControlRoomSession
from tests.control_room.scripted import (
    Script,
    answer,
    api_key_settings,
    expect,
    jwt_token,
    login,
    new_session,
    password_settings,
    run,
)

QUEUES = answer(200, {"page": {"offset": 0, "total": 2, "totalFilter": 2}, "list": [{"id": "7", "name": "Invoices"}]})
LIST = {"page": {"offset": 0, "length": 1}}


def queue_list(token, outcome=QUEUES):
    return (expect("POST", "/v3/wlm/queues/list", json=LIST, token=token), outcome)


def deploy(version, token, outcome):
    return (expect("POST", f"/{version}/automations/deploy", json={}, token=token, replay_safe=False), outcome)


def get_queue(version, token, outcome):
    return (expect("GET", f"/{version}/wlm/queues/7", token=token), outcome)


def roles(version, token, outcome):
    return (expect("POST", f"/{version}/usermanagement/roles/list", json=LIST, token=token, replay_safe=True), outcome)


def listing(path, token, outcome):
    return (expect("POST", path, json=LIST, token=token), outcome)


def time_filter(token, outcome):
    return (expect("POST", "/v3/activity/list", body={"page": LIST["page"]}, token=token, replay_safe=True), outcome)


def records(total, *listed):
    return answer(200, {"page": {"offset": 0, "total": total}, "list": list(listed)})


def error(status, code="X"):
    return answer(status, {"code": code, "message": "refused", "details": ""})


def test_an_old_control_room_with_a_restricted_user(clock, token):
    """v3 deploy (403: may not deploy), v3 update, the second role API, no activity or audit rights."""
    session = new_session(api_key_settings(), clock=clock)
    first, second = ROLE_API_VERSIONS
    script = Script(
        [
            login(token),
            queue_list(token),
            deploy("v4", token, error(404)),
            deploy("v3", token, error(403)),
            get_queue("v4", token, error(404)),
            get_queue("v3", token, answer(200, {"id": "7"})),
            roles(first, token, error(404)),
            roles(second, token, records(1, {"id": "1", "name": "AAE_Admin"})),
            listing("/v3/activity/list", token, error(403)),
            listing("/v1/audit/messages/list", token, error(403)),
        ]
    )
    capabilities = Capabilities()
    report = run(check(session, capabilities, clock=clock), script, session=session, clock=clock)
    statuses = {key: finding.status for key, finding in report.findings.items()}
    assert statuses == {
        "login": "ok",
        "parallel_sessions": "unknown",
        "deploy_api": "v3",
        "api_tasks": "unavailable",
        "work_item_update_api": "v3",
        "user_management_api": second,
        "queue_access": "visible",
        "activity_access": "no permission",
        "audit_access": "no permission",
        "activity_time_filter": "unknown",
    }
    assert report.ok
    assert (capabilities.deploy.known, capabilities.update.known, capabilities.roles.version) == ("v3", "v3", second)
    advice = " ".join(report.advice)
    for expected in ("'Allow multiple sessions'", "may run bots", "deprecates", "in-progress activity", "audit log"):
        assert expected in advice
    assert report.findings["login"].facts == {
        "endpoint": "POST /v2/authentication",
        "mode": "api_key",
        "token_lifetime_seconds": 1200,
    }


def full_script(token, *, second_session, time_filter_outcome, then=None):
    """The probes of a password session with multiple_login; ``then``: its token after the second session's."""
    first, _ = ROLE_API_VERSIONS
    later = then or token
    return Script(
        [
            login(token, body={"multipleLogin": True}),
            queue_list(token),
            *second_session,
            deploy("v4", later, error(400)),
            get_queue("v4", later, answer(200, {"id": "7"})),
            roles(first, later, error(403)),
            listing("/v3/activity/list", later, records(3, {"id": "a"})),
            listing("/v1/audit/messages/list", later, records(0)),
            time_filter(later, time_filter_outcome),
        ]
    )


def logout(token):
    return (expect("POST", "/v1/authentication/logout", json={"token": token}), answer(204))


@pytest.mark.parametrize(
    ("outcome", "status", "remembered"),
    [
        (records(0), "accepted", set()),
        (records(3, {"id": "a"}), "ignored", set()),
        (error(400, "BAD_REQUEST"), "refused", {"bot_runs"}),
    ],
)
def test_a_multi_session_user_and_the_time_filter(clock, token, outcome, status, remembered):
    session = new_session(password_settings(multiple_login=True), clock=clock)
    other = jwt_token()
    second = [login(other, body={"multipleLogin": True}), queue_list(token), logout(other)]
    capabilities = Capabilities()
    report = run(
        check(session, capabilities, clock=clock),
        full_script(token, second_session=second, time_filter_outcome=outcome),
        session=session,
        clock=clock,
    )
    assert report.findings["parallel_sessions"].status == "yes"
    assert (report.findings["deploy_api"].status, report.findings["work_item_update_api"].status) == ("v4", "v4")
    assert report.findings["activity_time_filter"].status == status
    assert set(capabilities.time_filter_refused) == remembered


def test_a_second_session_that_ends_the_first_means_no_parallel_sessions(clock, token):
    session = new_session(password_settings(multiple_login=True), clock=clock)
    other, again = jwt_token(), jwt_token()
    second = [
        login(other, body={"multipleLogin": True}),
        queue_list(token, error(401, "UM1114")),
        login(again, body={"multipleLogin": True}),
        queue_list(again),
        logout(other),
    ]
    script = full_script(token, second_session=second, time_filter_outcome=records(0), then=again)
    report = run(check(session, Capabilities(), clock=clock), script, session=session, clock=clock)
    finding = report.findings["parallel_sessions"]
    assert finding.status == "no" and "ended the first session" in finding.detail and finding.advice


def test_a_deploy_probe_without_a_clear_answer_is_unknown(clock, token):
    session = new_session(api_key_settings(), clock=clock)
    first, _ = ROLE_API_VERSIONS
    script = Script(
        [
            login(token),
            queue_list(token, records(0)),
            deploy("v4", token, error(500)),
            roles(first, token, records(0)),
            listing("/v3/activity/list", token, records(0)),
            listing("/v1/audit/messages/list", token, error(404)),
            time_filter(token, records(0)),
        ]
    )
    capabilities = Capabilities()
    report = run(check(session, capabilities, clock=clock), script, session=session, clock=clock)
    assert report.findings["deploy_api"].status == "unknown" and capabilities.deploy.known is None
    # No queue to read: the update API is learned at the first update.
    assert report.findings["work_item_update_api"].status == "unknown" and capabilities.update.known is None
    assert report.findings["audit_access"].status == "not available"
    assert "no activity yet" in report.findings["activity_time_filter"].detail


def test_sessions_sharing_an_auth_api_learn_a_missing_v2_once(clock, token):
    shared = AuthApi()
    first, second = (ControlRoomSession(password_settings(), clock=clock, auth_api=shared) for _ in range(2))
    script = Script([(expect("POST", "/v2/authentication"), error(404)), login(token, version="v1")])
    run(first.authenticate(None), script, session=first, clock=clock)
    run(second.authenticate(None), Script([login(jwt_token(), version="v1")]), session=second, clock=clock)
    assert shared.version == second.auth_version == "v1"
