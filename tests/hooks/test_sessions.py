"""
Sessions under real conditions (requests-mock): refused logins that must not lock the
account, sessions that end each other, Control Room clocks that disagree with ours,
renewed tokens that must be masked, and input rejected before any request.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.auth import token_times
from airflow_provider_aa.control_room.errors import (
    InvalidInputError,
    LoginRefusedError,
    SessionConflictError,
)
from airflow_provider_aa.control_room.session import EVICTION_WINDOW, MAX_EVICTIONS, ControlRoomSession
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import ControlRoomEmulator
from automation_anywhere_emulator.config import load_seed
from tests.conftest import BASE_URL, PASSWORD, make_token
from tests.hooks.test_automation_anywhere import QUEUE, hook_with_clock, item

LOGIN = f"{BASE_URL}/v2/authentication"
REFRESH = f"{BASE_URL}/v2/authentication/token"
LIST = f"{QUEUE}/workitems/list"


def logins(requests_mock) -> int:
    return sum(1 for r in requests_mock.request_history if r.path == "/v2/authentication")


# -- refused logins ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_login_fails_for_good_and_is_never_tried_again(requests_mock, use_connection, status):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(LOGIN, status_code=status, json={"code": "UM1101", "message": "Authentication failed"})
    hook = AutomationAnywhereHook()
    for _ in range(3):  # a sensor poking on, or many triggers sharing the session
        with pytest.raises(LoginRefusedError) as refused:
            hook.get_work_items(7, 1)
        # Airflow fails the task without its retries: each retry would be one more attempt
        # at a locked account.
        assert isinstance(refused.value, AirflowFailException)
        assert "without retries" in str(refused.value) and refused.value.code == "UM1101"
    assert logins(requests_mock) == 1


def test_invalid_connection_and_invalid_input_fail_for_good(use_connection):
    use_connection(extra={"auth_type": "api_key"})  # no login, no api_key
    with pytest.raises(InvalidInputError) as invalid:
        _ = AutomationAnywhereHook().settings
    assert isinstance(invalid.value, AirflowFailException)
    with pytest.raises(AirflowFailException):
        AutomationAnywhereHook().get_work_items("not-a-number", 1)


def test_a_second_session_refused_names_multiple_login(requests_mock, use_connection):
    use_connection(login="jdoe", password=PASSWORD, extra={"multiple_login": True})
    requests_mock.post(
        LOGIN,
        status_code=403,
        json={"code": "UM1116", "message": "User is not allowed to hold multiple sessions"},
    )
    with pytest.raises(SessionConflictError) as refused:
        AutomationAnywhereHook().get_work_items(7, 1)
    assert "multiple_login" in str(refused.value) and "password" not in refused.value.summary.lower()
    assert isinstance(refused.value, AirflowFailException)


def test_sessions_that_keep_ending_each_other_stop_with_advice(requests_mock, use_connection):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(LOGIN, [{"json": {"token": make_token()}} for _ in range(10)])
    evicted = {"status_code": 401, "json": {"code": "UM1114", "message": "You are logged in elsewhere"}}
    requests_mock.post(LIST, [evicted, {"json": {"list": [item(1)]}}] * 5)
    hook = AutomationAnywhereHook()
    hook.get_work_items(7, 1)  # one eviction: logged in again, answered
    hook.get_work_items(7, 1)
    with pytest.raises(SessionConflictError) as conflict:
        hook.get_work_items(7, 1)
    message = str(conflict.value)
    assert "multiple_login" in message and "Allow multiple sessions" in message and "UM1114" in message
    assert "auth_type 'api_key'" not in message  # an API key does not bypass the setting
    assert logins(requests_mock) == 3


def test_a_hook_that_met_a_busy_spell_of_evictions_works_again_once_it_is_over(aa_emulator, monkeypatch, clock):
    """A poke-mode sensor's hook lives as long as its task: a conflict must not last as long."""
    aa_emulator.use_connection(monkeypatch)  # password, without multiple_login
    hook = AutomationAnywhereHook()
    hook.__dict__["session"] = ControlRoomSession(hook.settings, clock=clock)
    added = hook.add_work_items(20, [{"n": 1}])
    with pytest.raises(SessionConflictError):
        for _ in range(MAX_EVICTIONS):
            clock.now += 10
            aa_emulator.evict("bot_runner")
            hook.get_work_items(20, added[0]["id"])
    aa_emulator.counters.reset()
    assert hook.get_work_items(20, added[0]["id"])  # the ended token is not sent again
    clock.now += EVICTION_WINDOW
    aa_emulator.evict("bot_runner")  # one more, after a quiet spell: mended by one login
    assert hook.get_work_items(20, added[0]["id"])
    assert aa_emulator.counters.logins("bot_runner") == 2


def test_api_key_sessions_of_a_user_without_multiple_sessions_end_each_other_and_the_advice_names_the_setting(
    monkeypatch, clock
):
    """An API key does not bypass "Allow multiple sessions" (AA's 2024-08 multi-login user page)."""
    seed = load_seed()
    next(user for user in seed["users"] if user["username"] == "api_user")["allowMultipleLogin"] = False
    with ControlRoomEmulator(seed=seed) as emulator:
        emulator.use_connection(monkeypatch, auth_type="api_key")
        worker, triggerer = AutomationAnywhereHook(), AutomationAnywhereHook()
        for hook in (worker, triggerer):
            hook.__dict__["session"] = ControlRoomSession(hook.settings, clock=clock)
        (added,) = worker.add_work_items(20, [{"n": 1}])
        with pytest.raises(SessionConflictError) as conflict:
            for _ in range(MAX_EVICTIONS + 1):  # each one's login ends the other's session
                clock.now += 1
                triggerer.get_work_items(20, added["id"])
                worker.get_work_items(20, added["id"])
    message = str(conflict.value)
    assert "UM1114" in message and "'Allow multiple sessions'" in message
    assert "api_key" not in message and "multiple_login" not in message, message


# -- renewal timing on our clock --------------------------------------------------------


@pytest.mark.parametrize("skew", [-3600.0, -61.0, 0.0, 61.0, 3600.0])
def test_renewal_is_timed_from_receipt_whatever_the_control_rooms_clock(requests_mock, use_connection, clock, skew):
    """A Control Room clock ``skew`` seconds off ours: one login, renewals once per lifetime."""
    use_connection(login="jdoe", password=PASSWORD)
    control_room_now = lambda: clock.now + skew  # noqa: E731
    requests_mock.post(LOGIN, json=lambda request, context: {"token": make_token(1200, issued_at=control_room_now())})
    requests_mock.post(REFRESH, json=lambda request, context: {"token": make_token(1200, issued_at=control_room_now())})
    requests_mock.post(LIST, json={"list": [item(1)]})
    hook = hook_with_clock(clock)
    for _ in range(40 * 6):  # 40 minutes, a call every 10 s
        hook.get_work_items(7, 1)
        clock.now += 10
    refreshes = sum(1 for r in requests_mock.request_history if r.path == "/v2/authentication/token")
    assert logins(requests_mock) == 1
    assert refreshes == 2  # a 20-minute token renewed a minute before its end, twice in 40 minutes


def test_a_token_that_looks_expired_on_arrival_is_still_used_for_a_while():
    """Our clock an hour ahead must not make every call log in again."""
    token = make_token(1200, issued_at=1_000_000.0)
    times = token_times(token, now=1_003_600.0)
    assert times.renew_at - times.received_at == pytest.approx(1200 - 1 - 60)
    assert times.expires_at - times.received_at == pytest.approx(1200)
    # A pre-issued token is as old as it is, on the Control Room's clock (here an hour behind ours).
    pre_issued = token_times(token, now=1_003_600.0, control_room_now=1_000_600.0, issued_now=False)
    assert pre_issued.expires_at == pytest.approx(1_004_200.0)


# -- masking ----------------------------------------------------------------------------


def test_every_token_the_hook_receives_is_masked_renewed_ones_included(requests_mock, use_connection, clock):
    from airflow.sdk.log import redact

    use_connection(login="jdoe", password=PASSWORD)
    issued = [make_token(1200, issued_at=clock.now), make_token(1200, issued_at=clock.now + 1150)]
    requests_mock.post(LOGIN, json={"token": issued[0]})
    requests_mock.post(REFRESH, json={"token": issued[1]})
    requests_mock.post(LIST, json={"list": [item(1)]})
    hook = hook_with_clock(clock)
    hook.get_work_items(7, 1)
    clock.now += 1150
    hook.get_work_items(7, 1)
    assert requests_mock.last_request.headers["X-Authorization"] == issued[1]
    for token in issued:
        assert token not in redact(f"token={token}")


# -- input checked before any request ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"filter": "status eq FAILED"}, "filter"),
        ({"filter": [{"operator": "eq"}]}, "filter"),
        ({"filter": {"field": "status", "value": "FAILED"}}, "filter.operator"),
        ({"filter": {"operator": "or", "operands": "x"}}, "filter.operands"),
        ({"filter": {"operator": "and", "operands": [{"operator": "eq"}]}}, "filter.operands[0].field"),
        ({"sort": "createdOn"}, "sort"),
        ({"sort": [{"field": "id", "direction": "up"}]}, "sort[0]"),
    ],
)
def test_list_work_items_rejects_a_bad_filter_or_sort_at_the_call(requests_mock, password_conn, kwargs, named):
    hook = AutomationAnywhereHook()
    with pytest.raises(InvalidInputError) as invalid:
        hook.list_work_items(7, **kwargs)  # raised at the call, not on first iteration
    assert str(invalid.value).startswith(named)
    assert requests_mock.call_count == 0
