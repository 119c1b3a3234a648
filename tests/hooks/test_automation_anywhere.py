"""The hook against requests-mock: the exact requests of each auth mode, renewal, retries, paging."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator.filters import query
from tests.conftest import API_KEY, BASE_URL, PASSWORD, make_token

QUEUE = f"{BASE_URL}/v3/wlm/queues/7"


def bodies(requests_mock, path=None):
    return [json.loads(r.body) for r in requests_mock.request_history if path is None or r.path == path]


def paths(requests_mock):
    return [f"{r.method} {r.path}" for r in requests_mock.request_history]


def item(item_id, status="NEW", **extra):
    return {"id": item_id, "queueId": 7, "status": status, "json": {"n": 1}, **extra}


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
    queue_lists(requests_mock)

    AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert bodies(requests_mock, "/v2/authentication") == [{"username": "jdoe", "apiKey": API_KEY}]
    assert paths(requests_mock) == [
        "POST /v2/authentication",
        "POST /v3/wlm/queues/7/workitems/list",
        "POST /v3/wlm/queues/7/workitems",
    ]


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
    hook.get_work_items(7, 1)  # the given token, received now

    clock.now += 1170
    hook.get_work_items(7, 1)
    assert requests_mock.last_request.headers["X-Authorization"] == renewed
    clock.now += 1170
    with pytest.raises(AutomationAnywhereError, match="cannot be renewed"):
        hook.get_work_items(7, 1)
    assert not any(r.path == "/v2/authentication" for r in requests_mock.request_history)


def test_an_expired_pre_issued_token_fails_on_the_control_rooms_401_without_a_login(requests_mock, use_connection):
    use_connection(extra={"token": make_token(lifetime=-5)})
    requests_mock.post(f"{QUEUE}/workitems/list", status_code=401, json={"code": "UM1110", "message": "Token expired"})
    with pytest.raises(AutomationAnywhereError, match="was rejected by the Control Room and cannot be renewed"):
        AutomationAnywhereHook().get_work_items(7, 1)
    assert requests_mock.call_count == 1


# -- 401 ------------------------------------------------------------------------------------


def test_one_relogin_after_401(requests_mock, password_conn):
    old, new = make_token(), make_token()
    requests_mock.post(f"{BASE_URL}/v2/authentication", [{"json": {"token": old}}, {"json": {"token": new}}])
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [
            {"status_code": 401, "json": {"code": "UM1114", "message": "You are logged in twice"}},
            {"json": {"list": [item(1)]}},
        ],
    )

    assert list(AutomationAnywhereHook().get_work_items(7, 1)) == ["1"]
    assert paths(requests_mock).count("POST /v2/authentication") == 2
    assert requests_mock.last_request.headers["X-Authorization"] == new


def test_second_401_is_a_clear_error(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        status_code=401,
        json={"code": "UM1114", "message": "You are logged in twice", "details": "d"},
    )

    with pytest.raises(AutomationAnywhereError) as caught:
        AutomationAnywhereHook().get_work_items(7, 1)

    error = caught.value
    assert (error.status, error.method, error.path, error.code) == (
        401,
        "POST",
        "/v3/wlm/queues/7/workitems/list",
        "UM1114",
    )
    assert "logged in twice" in str(error) and "again after a fresh login" in str(error)
    assert paths(requests_mock).count("POST /v2/authentication") == 2


def test_bad_credentials_fail_fast_without_retries(requests_mock, password_conn, no_sleep):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication", status_code=401, json={"code": "UM1101", "message": "Invalid credentials"}
    )

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

#: The one request per add that reads the queue's newest id: the add's mark.
PROBE = {"page": {"offset": 0, "length": 1}, "sort": [{"field": "id", "direction": "desc"}]}
BY_ID = [{"field": "id", "direction": "asc"}]


def after(mark, offset=0, **filter):
    """The body of a reconciliation listing: the queue's items above ``mark`` (and ``filter``)."""
    since = {"operator": "gt", "field": "id", "value": str(mark)}
    wanted = {"operator": "and", "operands": [since, filter["also"]]} if filter else since
    return {"page": {"offset": offset, "length": 100}, "filter": wanted, "sort": BY_ID}


def eq(field, value):
    return {"operator": "eq", "field": field, "value": value}


def queue_lists(requests_mock, *, newest=None, queue=()):
    """
    Answer ``.../workitems/list`` like a Control Room would: the mark probe with ``newest``
    (the queue's newest item before the add; ``None``: an empty queue), any other listing
    with the items of ``queue`` (the queue as it is afterwards) that its filter selects,
    sorted and paged as asked, with ``totalFilter``.
    """

    def answer(request, context):
        body = request.json()
        if body == PROBE:
            found = [newest] if newest is not None else []
            return {"page": {"offset": 0, "total": len(queue), "totalFilter": len(found)}, "list": found}
        return query(list(queue), body)

    requests_mock.post(f"{QUEUE}/workitems/list", json=answer)


def list_bodies(requests_mock):
    return bodies(requests_mock, "/v3/wlm/queues/7/workitems/list")


def add_bodies(requests_mock):
    return bodies(requests_mock, "/v3/wlm/queues/7/workitems")


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_lost_add_that_was_committed_is_found_not_resent(requests_mock, password_conn, no_sleep, failure):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [failure])
    look_alike = item(39, json={"a": 1})
    newest = item(40, json={"a": 2})
    # Its createdOn is far from any clock of ours: only its id (above the mark) makes it ours.
    committed = item(41, json={"a": 1}, createdOn="2099-01-01T00:00:00.123456789Z")
    queue_lists(requests_mock, newest=newest, queue=[look_alike, newest, committed, item(42, json={"a": 2})])

    created = AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert [i["id"] for i in created] == ["41"]
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 1
    assert list_bodies(requests_mock) == [PROBE, after(40)]
    assert no_sleep == [pytest.approx(30.0, abs=1)]  # the lost-answer delay: the connection's timeout


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_lost_add_that_was_not_committed_is_sent_again(requests_mock, password_conn, no_sleep, failure):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [failure, {"json": {"list": [item(43, json={"a": 1})]}}])
    look_alike = item(40, json={"a": 1}, createdOn="2001-01-01T00:00:00Z")
    queue_lists(requests_mock, newest=look_alike, queue=[look_alike])

    created = AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert [i["id"] for i in created] == ["43"]  # the old look-alike 40 (the mark) was not taken for ours
    assert add_bodies(requests_mock) == [{"workItems": [{"json": {"a": 1}}]}] * 2
    assert list_bodies(requests_mock) == [PROBE, after(40)]


def test_only_the_missing_part_of_a_lost_batch_is_sent_again(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems",
        [{"exc": requests.exceptions.ReadTimeout("slow")}, {"json": {"list": [item(53, json={"k": "B", "v": 2})]}}],
    )
    older_a = item(50, json={"k": "A", "v": 1})  # an earlier add of the same key: not ours
    ours = item(51, json={"k": "A", "v": "changed by server"})
    other_producer = item(52, json={"k": "C", "v": 3})
    queue_lists(requests_mock, newest=older_a, queue=[older_a, ours, other_producer])

    created = AutomationAnywhereHook().add_work_items(7, [{"k": "A", "v": 1}, {"k": "B", "v": 2}], dedupe_key="k")

    assert [i["id"] for i in created] == ["51", "53"]
    assert add_bodies(requests_mock)[1] == {"workItems": [{"json": {"k": "B", "v": 2}}]}
    keys = {"operator": "or", "operands": [eq("k", "A"), eq("k", "B")]}
    assert list_bodies(requests_mock) == [PROBE, after(50, also=keys)]


def test_a_dedupe_key_narrows_the_listing_to_100_values_each(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [{"exc": requests.exceptions.ReadTimeout("slow")}])
    items = [{"k": f"K{n}", "v": n} for n in range(150)]
    committed = [item(1000 + n, json=entry) for n, entry in enumerate(items)]
    queue_lists(requests_mock, newest=item(999), queue=[item(999), *committed])

    created = AutomationAnywhereHook().add_work_items(7, items, batch_size=150, dedupe_key="k")

    assert [i["id"] for i in created] == [str(1000 + n) for n in range(150)]
    assert len(add_bodies(requests_mock)) == 1
    sent = list_bodies(requests_mock)
    assert sent[0] == PROBE and len(sent) == 3
    for body, values in zip(sent[1:], (range(100), range(100, 150))):
        assert body == after(999, also={"operator": "or", "operands": [eq("k", f"K{n}") for n in values]})


def test_reconciling_pages_through_what_other_producers_added(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [{"exc": requests.exceptions.ReadTimeout("slow")}])
    others = [item(n, json={"other": n}) for n in range(501, 651)]
    queue_lists(requests_mock, newest=item(500), queue=[item(500), *others, item(651, json={"a": 1})])

    created = AutomationAnywhereHook().add_work_items(7, [{"a": 1}])

    assert [i["id"] for i in created] == ["651"]
    assert list_bodies(requests_mock) == [PROBE, after(500), after(500, offset=100)]
    assert len(add_bodies(requests_mock)) == 1


def test_the_mark_moves_past_each_batch_created(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(
        f"{QUEUE}/workitems",
        [
            {"json": {"list": [item(11, json={"a": 1}), item(12, json={"a": 1})]}},
            {"exc": requests.exceptions.ReadTimeout("slow")},
        ],
    )
    # The second batch has the same data as the first: only the mark tells them apart.
    queue_lists(requests_mock, newest=item(10), queue=[item(n, json={"a": 1}) for n in (11, 12, 13, 14)])
    headers = []

    created = AutomationAnywhereHook().add_work_items(
        7, [{"a": 1}] * 4, batch_size=2, on_progress=lambda p: headers.append(p.header())
    )

    assert [i["id"] for i in created] == ["11", "12", "13", "14"]
    assert list_bodies(requests_mock) == [PROBE, after(12)]  # one probe per call, then the moved mark
    assert [(h["batches"], h["mark_id"], h["in_flight_since"] is not None) for h in headers] == [
        (0, 10, True),
        (1, 12, False),
        (1, 12, True),
        (2, 14, False),
    ]


def test_the_lost_answer_delay_can_be_set_per_call(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", [{"exc": requests.exceptions.ReadTimeout("slow")}])
    queue_lists(requests_mock, queue=[item(1, json={"a": 1})])
    hook = AutomationAnywhereHook()

    assert [i["id"] for i in hook.add_work_items(7, [{"a": 1}], lost_answer_delay=5)] == ["1"]
    assert no_sleep == [pytest.approx(5.0, abs=1)]
    assert list_bodies(requests_mock) == [PROBE, after(0)]  # an empty queue: mark 0

    no_sleep.clear()
    requests_mock.post(f"{QUEUE}/workitems", [{"exc": requests.exceptions.ReadTimeout("slow")}])
    assert [i["id"] for i in hook.add_work_items(7, [{"a": 1}], lost_answer_delay=0)] == ["1"]
    assert no_sleep == []


@pytest.mark.parametrize("bad", [-1, 3601, True, "30", float("nan")])
def test_a_bad_lost_answer_delay_is_rejected_before_any_request(requests_mock, password_conn, bad):
    with pytest.raises(InvalidInputError, match="lost_answer_delay must be a number of seconds from 0 to 3600"):
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}], lost_answer_delay=bad)
    assert requests_mock.call_count == 0


def test_an_add_that_stays_unclear_fails_saying_what_is_in_the_queue(requests_mock, password_conn, no_sleep):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", status_code=504, text="gateway timeout")
    queue_lists(requests_mock)

    with pytest.raises(AutomationAnywhereError, match=r"no clear answer 3 times; 0 are in the queue, 1 are not"):
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}])
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 3
    assert list_bodies(requests_mock) == [PROBE, after(0), after(0), after(0)]  # checked after every add
    assert len(no_sleep) == 3


class FakeTaskState:
    """Airflow 3.3's task state store of one task instance, counting writes."""

    def __init__(self, **values):
        self.values = dict(values)
        self.writes = []

    def get(self, key):
        return self.values.get(key)

    def set(self, key, value):
        self.writes.append(key)
        self.values[key] = json.loads(json.dumps(value))

    def delete(self, key):
        self.values.pop(key, None)


def test_saved_progress_continues_an_earlier_try(requests_mock, password_conn, no_sleep):
    from airflow_provider_aa.control_room.adding import AddProgress, add_fingerprint
    from airflow_provider_aa.tasks.state import SavedAddProgress, TaskStateStore

    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(62, json={"n": 2})]})
    items = [{"n": 1}, {"n": 2}]
    fingerprint = add_fingerprint("7", items)
    # The earlier try created item 61 and may have sent the second batch: it was not committed.
    key = "automation_anywhere_add_progress"
    state = FakeTaskState(
        **{
            key: {"fingerprint": fingerprint, "batches": 1, "mark_id": 60, "in_flight_since": 1.0},
            f"{key}.part0": ["61"],
        }
    )
    saved = SavedAddProgress(TaskStateStore({"task_state_store": state}, "add_progress"))
    earlier = saved.load(fingerprint)
    assert earlier == AddProgress(fingerprint, batches=[["61"]], mark_id=60, in_flight_since=1.0)
    queue_lists(requests_mock, queue=[item(60), item(61, json={"n": 1})])

    created = AutomationAnywhereHook().add_work_items(7, items, batch_size=1, progress=earlier, on_progress=saved.save)

    assert [i["id"] for i in created] == ["62"]
    assert earlier.ids == ["61", "62"]
    assert state.values[key] == {"fingerprint": fingerprint, "batches": 2, "mark_id": 62, "in_flight_since": None}
    assert state.values[f"{key}.part0"] == ["61"] and state.values[f"{key}.part1"] == ["62"]
    assert state.writes == [key, f"{key}.part1", key]  # before the send, then the new part and the header
    assert list_bodies(requests_mock) == [after(60)]  # checked before re-sending; the saved mark: no probe
    assert add_bodies(requests_mock) == [{"workItems": [{"json": {"n": 2}}]}]
    assert no_sleep == []  # the earlier send is long past its lost-answer delay

    saved.clear()
    assert state.values == {}


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
    queue_lists(requests_mock)

    assert [i["id"] for i in AutomationAnywhereHook().add_work_items(7, [{"a": 1}])] == ["1"]
    assert paths(requests_mock).count("POST /v3/wlm/queues/7/workitems") == 3
    assert list_bodies(requests_mock) == [PROBE]  # nothing to reconcile


# -- adding, listing, looking up ------------------------------------------------------------


def test_250_items_go_in_3_batches_and_come_back_in_order(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    next_id = iter(range(1000, 2000))

    def created(request, context):
        return {"list": [item(next(next_id), json=entry["json"]) for entry in request.json()["workItems"]]}

    requests_mock.post(f"{QUEUE}/workitems", json=created)
    queue_lists(requests_mock, newest=item(999))
    items = [{"n": n} for n in range(250)]

    result = AutomationAnywhereHook().add_work_items(7, items)

    sizes = [len(body["workItems"]) for body in add_bodies(requests_mock)]
    assert sizes == [100, 100, 50]
    assert [r["json"] for r in result] == items
    assert [r["id"] for r in result] == [str(n) for n in range(1000, 1250)]
    assert add_bodies(requests_mock)[0]["workItems"][0] == {"json": {"n": 0}}
    assert list_bodies(requests_mock) == [PROBE]  # one probe per call, not per batch
    assert paths(requests_mock)[1] == "POST /v3/wlm/queues/7/workitems/list"  # before the first add


def test_adding_nothing_sends_nothing(requests_mock, password_conn):
    assert AutomationAnywhereHook().add_work_items(7, []) == []
    assert requests_mock.call_count == 0


def test_an_answer_with_the_wrong_number_of_items_is_an_error(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(1)]})
    queue_lists(requests_mock)
    with pytest.raises(AutomationAnywhereError, match="add of 2 work item"):
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}, {"a": 2}])


def test_listing_pages_until_total_filter(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    pages = [[item(n) for n in range(start, min(start + 100, 230))] for start in (0, 100, 200)]
    requests_mock.post(
        f"{QUEUE}/workitems/list",
        [
            {"json": {"page": {"offset": i * 100, "total": 500, "totalFilter": 230}, "list": page}}
            for i, page in enumerate(pages)
        ],
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
        body = request.json()
        held = [item(int(o["value"])) for o in body["filter"]["operands"] if int(o["value"]) != 120]
        start = body["page"]["offset"]
        return {
            "page": {"offset": start, "totalFilter": len(held)},
            "list": held[start : start + body["page"]["length"]],
        }

    requests_mock.post(f"{QUEUE}/workitems/list", json=found)

    result = AutomationAnywhereHook().get_work_items(7, list(range(1, 151)))

    sent = bodies(requests_mock, "/v3/wlm/queues/7/workitems/list")
    assert [len(b["filter"]["operands"]) for b in sent] == [100, 50]
    assert [b["page"] for b in sent] == [{"offset": 0, "length": 100}] * 2
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
        f"{QUEUE}/workitems",
        status_code=400,
        json={"code": "WLM1001", "message": "Invalid attribute", "details": "email"},
    )
    queue_lists(requests_mock)
    with pytest.raises(AutomationAnywhereError) as caught:
        AutomationAnywhereHook().add_work_items(7, [{"a": 1}])
    text = str(caught.value)
    assert "HTTP 400" in text and "WLM1001" in text and "Invalid attribute" in text and "email" in text
    assert "POST /v3/wlm/queues/7/workitems" in text


def test_html_page_names_the_likely_cause(requests_mock, password_conn):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication",
        text="<!DOCTYPE html><html><body>Sign in</body></html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(AutomationAnywhereError, match=r"HTML page.*single sign-on"):
        AutomationAnywhereHook().get_work_items(7, 1)


def test_redirects_are_refused_so_the_token_stays_home(requests_mock, password_conn):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication", status_code=302, headers={"Location": "https://evil.example/login"}
    )
    with pytest.raises(AutomationAnywhereError, match=r"redirects to https://evil\.example"):
        AutomationAnywhereHook().get_work_items(7, 1)
    assert requests_mock.call_count == 1


def test_connection_test_reports_success_and_failure(requests_mock, password_conn):
    requests_mock.post(
        f"{BASE_URL}/v2/authentication",
        [
            {"json": {"token": make_token()}},
            {"status_code": 401, "json": {"code": "UM1101", "message": "Invalid credentials"}},
        ],
    )
    requests_mock.post(f"{BASE_URL}/v3/wlm/queues/list", json={"page": {"total": 3}, "list": []})

    hook = AutomationAnywhereHook()
    assert hook.test_connection() == (
        True,
        f"Connected to {BASE_URL} as 'jdoe' (auth_type='password'); work queues: visible (3 queue(s)). "
        f"Warning: {hook.settings.single_session_warning} Run `python -m airflow_provider_aa.check --conn-id "
        "automation_anywhere_default` for a full compatibility report.",
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


def test_values_beyond_the_display_limit_are_warned_about(requests_mock, password_conn, capsys):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{QUEUE}/workitems", json={"list": [item(1), item(2)]})
    queue_lists(requests_mock)
    AutomationAnywhereHook().add_work_items(7, [{"note": "x" * 1000}, {"note": "y" * 1001}])
    out = capsys.readouterr().out
    assert "work_items[1].note has 1001 characters" in out and "work_items[0]" not in out
