"""hook.run: any Control Room API over real HTTP against the emulator, with the hook's session."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError, AutomationAnywhereError, InvalidInputError

QUEUES = "POST /v3/wlm/queues/list"
ADD = "POST /v3/wlm/queues/{queueId}/workitems"


def test_calls_share_the_hooks_session_and_answer_decoded_json(hook, aa_emulator):
    queues = hook.run("post", "v3/wlm/queues/list", json={"page": {"offset": 0, "length": 2}}, params={"x": 1})
    assert [queue["name"] for queue in queues["list"]] == ["Invoices", "Payments"]
    added = hook.run("POST", "/v3/wlm/queues/20/workitems", json={"workItems": [{"json": {"a": "1"}}]})
    item_id = added["list"][0]["id"]
    assert hook.run("GET", f"/v3/wlm/queues/20/workitems/{item_id}")["json"] == {"a": "1"}
    assert hook.run("DELETE", f"/v3/wlm/queues/20/workitems/{item_id}") is None  # 204
    assert aa_emulator.counters.logins() == 1
    assert aa_emulator.work_items(20) == []


def test_a_post_that_got_no_answer_is_not_sent_again(hook, aa_emulator, no_sleep):
    aa_emulator.faults.add("drop_after_commit", method="POST", path="/workitems$", count=1)
    with pytest.raises(AmbiguousOutcomeError, match="may or may not have processed it"):
        hook.run("POST", "/v3/wlm/queues/20/workitems", json={"workItems": [{"json": {"a": "once"}}]})
    assert aa_emulator.counters.requests(ADD) == 1
    assert [item["json"] for item in aa_emulator.work_items(20)] == [{"a": "once"}]
    assert no_sleep == []


def test_a_list_post_marked_replay_safe_is_retried(hook, aa_emulator, no_sleep):
    aa_emulator.faults.add("drop_after_commit", method="POST", path="/queues/list$", count=1)
    answer = hook.run("POST", "/v3/wlm/queues/list", json={}, replay_safe=True)
    assert answer["page"]["total"] == 3
    assert aa_emulator.counters.requests(QUEUES) == 2
    assert no_sleep == [1.0]


def test_a_refusal_carries_the_control_rooms_fields(hook, aa_emulator):
    with pytest.raises(AutomationAnywhereError) as failed:
        hook.run("GET", "/v3/wlm/queues/999", params={"token": "not-for-logs"})
    error = failed.value
    assert (error.status, error.code, error.method, error.path) == (
        404,
        "WLM_QUEUE_NOT_FOUND",
        "GET",
        "/v3/wlm/queues/999",
    )
    assert "not-for-logs" not in str(error)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "GET", "path": "https://elsewhere.example/v1/x"}, "path"),
        ({"method": "GET", "path": "/v1/../v2/authentication"}, "path"),
        ({"method": "POST", "path": "/v2/authentication", "json": {"username": "x"}}, "path"),
        ({"method": "TRACE", "path": "/v1/x"}, "method"),
        ({"method": "POST", "path": "/v1/x", "json": {"when": object()}}, "json"),
        ({"method": "GET", "path": "/v1/x", "params": {"a": {"b": 1}}}, "params"),
    ],
)
def test_bad_input_fails_before_any_request(hook, aa_emulator, kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        hook.run(**kwargs)
    assert aa_emulator.counters.requests() == 0
