"""
ControlRoomSession driven action by action against a scripted Control Room: logins, token
reuse and renewal, re-logins, evictions, retries, ambiguous outcomes, errors, secrets, clock.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    LoginRefusedError,
    SessionConflictError,
)
from airflow_provider_aa.control_room.exchange import ApiRequest
from airflow_provider_aa.control_room.session import EVICTION_WINDOW, MAX_EVICTIONS, REMEMBERED_TOKENS, RetryPolicy
from tests.control_room.scripted import (
    API_KEY,
    PASSWORD,
    START,
    USERNAME,
    Script,
    answer,
    api_key_settings,
    expect,
    http_date,
    jwt_token,
    login,
    lost,
    new_session,
    password_settings,
    refresh,
    run,
    sequence,
    token_settings,
)

READ = ApiRequest("POST", "/v3/wlm/queues/7/workitems/list", {"page": {"offset": 0, "length": 1}})
#: An add: must never be sent twice unless it provably never left.
ADD = ApiRequest("POST", "/v3/wlm/queues/7/workitems", {"workItems": [{"json": {"a": 1}}]}, replay_safe=False)
OK = {"list": []}
#: A 1200 s token is renewed 61 s before it expires: the 60 s margin and 1 s for whole-second claims.
RENEW_AFTER = 1139.0
EVICTED = answer(401, {"code": "UM1114", "message": "You are logged in elsewhere"})


def call(token, outcome=None, request=READ):
    """The scripted step of ``request`` carrying ``token``, answered with ``outcome`` (default: 200)."""
    return (expect(request.method, request.path, token=token), outcome or answer(200, OK))


def assert_no_secrets(error, *tokens):
    text = f"{error} {error!r} {error.args!r}"
    for secret in (PASSWORD, API_KEY, *tokens):
        assert secret not in text, "a secret is shown in the error"


# -- logging in per auth mode -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "body"),
    [
        (password_settings(), {"username": USERNAME, "password": PASSWORD}),
        (password_settings(multiple_login=True), {"username": USERNAME, "password": PASSWORD, "multipleLogin": True}),
        (api_key_settings(), {"username": USERNAME, "apiKey": API_KEY}),
    ],
    ids=["password", "password-multiple-login", "api-key"],
)
def test_the_login_body_follows_the_auth_mode_and_the_call_carries_its_token(clock, settings, body):
    session = new_session(settings, clock)
    token = jwt_token()
    script = Script(
        [
            (
                expect("POST", "/v2/authentication", json=body, headers={"X-Authorization": None}),
                answer(200, {"token": token}),
            ),
            call(token),
        ]
    )

    assert run(session.request_json(READ), script, session=session, clock=clock) == OK
    assert script.kinds == ["authenticate", "send", "mask", "send"]


def test_a_pre_issued_token_is_used_without_any_login(clock):
    token = jwt_token(iat=START - 60)  # issued a minute ago, 19 minutes left
    session = new_session(token_settings(token), clock)
    script = Script([call(token)])

    assert run(session.request_json(READ), script, session=session, clock=clock) == OK
    assert script.kinds == ["authenticate", "mask", "send"]


def test_a_pre_issued_token_the_date_header_shows_close_to_expiry_is_refreshed_before_the_next_call(clock):
    old = jwt_token(iat=START - 1150)  # 50 s left on the Control Room's clock: inside the renewal margin
    new = jwt_token()
    session = new_session(token_settings(old), clock)
    first = Script([call(old, answer(200, OK, headers={"Date": http_date(START)}))])
    run(session.request_json(READ), first, session=session, clock=clock)

    second = Script([refresh(old, new), call(new)])
    run(session.request_json(READ), second, session=session, clock=clock)
    assert first.masks + second.masks == [old, new]


def test_an_expired_pre_issued_token_is_told_by_the_control_rooms_401(clock):
    token = jwt_token(iat=START - 2000)
    session = new_session(token_settings(token), clock)
    script = Script([call(token, answer(401, {"code": "UM1103", "message": "Token expired"}))])

    with pytest.raises(LoginRefusedError, match="pre-issued token was rejected by the Control Room") as refused:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert_no_secrets(refused.value, token)


def test_a_pre_issued_token_past_its_exp_on_the_control_rooms_clock_fails_naming_what_was_checked(clock):
    token = jwt_token(iat=START - 1100)  # 100 s left
    session = new_session(token_settings(token), clock)
    script = Script([call(token, answer(200, OK, headers={"Date": http_date(START)}))])
    run(session.request_json(READ), script, session=session, clock=clock)

    clock.advance(200)
    with pytest.raises(LoginRefusedError, match="has expired \\(judged by its exp against the Control Room's clock"):
        run(session.request_json(READ), Script(), session=session, clock=clock)


def test_a_pre_issued_token_the_control_room_rejects_is_not_replaced_by_a_login(clock):
    token = jwt_token()
    session = new_session(token_settings(token), clock)
    script = Script([call(token, answer(401, {"code": "UM1103", "message": "invalid token"}))])

    with pytest.raises(LoginRefusedError, match="pre-issued token was rejected by the Control Room") as refused:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert_no_secrets(refused.value, token)


def test_v1_is_used_when_v2_answers_404_and_remembered_for_later_logins_and_renewals(clock):
    session = new_session(password_settings(), clock)
    first, second, third = jwt_token(), jwt_token(), jwt_token()
    script = Script(
        [
            (expect("POST", "/v2/authentication", body={"password": PASSWORD}), answer(404, {"message": "Not Found"})),
            login(first, version="v1", body={"username": USERNAME, "password": PASSWORD}),
            call(first, answer(401, {"code": "UM1103"})),
            login(second, version="v1"),  # straight to v1: the 404 is remembered
            call(second),
        ]
    )
    run(session.request_json(READ), script, session=session, clock=clock)

    clock.advance(RENEW_AFTER)
    renewal = Script([refresh(second, third, version="v1"), call(third)])
    run(session.request_json(READ), renewal, session=session, clock=clock)


def test_a_404_from_every_login_version_is_an_error(clock):
    session = new_session(password_settings(), clock)
    script = Script(
        [
            (expect("POST", "/v2/authentication"), answer(404, {"message": "Not Found"})),
            (expect("POST", "/v1/authentication"), answer(404, {"message": "Not Found"})),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.path) == (404, "/v1/authentication")


# -- reusing and renewing the token -------------------------------------------------------------


def test_one_login_serves_many_calls(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    script = Script([login(token), call(token), call(token), call(token)])

    results = run(sequence(*(session.request_json(READ) for _ in range(3))), script, session=session, clock=clock)

    assert results == [OK, OK, OK]
    assert [request.path for request in script.sent].count("/v2/authentication") == 1


def test_the_token_is_refreshed_once_its_renewal_time_has_come(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token(iat=START + RENEW_AFTER)
    assert session.seconds_until_renewal() is None
    run(session.request_json(READ), Script([login(old), call(old)]), session=session, clock=clock)
    assert session.seconds_until_renewal() == RENEW_AFTER

    clock.advance(RENEW_AFTER - 1)
    run(session.request_json(READ), Script([call(old)]), session=session, clock=clock)  # still fresh

    clock.advance(1)
    renewal = Script([refresh(old, new), call(new)])
    run(session.request_json(READ), renewal, session=session, clock=clock)
    assert renewal.masks == [new]
    assert session.seconds_until_renewal() == RENEW_AFTER


def test_a_refresh_the_control_room_refuses_leads_to_a_login(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    run(session.request_json(READ), Script([login(old), call(old)]), session=session, clock=clock)

    clock.advance(RENEW_AFTER)
    script = Script(
        [
            (expect("POST", "/v2/authentication/token", json={"token": old}), answer(401, {"code": "UM1110"})),
            login(new, body={"password": PASSWORD}),
            call(new),
        ]
    )
    run(session.request_json(READ), script, session=session, clock=clock)


def test_an_expired_token_is_replaced_by_a_login_without_trying_a_refresh(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    run(session.request_json(READ), Script([login(old), call(old)]), session=session, clock=clock)

    clock.advance(1200)
    run(session.request_json(READ), Script([login(new), call(new)]), session=session, clock=clock)


def test_renew_does_nothing_while_the_token_is_fresh_and_refreshes_when_due(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    run(session.request_json(READ), Script([login(old), call(old)]), session=session, clock=clock)

    run(session.renew(), Script(), session=session, clock=clock)
    clock.advance(RENEW_AFTER)
    run(session.renew(), Script([refresh(old, new)]), session=session, clock=clock)


# -- 401 on a call ------------------------------------------------------------------------------


def test_a_401_leads_to_one_login_and_one_resend(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    script = Script([login(old), call(old, answer(401, {"code": "UM1103"})), login(new), call(new)])

    assert run(session.request_json(READ), script, session=session, clock=clock) == OK
    assert ("authenticate", old) in script.log  # the re-login names the token that was refused


def test_a_second_401_is_an_error_with_the_status_after_exactly_one_relogin(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    refused = answer(401, {"code": "UM1105", "message": "Permission revoked"})
    script = Script([login(old), call(old, refused), login(new), call(new, refused)])

    with pytest.raises(AutomationAnywhereError, match="again after a fresh login") as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code, failed.value.message) == (401, "UM1105", "Permission revoked")
    assert not isinstance(failed.value, LoginRefusedError)
    assert_no_secrets(failed.value, old, new)


def test_a_caller_whose_rejected_token_was_already_replaced_does_not_log_in_again(clock):
    """Two operations share a session: the second to meet a 401 finds the first one's new token."""
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    run(
        session.request_json(READ),
        Script([login(old), call(old, answer(401, {})), login(new), call(new)]),
        session=session,
        clock=clock,
    )

    run(session.authenticate(old), Script(), session=session, clock=clock)  # nothing sent


# -- evictions and multiple logins --------------------------------------------------------------


def test_an_eviction_leads_to_a_login_and_the_call_is_answered(clock):
    session = new_session(password_settings(), clock)
    old, new = jwt_token(), jwt_token()
    script = Script([login(old), call(old, EVICTED), login(new), call(new)])
    assert run(session.request_json(READ), script, session=session, clock=clock) == OK


def test_sessions_evicted_max_evictions_times_stop_with_a_session_conflict(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    for _ in range(MAX_EVICTIONS - 1):
        evicted, token = token, jwt_token()
        script = Script([call(evicted, EVICTED), login(token), call(token)])
        run(session.request_json(READ), script, session=session, clock=clock)

    with pytest.raises(SessionConflictError) as conflict:
        run(session.request_json(READ), Script([call(token, EVICTED)]), session=session, clock=clock)  # no login

    message = str(conflict.value)
    assert f"{MAX_EVICTIONS} times" in message and "multiple_login" in message and "Allow multiple sessions" in message
    assert (conflict.value.status, conflict.value.code) == (401, "UM1114")


def evicted_and_logged_in_again(session, clock, token):
    """A call meets an eviction of ``token``, logs in and is answered; returns the new token."""
    evicted, token = token, jwt_token(iat=clock.now)
    script = Script([call(evicted, EVICTED), login(token), call(token)])
    assert run(session.request_json(READ), script, session=session, clock=clock) == OK
    return token


def evicted_until_conflict(session, clock, token):
    """Evictions one after another until the session gives up; returns the conflict."""
    for _ in range(MAX_EVICTIONS - 1):
        token = evicted_and_logged_in_again(session, clock, token)
        clock.advance(10)
    with pytest.raises(SessionConflictError) as conflict:
        run(session.request_json(READ), Script([call(token, EVICTED)]), session=session, clock=clock)
    return conflict.value


def test_after_a_session_conflict_the_next_call_logs_in_afresh_instead_of_resending_the_ended_token(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    evicted_until_conflict(session, clock, token)

    fresh = jwt_token(iat=clock.now)
    assert run(session.request_json(READ), Script([login(fresh), call(fresh)]), session=session, clock=clock) == OK


def test_evictions_older_than_the_window_are_forgotten_so_a_shared_session_recovers(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    evicted_until_conflict(session, clock, token)
    token = jwt_token(iat=clock.now)
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)

    clock.advance(EVICTION_WINDOW)  # quiet: nobody else logs in as the user meanwhile
    for _ in range(MAX_EVICTIONS - 1):  # each eviction alone is mended by one login
        token = evicted_and_logged_in_again(session, clock, token)


def test_a_session_renewed_for_months_masks_its_recent_tokens_and_keeps_no_more(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token(iat=clock.now)
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    for _ in range(3 * REMEMBERED_TOKENS):
        clock.advance(RENEW_AFTER + 1)
        old, token = token, jwt_token(iat=clock.now)
        run(session.request_json(READ), Script([refresh(old, token), call(token)]), session=session, clock=clock)
    secrets = session.secrets()
    assert token in secrets and old in secrets
    assert len(secrets) == len(session.settings.secrets) + REMEMBERED_TOKENS


def test_one_eviction_per_task_run_of_a_single_session_connection_never_stops_the_session(clock):
    """Each run's worker logs in once and ends the triggerer's session: a login each, no conflict."""
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    for _ in range(10):
        clock.advance(EVICTION_WINDOW / (MAX_EVICTIONS - 1) + 1)
        token = evicted_and_logged_in_again(session, clock, token)


@pytest.mark.parametrize(
    ("settings", "named", "not_named"),
    [
        # An API key does not bypass "Allow multiple sessions": never offered as a way out.
        (password_settings(), ["multiple_login", "Allow multiple sessions"], ["auth_type 'api_key'"]),
        (api_key_settings(), ["Allow multiple sessions"], ["multiple_login", "auth_type 'api_key'"]),
        (password_settings(multiple_login=True), ["Allow multiple sessions"], ["auth_type 'api_key'"]),
    ],
    ids=["password", "api-key", "password-multiple-login"],
)
def test_the_eviction_advice_fits_the_auth_mode(clock, settings, named, not_named):
    session = new_session(settings, clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    message = str(evicted_until_conflict(session, clock, token))
    assert all(name in message for name in named), message
    assert not any(name in message for name in not_named), message


def test_a_401_that_is_no_eviction_is_not_counted_as_one(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    for _ in range(MAX_EVICTIONS + 1):
        expired, token = token, jwt_token()
        script = Script([call(expired, answer(401, {"code": "UM1110"})), login(token), call(token)])
        run(session.request_json(READ), script, session=session, clock=clock)


def test_a_multiple_login_the_user_may_not_hold_names_the_setting_and_is_not_tried_again(clock):
    session = new_session(password_settings(multiple_login=True), clock)
    script = Script(
        [
            (
                expect("POST", "/v2/authentication", body={"multipleLogin": True}),
                answer(403, {"code": "UM1116", "message": "User is not allowed to hold multiple sessions"}),
            )
        ]
    )
    with pytest.raises(SessionConflictError, match="multiple_login") as conflict:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert (conflict.value.status, conflict.value.code) == (403, "UM1116")

    with pytest.raises(SessionConflictError) as again:
        run(session.request_json(READ), Script(), session=session, clock=clock)
    assert again.value is conflict.value


# -- refused logins -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(
    ("settings", "secret_name"),
    [(password_settings(), "password"), (api_key_settings(), "API key")],
    ids=["password", "api-key"],
)
def test_a_refused_login_fails_for_good_and_is_never_tried_again(clock, status, settings, secret_name):
    session = new_session(settings, clock)
    script = Script([(expect("POST", "/v2/authentication"), answer(status, {"code": "UM1101", "message": "bad"}))])

    with pytest.raises(LoginRefusedError, match=f"check the {secret_name}") as refused:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert (refused.value.status, refused.value.code, refused.value.path) == (status, "UM1101", "/v2/authentication")
    assert_no_secrets(refused.value)

    for operation in (session.request_json(READ), session.authenticate(None), session.renew()):
        with pytest.raises(LoginRefusedError) as again:
            run(operation, Script(), session=session, clock=clock)  # nothing sent
        assert again.value is refused.value


def test_a_refused_relogin_after_a_401_is_remembered_too(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    refused_login = (expect("POST", "/v2/authentication"), answer(401, {"code": "UM1101"}))
    script = Script([login(token), call(token, answer(401, {})), refused_login])
    with pytest.raises(LoginRefusedError) as refused:
        run(session.request_json(READ), script, session=session, clock=clock)

    # The refused token is still held, so the next call tries it once; no login is attempted.
    with pytest.raises(LoginRefusedError) as again:
        run(session.request_json(READ), Script([call(token, answer(401, {}))]), session=session, clock=clock)
    assert again.value is refused.value


# -- retries ------------------------------------------------------------------------------------


def logged_in(clock, retry=None):
    """A session holding a fresh token, and that token."""
    session = new_session(password_settings(), clock, retry)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    return session, token


@pytest.mark.parametrize("request_", [READ, ADD], ids=["read", "add"])
def test_a_request_that_could_not_connect_is_sent_again_after_a_backoff(clock, request_):
    session, token = logged_in(clock)
    script = Script([call(token, lost("connect"), request_), call(token, request=request_)])

    assert run(session.request_json(request_), script, session=session, clock=clock) == OK
    assert script.kinds == ["send", "sleep", "send"] and script.sleeps == [1.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_to_a_read_is_retried(clock, status):
    session, token = logged_in(clock)
    script = Script([call(token, answer(status, raw=b"busy")), call(token)])
    assert run(session.request_json(READ), script, session=session, clock=clock) == OK
    assert script.sleeps == [1.0]


@pytest.mark.parametrize("kind", ["timeout", "dropped"])
def test_a_read_whose_answer_was_lost_is_sent_again(clock, kind):
    session, token = logged_in(clock)
    script = Script([call(token, lost(kind)), call(token)])
    assert run(session.request_json(READ), script, session=session, clock=clock) == OK


@pytest.mark.parametrize("request_", [READ, ADD], ids=["read", "add"])
def test_429_waits_as_long_as_retry_after_says_then_resends_even_an_add(clock, request_):
    """A 429 means the request was not processed: resending an add is safe."""
    session, token = logged_in(clock)
    too_many = answer(429, {"message": "slow down"}, headers={"Retry-After": "7"})
    script = Script([call(token, too_many, request_), call(token, request=request_)])

    run(session.request_json(request_), script, session=session, clock=clock)
    assert script.sleeps == [7.0]


def test_429_without_retry_after_backs_off_exponentially(clock):
    session, token = logged_in(clock)
    too_many = answer(429, {})
    script = Script([call(token, too_many), call(token, too_many), call(token)])
    run(session.request_json(READ), script, session=session, clock=clock)
    assert script.sleeps == [1.0, 2.0]


def test_a_retry_after_longer_than_the_policy_allows_fails_at_once(clock):
    session, token = logged_in(clock, RetryPolicy(max_retry_after=300))
    script = Script([call(token, answer(429, {}, headers={"Retry-After": "301"}))])

    with pytest.raises(AutomationAnywhereError, match="giving up after HTTP 429") as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert failed.value.status == 429 and script.sleeps == []


def test_retries_stop_after_max_attempts_with_the_last_status(clock):
    session, token = logged_in(clock)  # the default policy: 5 attempts, 1 s doubling
    busy = answer(503, {"code": "GW", "message": "Service Unavailable"})
    script = Script([call(token, busy) for _ in range(5)])

    with pytest.raises(AutomationAnywhereError, match=r"failed 5 time\(s\); giving up after HTTP 503") as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert script.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert (failed.value.status, failed.value.code, failed.value.method) == (503, "GW", "POST")
    assert_no_secrets(failed.value, token)


def test_the_backoff_is_capped_and_the_attempts_bounded_by_the_policy(clock):
    session, token = logged_in(clock, RetryPolicy(max_attempts=4, initial_delay=10, max_delay=15))
    script = Script([call(token, lost("connect")) for _ in range(4)])

    with pytest.raises(AutomationAnywhereError, match=r"failed 4 time\(s\)") as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert script.sleeps == [10.0, 15.0, 15.0]
    assert failed.value.status is None and not isinstance(failed.value, AmbiguousOutcomeError)


def test_a_login_is_retried_like_any_call(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    script = Script([(expect("POST", "/v2/authentication"), answer(503, raw=b"")), login(token), call(token)])
    run(session.request_json(READ), script, session=session, clock=clock)
    assert script.sleeps == [1.0]


@pytest.mark.parametrize(
    "outcome",
    [lost("timeout"), lost("dropped"), answer(500, {}), answer(502, {}), answer(503, {}), answer(504, {})],
    ids=["timeout", "dropped", "500", "502", "503", "504"],
)
def test_an_add_without_a_clear_answer_is_ambiguous_and_not_sent_again(clock, outcome):
    session, token = logged_in(clock)
    script = Script([(expect("POST", ADD.path, token=token, replay_safe=False), outcome)])

    with pytest.raises(AmbiguousOutcomeError, match="not re-sent") as ambiguous:
        run(session.request_json(ADD), script, session=session, clock=clock)
    assert (ambiguous.value.method, ambiguous.value.path) == ("POST", ADD.path)
    assert script.sleeps == []
    assert_no_secrets(ambiguous.value, token)


def test_a_500_to_a_read_is_an_error_and_not_retried(clock):
    session, token = logged_in(clock)
    script = Script([call(token, answer(500, {"code": "E500", "message": "Internal"}))])
    with pytest.raises(AutomationAnywhereError) as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code) == (500, "E500")
    assert not isinstance(failed.value, AmbiguousOutcomeError)


@pytest.mark.parametrize("request_", [READ, ADD], ids=["read", "add"])
def test_an_other_transport_failure_is_not_retried_and_not_called_ambiguous(clock, request_):
    session, token = logged_in(clock)
    script = Script([call(token, lost("other"), request_)])
    with pytest.raises(AutomationAnywhereError, match="scripted other failure") as failed:
        run(session.request_json(request_), script, session=session, clock=clock)
    assert not isinstance(failed.value, AmbiguousOutcomeError)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "summary"),
    [
        (400, "rejected the request as invalid"),
        (403, "lacks the permission"),
        (404, "does not know this resource"),
        (409, "reported a conflict"),
        (422, "call failed"),
    ],
)
def test_an_error_answer_carries_the_status_and_the_control_rooms_code_message_and_details(clock, status, summary):
    session, token = logged_in(clock)
    body = {"code": "WLM_QUEUE_NOT_FOUND", "message": "Queue not found", "details": {"queueId": 7}}
    script = Script([call(token, answer(status, body))])

    with pytest.raises(AutomationAnywhereError, match=summary) as failed:
        run(session.request_json(READ), script, session=session, clock=clock)

    error = failed.value
    assert (error.status, error.method, error.path) == (status, "POST", READ.path)
    assert (error.code, error.message, error.details) == ("WLM_QUEUE_NOT_FOUND", "Queue not found", '{"queueId": 7}')
    assert f"-> HTTP {status}]" in str(error) and "code='WLM_QUEUE_NOT_FOUND'" in str(error)


def test_an_answer_that_is_not_json_is_an_error(clock):
    session, token = logged_in(clock)
    script = Script([call(token, answer(200, raw=b'{"list": [1, 2'))])
    with pytest.raises(AutomationAnywhereError, match="malformed JSON"):
        run(session.request_json(READ), script, session=session, clock=clock)


def test_an_empty_answer_is_none(clock):
    session, token = logged_in(clock)
    assert run(session.request_json(READ), Script([call(token, answer(204))]), session=session, clock=clock) is None


# -- secrets ------------------------------------------------------------------------------------


def test_every_token_is_masked_before_any_request_carries_it(clock):
    """Login, re-login after a 401, refresh, logout: each new token is announced before its first use."""
    session = new_session(password_settings(), clock)
    first, second, third = jwt_token(), jwt_token(), jwt_token()
    logout = (expect("POST", "/v1/authentication/logout", json={"token": third}, token=third), answer(200, {}))
    script = Script(
        [
            login(first),
            call(first, answer(401, {})),
            login(second),
            call(second),
            refresh(second, third),
            call(third),
            logout,
        ]
    )

    def work():
        yield from session.request_json(READ)
        clock.advance(RENEW_AFTER)
        yield from session.request_json(READ)
        yield from session.logout()

    run(work(), script, session=session, clock=clock)

    assert script.masks == [first, second, third]
    script.assert_masked_before_use()


def test_a_truncated_login_answer_does_not_show_the_token(clock):
    session = new_session(password_settings(), clock)
    token = jwt_token()
    truncated = f'{{"token": "{token}", "user": {{"id": 1'.encode()
    script = Script([(expect("POST", "/v2/authentication"), answer(200, raw=truncated))])

    with pytest.raises(AutomationAnywhereError) as failed:
        run(session.request_json(READ), script, session=session, clock=clock)
    assert_no_secrets(failed.value, token)


# -- the Control Room's clock -------------------------------------------------------------------


def test_the_date_header_tells_the_control_rooms_clock(clock):
    session = new_session(password_settings(), clock)
    assert session.control_room_time(START) is None  # no answer yet

    token = jwt_token()
    script = Script([login(token, date=START + 125), call(token)])
    run(session.request_json(READ), script, session=session, clock=clock)
    assert session.control_room_time(START) == START + 125
    assert session.control_room_time(START - 3600) == START - 3600 + 125

    clock.advance(10)
    behind = answer(200, OK, headers={"Date": http_date(START + 10 - 30)})
    run(session.request_json(READ), Script([call(token, behind)]), session=session, clock=clock)
    assert session.control_room_time(START) == START - 30

    unreadable = answer(200, OK, headers={"Date": "yesterday"})
    run(session.request_json(READ), Script([call(token, unreadable)]), session=session, clock=clock)
    assert session.control_room_time(START) == START - 30  # kept


@pytest.mark.parametrize(
    ("date", "retry_after"),
    [
        (None, http_date(START + 20)),  # no Date yet: read on our clock
        (http_date(START + 3600), http_date(START + 3600 + 20)),  # a Control Room clock an hour ahead
        (http_date(START - 3600), http_date(START - 3600 + 20)),  # and an hour behind
    ],
)
def test_a_retry_after_date_is_read_on_the_control_rooms_clock(clock, date, retry_after):
    session, token = logged_in(clock)
    headers = {"Retry-After": retry_after} | ({"Date": date} if date else {})
    script = Script([call(token, answer(429, {}, headers=headers)), call(token)])

    run(session.request_json(READ), script, session=session, clock=clock)
    assert script.sleeps == [20.0]


# -- logging out --------------------------------------------------------------------------------


def test_logout_ends_the_session_this_provider_opened_and_the_next_call_logs_in(clock):
    session, token = logged_in(clock)
    script = Script([(expect("POST", "/v1/authentication/logout", json={"token": token}, token=token), answer(204))])
    run(session.logout(), script, session=session, clock=clock)

    fresh = jwt_token()
    run(session.request_json(READ), Script([login(fresh), call(fresh)]), session=session, clock=clock)


def test_a_logout_the_control_room_refuses_is_not_an_error(clock):
    session, _ = logged_in(clock)
    script = Script([(expect("POST", "/v1/authentication/logout"), answer(401, {"code": "UM1103"}))])
    assert run(session.logout(), script, session=session, clock=clock) is None


def test_no_logout_before_a_login(clock):
    run(new_session(password_settings(), clock).logout(), Script(), clock=clock)


def test_a_pre_issued_token_is_never_logged_out(clock):
    token = jwt_token()
    session = new_session(token_settings(token), clock)
    run(session.request_json(READ), Script([call(token)]), session=session, clock=clock)

    run(session.logout(), Script(), session=session, clock=clock)
