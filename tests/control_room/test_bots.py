"""Bots without I/O: typed variables both ways, deploy bodies, activity answers, the wait policy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_aa.control_room.bots import (
    BotDeployment,
    BotRun,
    BotRunCheck,
    BotRunPolicy,
    activity_request,
    bot_run_result,
    execution_request,
    from_bot_values,
    read_runs,
    to_bot_input,
    validate_deployment_id,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError

DUE = datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc)


# -- typed variables --------------------------------------------------------------------------


def test_plain_values_become_typed_variables():
    assert to_bot_input(
        {
            "s": "text",
            "i": 12,
            "f": 12.5,
            "yes": True,
            "no": False,
            "dt": DUE,
            "l": ["a", 1],
            "t": ("x",),
            "d": {"k": {"inner": [False]}},
        }
    ) == {
        "s": {"type": "STRING", "string": "text"},
        "i": {"type": "NUMBER", "number": "12"},
        "f": {"type": "NUMBER", "number": "12.5"},
        "yes": {"type": "BOOLEAN", "boolean": "true"},
        "no": {"type": "BOOLEAN", "boolean": "false"},
        "dt": {"type": "DATETIME", "string": "2026-01-31T17:00:00+00:00"},
        "l": {"type": "LIST", "list": [{"type": "STRING", "string": "a"}, {"type": "NUMBER", "number": "1"}]},
        "t": {"type": "LIST", "list": [{"type": "STRING", "string": "x"}]},
        "d": {
            "type": "DICTIONARY",
            "dictionary": [
                {
                    "key": "k",
                    "value": {
                        "type": "DICTIONARY",
                        "dictionary": [
                            {
                                "key": "inner",
                                "value": {"type": "LIST", "list": [{"type": "BOOLEAN", "boolean": "false"}]},
                            }
                        ],
                    },
                }
            ],
        },
    }


def test_no_input_is_an_empty_input():
    assert to_bot_input(None) == {} and to_bot_input({}) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"x": None}, r"bot_input\['x'\] is a NoneType: bot input values must be str, int"),
        ({"x": [1, {"y": object()}]}, r"bot_input\['x'\]\[1\]\['y'\] is a object"),
        ({"x": float("nan")}, r"bot_input\['x'\] is nan: a bot NUMBER must be finite"),
        ({"x": {1: "a"}}, r"bot_input\['x'\] has a key that is not a string: 1"),
        ({"": "a"}, "bot_input has a variable name that is not a non-empty string"),
        (["a"], "bot_input must be a dict of bot variable names to values, got list"),
        ("a=1", "bot_input must be a dict"),
    ],
)
def test_values_that_cannot_be_sent_are_refused_naming_the_variable(values, message):
    with pytest.raises(InvalidInputError, match=message):
        to_bot_input(values)


def test_typed_values_become_plain_values_in_every_shape_seen():
    assert from_bot_values(
        {
            "s": {"type": "STRING", "string": "x", "number": "", "boolean": ""},
            "n_text": {"type": "NUMBER", "number": "42"},
            "n_float": {"type": "NUMBER", "number": "12.50"},
            "n_json": {"type": "NUMBER", "number": 7.5},
            "n_empty": {"type": "NUMBER", "number": ""},
            "n_odd": {"type": "NUMBER", "number": "n/a"},
            "b_text": {"type": "BOOLEAN", "boolean": "True"},
            "b_json": {"type": "BOOLEAN", "boolean": False},
            "l": {"type": "LIST", "list": [{"type": "NUMBER", "number": "1"}, {"type": "STRING", "string": "a"}]},
            "d_entries": {
                "type": "DICTIONARY",
                "dictionary": [{"key": "k", "value": {"type": "BOOLEAN", "boolean": "true"}}],
            },
            "d_mapping": {"type": "DICTIONARY", "dictionary": {"k": {"type": "STRING", "string": "v"}}},
            "dt": {"type": "DATETIME", "string": "2026-01-31T18:00:00+01:00[Europe/Berlin]"},
            "dt_z": {"type": "DATETIME", "string": "2026-01-31T17:00:00Z"},
            "dt_odd": {"type": "DATETIME", "string": "next Tuesday"},
            "table": {
                "type": "TABLE",
                "table": {
                    "schema": [{"name": "id"}, {"name": "ok"}],
                    "rows": [{"values": [{"type": "NUMBER", "number": "1"}, {"type": "BOOLEAN", "boolean": "true"}]}],
                },
            },
            "file": {"type": "FILE", "file": "C:/out.csv"},
            "raw": "not typed",
        }
    ) == {
        "s": "x",
        "n_text": 42,
        "n_float": 12.5,
        "n_json": 7.5,
        "n_empty": None,
        "n_odd": "n/a",
        "b_text": True,
        "b_json": False,
        "l": [1, "a"],
        "d_entries": {"k": True},
        "d_mapping": {"k": "v"},
        "dt": datetime(2026, 1, 31, 18, 0, tzinfo=timezone(timedelta(hours=1))),
        "dt_z": DUE,
        "dt_odd": "next Tuesday",
        "table": [{"id": 1, "ok": True}],
        "file": {"type": "FILE", "file": "C:/out.csv"},
        "raw": "not typed",
    }
    assert from_bot_values(None) == {} and from_bot_values([1]) == {}


def test_a_round_trip_gives_the_values_back():
    values = {"s": "10115", "i": -3, "f": 0.25, "b": True, "dt": DUE, "l": [[1, 2], {"a": "b"}], "d": {}}
    assert from_bot_values(to_bot_input(values)) == values


# -- deploying --------------------------------------------------------------------------------


def test_deploy_bodies_v4_and_v3():
    deployment = BotDeployment.validate("501", [29, "30"], pool_ids=7, bot_input={"s": "x"})
    v4, v3 = deployment.request("v4"), deployment.request("v3")
    assert (v4.method, v4.path, v4.replay_safe) == ("POST", "/v4/automations/deploy", False)
    assert v4.json == {
        "botId": 501,
        "unattendedRequest": {
            "runAsUserIds": [29, 30],
            "poolIds": [7],
            "numOfRunAsUsersToUse": 2,
            "deviceUsageType": "RUN_ON_POOL_DEVICES",
        },
        "botInput": {"s": {"type": "STRING", "string": "x"}},
    }
    assert (v3.path, v3.replay_safe) == ("/v3/automations/deploy", False)
    assert v3.json == {
        "fileId": 501,
        "runAsUserIds": [29, 30],
        "poolIds": [7],
        "numOfRunAsUsersToUse": 2,
        "overrideDefaultDevice": True,
        "botInput": {"s": {"type": "STRING", "string": "x"}},
    }


def test_deploy_bodies_leave_out_what_was_not_given():
    deployment = BotDeployment.validate(501, 29, pool_ids=[])
    assert deployment.request("v4").json == {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    assert deployment.request("v3").json == {"fileId": 501, "runAsUserIds": [29]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bot_id": "bot-1"}, "bot_id must be a positive integer"),
        ({"bot_id": 0}, "bot_id must be a positive integer"),
        ({"run_as_user_ids": []}, "run_as_user_ids is empty: give at least one id"),
        ({"run_as_user_ids": [29, "x"]}, r"run_as_user_ids\[1\] must be a positive integer"),
        ({"pool_ids": ["1/../2"]}, r"pool_ids\[0\] must be a positive integer"),
        ({"bot_input": {"x": None}}, r"bot_input\['x'\]"),
    ],
)
def test_a_bad_deployment_is_refused_naming_the_field(kwargs, message):
    arguments = {"bot_id": 501, "run_as_user_ids": [29], **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        BotDeployment.validate(**arguments)


def test_the_fingerprint_follows_the_input():
    first = BotDeployment.validate(501, [29], bot_input={"a": 1, "b": 2})
    assert first.fingerprint() == BotDeployment.validate("501", "29", bot_input={"b": 2, "a": 1}).fingerprint()
    assert first.fingerprint() != BotDeployment.validate(501, [29], bot_input={"a": 1, "b": 3}).fingerprint()


@pytest.mark.parametrize("value", ["", "  ", None, 12, "a b", "x/../y", "id?x=1", "-abc"])
def test_deployment_ids_are_checked(value):
    with pytest.raises(InvalidInputError, match="deployment_id must be the deploymentId"):
        validate_deployment_id(value)


def test_a_uuid_deployment_id_passes():
    assert validate_deployment_id(" 1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41 ") == "1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41"


# -- activity answers -------------------------------------------------------------------------


def test_activity_and_execution_requests():
    request = activity_request("dep-1")
    assert (request.method, request.path) == ("POST", "/v3/activity/list")
    assert request.json == {
        "filter": {"operator": "eq", "field": "deploymentId", "value": "dep-1"},
        "page": {"offset": 0, "length": 100},
    }
    assert execution_request("a784fb03-8f23_x").path == "/v3/activity/execution/a784fb03-8f23_x"


@pytest.mark.parametrize("execution_id", ["a/b c", "..", "../../outside", "", "a" * 129, 7])
def test_execution_ids_from_an_activity_listing_never_steer_the_path(execution_id):
    with pytest.raises(AutomationAnywhereError, match=r"execution id .* not put into a request path"):
        execution_request(execution_id)


def test_runs_are_read_tolerantly():
    request = activity_request("dep-1")
    answer = {
        "list": [
            {"id": 77, "deploymentId": "dep-1", "status": "run_failed", "message": "Bot error on line 3"},
            {
                "id": "x2",
                "status": "COMPLETED",
                "botOutVariables": {"values": {"s": {"type": "STRING", "string": "v"}}},
            },
            {"id": "other", "deploymentId": "dep-2", "status": "RUNNING"},
            {"id": "x3"},
        ]
    }
    assert read_runs(answer, request, "dep-1") == [
        BotRun("77", "RUN_FAILED", "Bot error on line 3", None),
        BotRun("x2", "COMPLETED", "", {"s": {"type": "STRING", "string": "v"}}),
        BotRun("x3", "", "", None),
    ]


@pytest.mark.parametrize("answer", [None, {}, {"list": [{"status": "RUNNING"}]}, {"list": "nope"}])
def test_an_activity_answer_without_records_is_an_error(answer):
    with pytest.raises(AutomationAnywhereError, match="no 'list' of activity records") as caught:
        read_runs(answer, activity_request("d"), "d")
    assert caught.value.path == "/v3/activity/list"


def test_the_result_carries_plain_outputs():
    runs = [
        BotRun("e1", "COMPLETED", "", {"n": {"type": "NUMBER", "number": "3"}}),
        BotRun("e2", "COMPLETED", "done", {}),
    ]
    assert bot_run_result("dep-1", runs) == {
        "deployment_id": "dep-1",
        "status": "COMPLETED",
        "outputs": {"n": 3},
        "runs": [
            {"execution_id": "e1", "status": "COMPLETED", "message": "", "outputs": {"n": 3}},
            {"execution_id": "e2", "status": "COMPLETED", "message": "done", "outputs": {}},
        ],
    }


# -- the wait policy --------------------------------------------------------------------------


def run(status, execution_id="e1", message=""):
    return BotRun(execution_id, status, message)


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        (["DEPLOYED"], "waiting"),
        (["QUEUED", "PENDING_EXECUTION"], "waiting"),
        (["RUNNING", "UPDATE"], "waiting"),
        (["RUN_PAUSED"], "waiting"),
        (["UNKNOWN"], "waiting"),
        (["COMPLETED", "RUNNING"], "waiting"),
        (["COMPLETED"], "completed"),
        (["COMPLETED", "COMPLETED"], "completed"),
        (["DEPLOY_FAILED"], "failed"),
        (["RUN_FAILED"], "failed"),
        (["RUN_ABORTED", "RUNNING"], "failed"),
        (["COMPLETED", "RUN_TIMED_OUT"], "failed"),
        (["SOMETHING_NEW"], "waiting"),
    ],
)
def test_status_classes(statuses, outcome):
    runs = [run(status, f"e{n}") for n, status in enumerate(statuses)]
    assert BotRunCheck("dep-1").judge(runs, 100.0).outcome == outcome


def test_a_failure_names_each_failed_run_and_its_message():
    verdict = BotRunCheck("dep-1").judge(
        [run("COMPLETED", "e1"), run("RUN_FAILED", "e2", "Bot error on line 3"), run("RUN_ABORTED", "e3")], 0.0
    )
    assert verdict.message == (
        "Bot deployment dep-1: 2 of 3 run(s) failed:\n"
        "  run e2: status RUN_FAILED: Bot error on line 3\n"
        "  run e3: status RUN_ABORTED: (no message)"
    )


def test_unrecognised_statuses_keep_the_wait_going_and_are_reported():
    verdict = BotRunCheck("dep-1").judge([run("COMPLETED", "e1"), run("BRAND_NEW", "e2")], 0.0)
    assert (verdict.outcome, verdict.unknown) == ("waiting", {"e2": "BRAND_NEW"})


def test_late_activity_is_waited_for_during_the_grace_period_only():
    wait = BotRunCheck("dep-1", BotRunPolicy(activity_grace_period=10))
    assert wait.judge([], 1000.0).outcome == "waiting"
    assert wait.judge([], 1009.9).outcome == "waiting"
    assert wait.judge([run("RUNNING")], 1009.95).outcome == "waiting"  # a record arrived in time
    verdict = BotRunCheck("dep-1", BotRunPolicy(activity_grace_period=10), started_at=1000.0).judge([], 1010.0)
    assert verdict.outcome == "failed"
    assert "no run of deployment dep-1 10 s after the wait began (activity_grace_period=10 s)" in verdict.message
    assert '"View everyone\'s activity"' in verdict.message


@pytest.mark.parametrize(
    ("status", "name"),
    [("RUN_PAUSED", "paused_timeout"), ("UNKNOWN", "unknown_timeout"), ("PENDING_EXECUTION", "pending_timeout")],
)
def test_paused_unknown_and_pending_runs_are_waited_for_until_their_timeout(status, name):
    wait = BotRunCheck("dep-1", BotRunPolicy(paused_timeout=60, unknown_timeout=60, pending_timeout=60))
    assert wait.judge([run("RUNNING")], 0.0).outcome == "waiting"
    assert wait.judge([run(status, message="device offline")], 100.0).outcome == "waiting"  # the clock starts here
    assert wait.judge([run(status)], 159.0).outcome == "waiting"
    verdict = wait.judge([run(status, message="device offline")], 160.0)
    assert verdict.outcome == "failed"
    assert f"run e1 has been {status} for 60 s ({name}=60 s)" in verdict.message
    assert verdict.message.endswith("Message: device offline")


def test_a_run_that_moves_on_restarts_the_held_clock():
    wait = BotRunCheck("dep-1", BotRunPolicy(paused_timeout=60))
    wait.judge([run("RUN_PAUSED")], 0.0)
    wait.judge([run("RUNNING")], 50.0)
    assert wait.held_since == {}
    assert wait.judge([run("RUN_PAUSED")], 70.0).outcome == "waiting"
    assert wait.judge([run("RUN_PAUSED")], 129.0).outcome == "waiting"
    assert wait.judge([run("RUN_PAUSED")], 130.0).outcome == "failed"


def test_no_held_timeout_waits_forever():
    wait = BotRunCheck("dep-1", BotRunPolicy(paused_timeout=None, unknown_timeout=None, pending_timeout=None))
    runs = [run("RUN_PAUSED", "e1"), run("UNKNOWN", "e2"), run("PENDING_EXECUTION", "e3")]
    wait.judge(runs, 0.0)
    assert wait.judge(runs, 10**9).outcome == "waiting"


def test_the_wait_survives_serialisation():
    wait = BotRunCheck("dep-1", BotRunPolicy(5, None, 7, 9))
    wait.judge([run("UNKNOWN")], 42.0)
    restored = BotRunCheck.from_json(wait.to_json())
    assert restored == wait
    assert restored.to_json() == {
        "deployment_id": "dep-1",
        "activity_grace_period": 5,
        "paused_timeout": None,
        "unknown_timeout": 7,
        "pending_timeout": 9,
        "started_at": 42.0,
        "held_since": {"e1:UNKNOWN": 42.0},
        "expected_runs": None,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activity_grace_period": -1}, "activity_grace_period must be a number of seconds >= 0, got -1"),
        ({"activity_grace_period": None}, "activity_grace_period must be a number of seconds >= 0, got None"),
        ({"paused_timeout": "1h"}, "paused_timeout must be a number of seconds >= 0, or None, got '1h'"),
        ({"unknown_timeout": float("inf")}, "unknown_timeout must be"),
        ({"unknown_timeout": True}, "unknown_timeout must be"),
        ({"pending_timeout": -5}, "pending_timeout must be a number of seconds >= 0, or None, got -5"),
    ],
)
def test_policy_values_are_checked(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        BotRunPolicy(**kwargs)
