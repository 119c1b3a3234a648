"""
Where public clients show the Control Room differing from its docs: pools need a
device usage type, DATETIME bot input carries the zone id, add answers come in three shapes,
runs stuck in PENDING_EXECUTION, 412 on deploy, and a connection test for bot deployers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from airflow_provider_aa.control_room.adding import add_batch
from airflow_provider_aa.control_room.bots import (
    BotDeployment,
    BotRun,
    BotRunCheck,
    BotRunPolicy,
    bot_datetime,
    deploy,
    from_bot_values,
    to_bot_input,
)
from airflow_provider_aa.control_room.errors import (
    AutomationAnywhereError,
    DeployRefusedError,
    FatalError,
    InvalidInputError,
)
from airflow_provider_aa.control_room.queues import connection_check
from tests.control_room.scripted import BASE_URL, Script, answer, expect, login, run

DENVER = ZoneInfo("America/Denver")

# -- DATETIME bot input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (datetime(2022, 4, 7, 0, 15, tzinfo=DENVER), "2022-04-07T00:15:00-06:00[America/Denver]"),
        (pendulum.datetime(2026, 1, 31, 18, tz="Europe/Berlin"), "2026-01-31T18:00:00+01:00[Europe/Berlin]"),
        (pendulum.datetime(2026, 1, 31, 17), "2026-01-31T17:00:00+00:00[UTC]"),  # Airflow's dates
        # Fixed offsets have no zone id: plain ISO 8601, which the bracketed format reads too.
        (datetime(2026, 1, 31, 17, tzinfo=timezone.utc), "2026-01-31T17:00:00+00:00"),
        (datetime(2026, 1, 31, 18, tzinfo=timezone(timedelta(hours=1))), "2026-01-31T18:00:00+01:00"),
    ],
    ids=["zoneinfo", "pendulum-zone", "pendulum-utc", "utc", "fixed-offset"],
)
def test_a_datetime_is_sent_in_the_form_aa_documents(value, sent):
    assert bot_datetime(value) == sent
    assert to_bot_input({"dtDue": value}) == {"dtDue": {"type": "DATETIME", "string": sent}}


def test_a_datetime_without_a_zone_fails_naming_the_variable():
    with pytest.raises(InvalidInputError, match=r"bot_input\['lDates'\]\[1\] is a datetime without a time zone"):
        to_bot_input({"lDates": [datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 2)]})


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("2022-04-07T00:15:00-06:00[America/Denver]", "America/Denver"),
        ("2022-04-07T06:15:00Z[UTC]", "UTC"),
        ("2022-04-07T00:15:00-06:00[USA/New York]", None),  # AA's own example: no IANA id
        ("2022-04-07T00:15:00-06:00[America]", None),  # a folder of zones, not a zone
        ("2022-04-07T00:15:00-06:00", None),
        ("2022-04-07T06:15:00Z", None),
    ],
)
def test_both_forms_are_read_back_as_the_same_instant(text, zone):
    value = from_bot_values({"dt": {"type": "DATETIME", "string": text}})["dt"]
    assert value == datetime(2022, 4, 7, 6, 15, tzinfo=timezone.utc)
    assert getattr(value.tzinfo, "key", None) == zone


def test_a_zoned_datetime_round_trips_with_its_zone():
    sent = datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    back = from_bot_values(to_bot_input({"dt": sent}))["dt"]
    assert back == sent and back.tzinfo == ZoneInfo("Europe/Berlin") and back.utcoffset() == timedelta(hours=2)


# -- pools --------------------------------------------------------------------------------------


def test_a_deploy_with_pools_says_to_use_them_and_one_without_sends_no_device_fields():
    pooled = BotDeployment.validate(501, [29, 30, 31], pool_ids=[61, 62])
    unattended = pooled.request("v4").json["unattendedRequest"]
    assert unattended["deviceUsageType"] == "RUN_ON_POOL_DEVICES"
    assert unattended["numOfRunAsUsersToUse"] == 3
    v3 = pooled.request("v3").json
    assert v3["overrideDefaultDevice"] is True and v3["numOfRunAsUsersToUse"] == 3

    plain = BotDeployment.validate(501, [29])
    assert plain.request("v4").json == {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    assert plain.request("v3").json == {"fileId": 501, "runAsUserIds": [29]}


# -- 412 on deploy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pools", "where"),
    [([62], "and pool(s) 62"), (None, "on their default devices")],
)
def test_a_deploy_refused_with_412_fails_for_good_naming_bot_users_and_pools(session, clock, token, pools, where):
    deployment = BotDeployment.validate(501, [29, 30], pool_ids=pools)
    refusal = {"code": "NO_COMPATIBLE_TARGETS", "message": "No compatible targets found", "details": "device offline"}
    script = Script(
        [
            login(token),
            (
                expect("POST", "/v4/automations/deploy", json=deployment.request("v4").json, replay_safe=False),
                answer(412, refusal),
            ),
        ]
    )  # one deploy only: not retried, not tried on v3

    with pytest.raises(DeployRefusedError) as refused:
        run(deploy(session, deployment), script, session=session, clock=clock)

    error = refused.value
    assert isinstance(error, FatalError)
    assert f"no device to run bot 501 as run-as user(s) 29, 30 {where}" in str(error)
    assert (error.status, error.code, error.message, error.details) == (412, *refusal.values())
    assert "HTTP 412" in str(error) and "No compatible targets found" in str(error)


# -- the add answer's shapes --------------------------------------------------------------------

QUEUE = "7"
ADD_PATH = f"/v3/wlm/queues/{QUEUE}/workitems"


def _created(first_id, batch):
    return [{"id": first_id + n, "status": "NEW", "json": data} for n, data in enumerate(batch)]


@pytest.mark.parametrize(
    ("shape", "batch"),
    [
        (lambda items: {"list": items}, [{"invoice": "A"}, {"invoice": "B"}]),
        (lambda items: {"workItems": items}, [{"invoice": "A"}, {"invoice": "B"}]),
        (lambda items: items[0], [{"invoice": "A"}]),
    ],
    ids=["list", "workItems", "single-item"],
)
def test_every_shape_of_add_answer_gives_the_items_in_request_order(session, clock, token, shape, batch):
    body = {"workItems": [{"json": data} for data in batch]}
    script = Script(
        [
            login(token),
            (expect("POST", ADD_PATH, json=body, replay_safe=False), answer(200, shape(_created(301, batch)))),
        ]
    )
    outcome = run(
        add_batch(session, QUEUE, batch, mark_id=300, clock=clock, lost_answer_delay=30.0),
        script,
        session=session,
        clock=clock,
    )
    assert [item["id"] for item in outcome.created] == [str(301 + n) for n in range(len(batch))]
    assert [item["json"] for item in outcome.created] == batch and outcome.reconciled == 0


@pytest.mark.parametrize("body", [{"workItems": "x"}, {"status": "NEW"}, {"list": [{"status": "NEW"}]}, []])
def test_an_add_answer_of_no_known_shape_is_an_error(session, clock, token, body):
    script = Script([login(token), (expect("POST", ADD_PATH, replay_safe=False), answer(200, body))])
    with pytest.raises(AutomationAnywhereError, match="no 'list' of work items with ids"):
        run(
            add_batch(session, QUEUE, [{"a": 1}], mark_id=300, clock=clock, lost_answer_delay=30.0),
            script,
            session=session,
            clock=clock,
        )


# -- runs stuck in PENDING_EXECUTION ------------------------------------------------------------


def test_pending_execution_has_its_own_deadline_whose_clock_survives_serialisation():
    wait = BotRunCheck("dep-1", BotRunPolicy(pending_timeout=600))
    pending = [BotRun("e1", "PENDING_EXECUTION")]
    assert wait.judge(pending, 1000.0).outcome == "waiting"
    wait = BotRunCheck.from_json(wait.to_json())  # a rescheduled poke, a retry, a deferral
    assert wait.judge(pending, 1599.0).outcome == "waiting"
    verdict = wait.judge(pending, 1600.0)
    assert verdict.outcome == "failed"
    assert "run e1 has been PENDING_EXECUTION for 600 s (pending_timeout=600 s)" in verdict.message


def test_the_default_pending_timeout_is_an_hour_also_for_a_wait_serialised_before_it_existed():
    assert BotRunPolicy().pending_timeout == 3600.0
    old = BotRunCheck("dep-1", started_at=5.0).to_json()
    del old["pending_timeout"]
    assert BotRunCheck.from_json(old).policy.pending_timeout == 3600.0


# -- the connection test for a user without queue rights ---------------------------------------

QUEUES = expect("POST", "/v3/wlm/queues/list", json={"page": {"offset": 0, "length": 1}})
ACTIVITY = expect("POST", "/v3/activity/list", json={"page": {"offset": 0, "length": 1}})
FORBIDDEN = {"code": "WLM_ACCESS_DENIED", "message": "no permission for work queues"}


def test_a_user_without_queue_rights_is_checked_on_the_activity_instead(session, clock, token):
    script = Script(
        [
            login(token),
            (QUEUES, answer(403, FORBIDDEN)),
            (ACTIVITY, answer(200, {"list": [{"id": "e1"}], "page": {"offset": 0, "total": 12}})),
        ]
    )
    message = run(connection_check(session), script, session=session, clock=clock)
    assert message == (
        f"Connected to {BASE_URL} as 'jdoe' (auth_type='password'); work queues: no permission (HTTP 403); "
        f"activity: visible (12 record(s)). Warning: {session.settings.single_session_warning}"
    )


def test_a_user_that_may_see_neither_gets_an_error_naming_both(session, clock, token):
    script = Script([login(token), (QUEUES, answer(403, FORBIDDEN)), (ACTIVITY, answer(403, {"code": "AC403"}))])
    with pytest.raises(AutomationAnywhereError, match="may see neither work queues nor bot activity") as failed:
        run(connection_check(session), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code) == (403, "AC403")


def test_other_refusals_of_the_queue_list_are_not_covered_up(session, clock, token):
    script = Script([login(token), (QUEUES, answer(400, {"code": "BAD"}))])
    with pytest.raises(AutomationAnywhereError) as failed:
        run(connection_check(session), script, session=session, clock=clock)
    assert failed.value.status == 400 and failed.value.path == "/v3/wlm/queues/list"
