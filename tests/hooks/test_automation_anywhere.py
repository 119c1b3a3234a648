"""The hook against requests-mock: the exact requests of each auth mode, renewal, retries, paging."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.conftest import API_KEY, BASE_URL, PASSWORD, make_token

QUEUE = f"{BASE_URL}/v3/wlm/queues/7"


def bodies(requests_mock, path=None):
    return [json.loads(r.body) for r in requests_mock.request_history if path is None or r.path == path]


def paths(requests_mock):
    return [f"{r.method} {r.path}" for r in requests_mock.request_history]


def item(item_id, status="NEW", **extra):
    return {"id": item_id, "queueId": 7, "status": status, "json": {"n": 1}, **extra}


@pytest.fixture
def password_conn(use_connection):
    return use_connection(login="jdoe", password=PASSWORD, extra={"auth_type": "password"})


@pytest.fixture
def clock():
    class Clock:
        now = 1_000_000.0

        def __call__(self):
            return self.now

    return Clock()


def hook_with_clock(clock) -> AutomationAnywhereHook:
    hook = AutomationAnywhereHook()
    hook.__dict__["session"] = ControlRoomSession(hook.settings, clock=clock)
    return hook


# -- the exact requests of each auth mode ---------------------------------------------------


@pytest.mark.parametrize("multiple_login", [False, True])
def test_password_mode_logs_in_once_and_sends_x_authorization(requests_mock, use_connection, multiple_login):
    use_connection(login="jdoe", password=PASSWORD, extra={"auth_type": "password", "multiple_login": multiple_login})
    token = make_token()
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": token, "user": {"id": 1}})
    requests_mock.post(f"{QUEUE}/workitems/list", json={"page": {"totalFilter": 1}, "list": [item(1)]})

    hook = AutomationAnywhereHook()
    assert hook.get_work_items(7, [1]) == {"1": item("1", queueId="7")}
    hook.get_work_items("7", "1")

    login_body = {"username": "jdoe", "password": PASSWORD}
    if multiple_login:
        login_body["multipleLogin"] = True
    assert bodies(requests_mock, "/v2/authentication") == [login_body]
    lists = [r for r in requests_mock.request_history if r.path.endswith("/list")]
    assert len(lists) == 2
    assert all(r.headers["X-Authorization"] == token for r in lists)
    assert all("Authorization" not in r.headers for r in lists)


def test_api_key_mode_sends_api_key_and_never_multiple_login(requests_mock, use_connection):
    use_connection(login="jdoe", extra={"api_key": API_KEY, "multiple_login": True})
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(5)]})

    AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert bodies(requests_mock, "/v2/authentication") == [{"username": "jdoe", "apiKey": API_KEY}]


def test_token_mode_uses_the_token_without_login(requests_mock, use_connection):
    token = make_token()
    use_connection(extra={"token": token})
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})

    AutomationAnywhereHook().get_work_items(7, 1)

    assert paths(requests_mock) == ["POST /v3/wlm/queues/7/workitems/list"]
    assert requests_mock.last_request.headers["X-Authorization"] == token


def test_v1_fallback_when_v2_is_missing_is_remembered(requests_mock, password_conn, clock):
    requests_mock.post(f"{BASE_URL}/v2/authentication", status_code=404, json={"code": "NF", "message": "no"})
    requests_mock.post(f"{BASE_URL}/v1/authentication", json={"token": make_token(issued_at=clock.now)})
    requests_mock.post(f"{BASE_URL}/v1/authentication/token", status_code=401)
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})
    hook = hook_with_clock(clock)

    hook.get_work_items(7, 1)
    clock.now += 1190  # inside the renewal margin: refresh (refused) then log in again
    hook.get_work_items(7, 1)

    assert paths(requests_mock) == [
        "POST /v2/authentication",
        "POST /v1/authentication",
        "POST /v3/wlm/queues/7/workitems/list",
        "POST /v1/authentication/token",
        "POST /v1/authentication",
        "POST /v3/wlm/queues/7/workitems/list",
    ]


# -- renewal --------------------------------------------------------------------------------


def test_token_is_renewed_through_refresh_before_it_expires(requests_mock, password_conn, clock):
    first, second = make_token(issued_at=clock.now), make_token(issued_at=clock.now + 1150)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": first})
    requests_mock.post(f"{BASE_URL}/v2/authentication/token", json={"token": second})
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})
    hook = hook_with_clock(clock)

    hook.get_work_items(7, 1)
    clock.now += 1100  # 100 s before expiry: not yet within the 60 s margin
    hook.get_work_items(7, 1)
    clock.now += 50
    hook.get_work_items(7, 1)

    assert paths(requests_mock).count("POST /v2/authentication") == 1
    assert bodies(requests_mock, "/v2/authentication/token") == [{"token": first}]
    used = [r.headers["X-Authorization"] for r in requests_mock.request_history if r.path.endswith("/list")]
    assert used == [first, first, second]


def test_unreadable_token_is_assumed_to_live_20_minutes(requests_mock, password_conn, clock):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": "opaque-token-value"})
    requests_mock.post(f"{BASE_URL}/v2/authentication/token", json={"token": "opaque-token-2"})
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})
    hook = hook_with_clock(clock)

    hook.get_work_items(7, 1)
    clock.now += 1130
    hook.get_work_items(7, 1)
    clock.now += 20
    hook.get_work_items(7, 1)

    assert paths(requests_mock).count("POST /v2/authentication/token") == 1


def test_token_mode_renews_while_valid_and_fails_clearly_when_it_cannot(requests_mock, use_connection, clock):
    given = make_token(issued_at=clock.now)
    use_connection(extra={"auth_type": "token", "token": given})
    renewed = make_token(issued_at=clock.now + 1170)
    requests_mock.post(f"{BASE_URL}/v2/authentication/token", [{"json": {"token": renewed}}, {"status_code": 401}])
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})
    hook = hook_with_clock(clock)

    clock.now += 1170
    hook.get_work_items(7, 1)
    assert requests_mock.last_request.headers["X-Authorization"] == renewed
    clock.now += 1170
    with pytest.raises(AutomationAnywhereError, match="cannot be renewed"):
        hook.get_work_items(7, 1)
    assert not any(r.path == "/v2/authentication" for r in requests_mock.request_history)


def test_expired_pre_issued_token_fails_without_any_request(requests_mock, use_connection):
    use_connection(extra={"token": make_token(lifetime=-5)})
    with pytest.raises(AutomationAnywhereError, match="has expired and cannot be renewed"):
        AutomationAnywhereHook().get_work_items(7, 1)
    assert requests_mock.call_count == 0


# -- 401 ------------------------------------------------------------------------------------


def test_one_relogin_after_401(requests_mock, password_conn):
    old, new = make_token(), make_token()
    requests_mock.post(f"{BASE_URL}/v2/authentication", [{"json": {"token": old}}, {"json": {"token": new}}])
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [{"status_code": 401, "json": {"code": "UM1114", "message": "You are logged in twice"}}, {"json": {"list": [item(1)]}}],
    )

    assert list(AutomationAnywhereHook().get_work_items(7, 1)) == ["1"]
    assert paths(requests_mock).count("POST /v2/authentication") == 2
    assert requests_mock.last_request.headers["X-Authorization"] == new


def test_second_401_is_a_clear_error(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems/list", status_code=401, json={"code": "UM1114", "message": "You are logged in twice", "details": "d"})

    with pytest.raises(AutomationAnywhereError) as caught:
        AutomationAnywhereHook().get_work_items(7, 1)

    error = caught.value
    assert (error.status, error.method, error.path, error.code) == (401, "POST", "/v3/wlm/queues/7/workitems/list", "UM1114")
    assert "logged in twice" in str(error) and "again after a fresh login" in str(error)
    assert paths(requests_mock).count("POST /v2/authentication") == 2


def test_bad_credentials_fail_fast_without_retries(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", status_code=401, json={"code": "UM1101", "message": "Invalid credentials"})

    with pytest.raises(AutomationAnywhereError, match="Login refused for user 'jdoe'") as caught:
        AutomationAnywhereHook().get_work_items(7, 1)

    assert caught.value.code == "UM1101"
    assert requests_mock.call_count == 1 and no_sleep == []


# -- transient failures -----------------------------------------------------------------------


def test_429_honours_retry_after_and_503_backs_off(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {}},
            {"status_code": 503, "text": "busy"},
            {"status_code": 503, "text": "busy"},
            {"json": {"list": [item(1)]}},
        ],
    )

    AutomationAnywhereHook().get_work_items(7, 1)

    assert no_sleep == [7.0, 2.0, 4.0]


def test_retries_are_bounded(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems/list", status_code=503, json={"code": "SVC", "message": "unavailable"})

    with pytest.raises(AutomationAnywhereError, match="failed 5 time") as caught:
        AutomationAnywhereHook().get_work_items(7, 1)

    assert caught.value.status == 503 and caught.value.code == "SVC"
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems/list") == 5
    assert no_sleep == [1.0, 2.0, 4.0, 8.0]


def test_connection_errors_are_retried_for_login(requests_mock, password_conn, no_sleep):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication",
        [{"exc": requests.exceptions.ConnectTimeout("connect timed out")}, {"json": {"token": make_token()}}],
    )
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})

    AutomationAnywhereHook().get_work_items(7, 1)

    assert no_sleep == [1.0]


AMBIGUOUS = [
    {"status_code": 503, "text": "busy"},
    {"status_code": 500, "json": {"code": "E", "message": "boom"}},
    {"exc": requests.exceptions.ReadTimeout("read timed out")},
    {"exc": requests.exceptions.ConnectionError("Connection aborted.")},
]


def newest(*items):
    return {"page": {"totalFilter": len(items)}, "list": list(items)}


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_lost_add_that_was_committed_is_found_not_resent(requests_mock, password_conn, no_sleep, failure):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [failure])
    committed = item(41, json={"a": 1}, createdOn="2099-01-01T00:00:00.123456789Z")
    requests_mock.post(f"{QUEUE}/workitems/list", json=newest(item(42, json={"a": 2}), committed))

    created = AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert [i["id"] for i in created] == ["41"]
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 1
    assert bodies(requests_mock, "/v3/wlm/queues/7/workitems/list")[0]["sort"] == [{"field": "id", "direction": "desc"}]


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_lost_add_that_was_not_committed_is_sent_again(requests_mock, password_conn, no_sleep, failure):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [failure, {"json": {"list": [item(43, json={"a": 1})]}}])
    requests_mock.post(f"{QUEUE}/workitems/list", json=newest(item(40, json={"a": 1}, createdOn="2001-01-01T00:00:00Z")))

    created = AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert [i["id"] for i in created] == ["43"]  # the old look-alike 40 was not taken for ours
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 2


def test_only_the_missing_part_of_a_lost_batch_is_sent_again(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems",
        [{"exc": requests.exceptions.ReadTimeout("slow")}, {"json": {"list": [item(52, json={"k": "B", "v": 2})]}}],
    )
    requests_mock.post(f"{QUEUE}/workitems/list", json=newest(item(51, json={"k": "A", "v": "changed by server"})))

    created = AutomationAnywhereHook().add_work_items(7, [{"k": "A", "v": 1}, {"k": "B", "v": 2}], dedupe_key="k")

    assert [i["id"] for i in created] == ["51", "52"]
    assert bodies(requests_mock, "/v3/wlm/queues/7/workitems")[1] == {"workItems": [{"json": {"k": "B", "v": 2}}]}


def test_an_add_that_stays_unclear_fails_saying_what_is_in_the_queue(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", status_code=504, text="gateway timeout")
    requests_mock.post(f"{QUEUE}/workitems/list", json=newest())

    with pytest.raises(AutomationAnywhereError, match=r"no clear answer 3 times; 0 are in the queue, 1 are not"):
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}])
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 3


def test_saved_progress_continues_an_earlier_try(requests_mock, password_conn):
    from airflow_provider_aa.control_room.adding import AddProgress, add_fingerprint

    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(62, json={"n": 2})]})
    items = [{"n": 1}, {"n": 2}]
    # The earlier try created item 61 and may have sent the second batch: it was not committed.
    earlier = AddProgress(add_fingerprint("7", items), ["61"], in_flight_since=1.0)
    requests_mock.post(f"{QUEUE}/workitems/list", json=newest(item(61, json={"n": 1})))
    saved = []

    created = AutomationAnywhereHook().add_work_items(
        7, items, batch_size=1, progress=earlier, on_progress=lambda p: saved.append(p.to_json())
    )

    assert [i["id"] for i in created] == ["62"]
    assert earlier.ids == ["61", "62"] and saved[-1]["ids"] == ["61", "62"] and saved[-1]["in_flight_since"] is None
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems/list") == 1  # checked before re-sending
    assert bodies(requests_mock, "/v3/wlm/queues/7/workitems") == [{"workItems": [{"json": {"n": 2}}]}]


def test_an_add_is_retried_when_it_provably_was_not_processed(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems",
        [
            {"status_code": 429, "headers": {"Retry-After": "1"}, "json": {}},
            {"exc": requests.exceptions.ConnectTimeout("connect timed out")},
            {"json": {"list": [item(1)]}},
        ],
    )

    assert [i["id"] for i in AutomationAnywhereHook().add_work_items(7, [{"a": 1}])] == ["1"]
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 3


# -- adding, listing, looking up ------------------------------------------------------------


def test_250_items_go_in_3_batches_and_come_back_in_order(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    next_id = iter(range(1000, 2000))

    def created(request, context):
        return {"list": [item(next(next_id), json=entry["json"]) for entry in request.json()["workItems"]]}

    requests_mock.post(f"{QUEUE}/workitems", json=created)
    items = [{"n": n} for n in range(250)]

    result = AutomationAnywhereHook().add_work_items(7, items)

    sizes = [len(body["workItems"]) for body in bodies(requests_mock, "/v3/wlm/queues/7/workitems")]
    assert sizes == [100, 100, 50]
    assert [r["json"] for r in result] == items
    assert [r["id"] for r in result] == [str(n) for n in range(1000, 1250)]
    assert bodies(requests_mock, "/v3/wlm/queues/7/workitems")[0]["workItems"][0] == {"json": {"n": 0}}


def test_adding_nothing_sends_nothing(requests_mock, password_conn):
    assert AutomationAnywhereHook().add_work_items(7, []) == []
    assert requests_mock.call_count == 0


def test_an_answer_with_the_wrong_number_of_items_is_an_error(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(1)]})
    with pytest.raises(AutomationAnywhereError, match="add of 2 work item"):
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}, {"a": 2}])


def test_listing_pages_until_total_filter(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    pages = [[item(n) for n in range(start, min(start + 100, 230))] for start in (0, 100, 200)]
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [{"json": {"page": {"offset": i * 100, "total": 500, "totalFilter": 230}, "list": page}} for i, page in enumerate(pages)],
    )
    status_filter = {"operator": "eq", "field": "status", "value": "NEW"}

    listed = list(AutomationAnywhereHook().list_work_items(7, filter=status_filter))

    assert [i["id"] for i in listed] == [str(n) for n in range(230)]
    sent = bodies(requests_mock, "/v3/wlm/queues/7/workitems/list")
    assert [b["page"] for b in sent] == [{"offset": o, "length": 100} for o in (0, 100, 200)]
    assert all(b["filter"] == status_filter and b["sort"] == [{"field": "id", "direction": "asc"}] for b in sent)


def test_listing_stops_on_a_short_page_without_total(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [{"json": {"list": [item(n) for n in range(100)]}}, {"json": {"list": [item(100)]}}],
    )
    assert len(list(AutomationAnywhereHook().list_work_items(7))) == 101
    assert requests_mock.call_count == 3


def test_lookups_use_one_or_filtered_request_per_100_ids(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})

    def found(request, context):
        operands = request.json()["filter"]["operands"]
        return {"list": [item(int(o["value"])) for o in operands if int(o["value"]) != 120]}

    requests_mock.post(f"{QUEUE}/workitems/list", json=found)

    result = AutomationAnywhereHook().get_work_items(7, list(range(1, 151)))

    sent = bodies(requests_mock, "/v3/wlm/queues/7/workitems/list")
    assert [len(b["filter"]["operands"]) for b in sent] == [100, 50]
    assert sent[0]["filter"]["operator"] == "or"
    assert sent[0]["filter"]["operands"][0] == {"operator": "eq", "field": "id", "value": "1"}
    assert list(result) == [str(n) for n in range(1, 151) if n != 120]


@pytest.mark.parametrize("bad", [0, -3, "1/../../v1/usermanagement", "12a", "", " ", 1.5, None, True, "١٢"])
def test_bad_ids_are_rejected_before_any_request(requests_mock, password_conn, bad):
    hook = AutomationAnywhereHook()
    with pytest.raises(InvalidInputError, match="queue_id must be a positive integer"):
        hook.add_work_items(bad, [{"a": 1}])
    with pytest.raises(InvalidInputError, match=r"work_item_ids(\[0\])? must be"):
        hook.get_work_items(7, [bad])
    with pytest.raises(InvalidInputError, match="queue_id"):
        list(hook.list_work_items(bad))
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("work_items", "message"),
    [
        ("text", "must be a dict or a list of dicts"),
        ([{"a": 1}, "b"], r"work_items\[1\] must be a dict"),
        ([{"a": object()}], r"work_items\[0\] is not JSON-serializable"),
        ([{"a": float("nan")}], r"work_items\[0\] is not JSON-serializable"),
        ([{1: "x"}], r"work_items\[0\] has attribute names"),
    ],
)
def test_bad_work_items_are_rejected_before_any_request(requests_mock, password_conn, work_items, message):
    with pytest.raises(InvalidInputError, match=message):
        AutomationAnywhereHook().add_work_items(7, work_items)
    assert requests_mock.call_count == 0


# -- errors ---------------------------------------------------------------------------------


def test_control_room_error_body_is_surfaced(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems", status_code=400, json={"code": "WLM1001", "message": "Invalid attribute", "details": "email"}
    )
    with pytest.raises(AutomationAnywhereError) as caught:
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}])
    text = str(caught.value)
    assert "HTTP 400" in text and "WLM1001" in text and "Invalid attribute" in text and "email" in text
    assert "POST /v3/wlm/queues/7/workitems" in text


def test_html_page_names_the_likely_cause(requests_mock, password_conn):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication", text="<!DOCTYPE html><html><body>Sign in</body></html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(AutomationAnywhereError, match="HTML page.*single sign-on"):
        AutomationAnywhereHook().get_work_items(7, 1)


def test_redirects_are_refused_so_the_token_stays_home(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", status_code=302, headers={"Location": "https://evil.example/login"})
    with pytest.raises(AutomationAnywhereError, match="redirects to https://evil.example"):
        AutomationAnywhereHook().get_work_items(7, 1)
    assert requests_mock.call_count == 1


def test_connection_test_reports_success_and_failure(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", [{"json": {"token": make_token()}}, {"status_code": 401, "json": {"code": "UM1101", "message": "Invalid credentials"}}])
    requests_mock.post(f"{BASE_URL}/v3/wlm/queues/list", json={"page": {"total": 3}, "list": []})

    assert AutomationAnywhereHook().test_connection() == (
        True,
        f"Connected to {BASE_URL} as 'jdoe' (auth_type='password'); 3 work queue(s) visible.",
    )
    ok, message = AutomationAnywhereHook().test_connection()
    assert not ok and "Login refused" in message and "UM1101" in message


def test_close_logs_out_a_session_it_opened(requests_mock, password_conn):
    token = make_token()
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": token})
    requests_mock.post(f"{QUEUE}/workitems/list", json={"list": [item(1)]})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)
    hook = AutomationAnywhereHook()
    hook.get_work_items(7, 1)
    hook.close()
    assert requests_mock.last_request.path == "/v1/authentication/logout"
    assert requests_mock.last_request.json() == {"token": token}


# -- secrets ----------------------------------------------------------------------------------


def test_no_secret_reaches_logs_or_errors(requests_mock, use_connection, caplog, capsys, no_sleep):
    token = make_token()
    use_connection(login="jdoe", password=PASSWORD, extra={"api_key": API_KEY, "auth_type": "password"})
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": token})
    requests_mock.post(f"{QUEUE}/workitems/list", [{"status_code": 503}, {"status_code": 401}, {"status_code": 401, "json": {"code": "X"}}])
    caplog.set_level(logging.DEBUG)
    hook = AutomationAnywhereHook()
    with pytest.raises(AutomationAnywhereError) as caught:
        hook.get_work_items(7, 1)
    hook.log.warning("settings in use: %s", hook.settings)
    seen = caplog.text + str(caught.value) + repr(caught.value) + "".join(capsys.readouterr())
    assert "HTTP 401" in seen and "settings in use" in seen  # the capture does see errors and logs
    for secret in (PASSWORD, API_KEY, token):
        assert secret not in seen


def test_values_beyond_the_display_limit_are_warned_about(requests_mock, password_conn, capsys):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(1), item(2)]})
    AutomationAnywhereHook().add_work_items(7, [{"note": "x" * 1000}, {"note": "y" * 1001}])
    out = capsys.readouterr().out
    assert "work_items[1].note has 1001 characters" in out and "work_items[0]" not in out
