"""
How long the session believes a token lives, whatever the Control Room's clock and claims:
pre-issued tokens judged by the Control Room (its 401, or its exp on its own clock), tokens
without ``iat`` or with ``exp == iat``, floors on lifetimes, and logins bounded per minute.
"""

from __future__ import annotations

import jwt
import pytest

from airflow_provider_aa.control_room.auth import MIN_TOKEN_LIFETIME, token_times
from airflow_provider_aa.control_room.exchange import ApiRequest
from airflow_provider_aa.control_room.session import LOGIN_WINDOW, MAX_LOGINS
from tests.control_room.scripted import (
    START,
    Script,
    answer,
    expect,
    http_date,
    jwt_token,
    login,
    new_session,
    password_settings,
    run,
    token_settings,
)

READ = ApiRequest("POST", "/v3/wlm/queues/7/workitems/list", {"page": {"offset": 0, "length": 1}})
OK = {"list": []}
#: The Control Room's clock is this far behind ours.
BEHIND = 22 * 60.0


def claims_token(**claims: float) -> str:
    return jwt.encode({"sub": "jdoe", **claims}, "scripted-signing-key-of-32-bytes!", algorithm="HS256")


def call(token, *, date=None, status=200):
    headers = {"Date": http_date(date)} if date is not None else None
    return (expect(READ.method, READ.path, token=token), answer(status, OK, headers=headers))


def calls(session, clock, token, *, every, count, date_offset=None):
    """``count`` calls ``every`` seconds apart, all answered with ``token`` carried."""
    for _ in range(count):
        date = None if date_offset is None else clock.now + date_offset
        run(session.request_json(READ), Script([call(token, date=date)]), session=session, clock=clock)
        clock.advance(every)


# -- pre-issued tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("behind", [BEHIND, 3600.0])
def test_a_pre_issued_token_is_used_when_the_control_rooms_clock_is_far_behind_ours(clock, behind):
    token = jwt_token(iat=START - behind - 60)  # issued a minute ago on the Control Room's clock
    session = new_session(token_settings(token), clock)
    # A call every minute for 18 minutes: the token is fresh on the Control Room's clock.
    calls(session, clock, token, every=60, count=18, date_offset=-behind)


def test_an_opaque_pre_issued_token_is_used(clock):
    token = "opaque-pre-issued-token-0123456789"
    session = new_session(token_settings(token), clock)
    calls(session, clock, token, every=60, count=3)


# -- tokens without a usable iat -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "date_offset", "fresh_for"),
    [
        ({"exp": START - 3600 + 1200}, -3600.0, 1200 - 1 - 60),  # exp on the Control Room's clock (Date)
        ({"exp": START - 3600 + 1200}, None, 1200 - 1 - 60),  # no Date: the documented 20 minutes
        ({"exp": START - 3600, "iat": START - 3600}, -3600.0, 1200 - 1 - 60),  # exp == iat: 20 minutes
    ],
    ids=["no-iat", "no-iat-no-date", "exp-equals-iat"],
)
def test_a_token_without_a_usable_iat_is_kept_for_its_lifetime(clock, claims, date_offset, fresh_for):
    token = claims_token(**claims)
    session = new_session(password_settings(), clock)
    date = None if date_offset is None else START + date_offset
    script = Script([login(token, date=date), call(token)])
    run(session.request_json(READ), script, session=session, clock=clock)
    assert session.seconds_until_renewal() == pytest.approx(fresh_for, abs=1)


def test_a_lifetime_shorter_than_whole_seconds_tell_is_not_believed():
    times = token_times(claims_token(iat=START, exp=START + 1), START)
    assert times.expires_at - START == MIN_TOKEN_LIFETIME
    assert times.renew_at - START == MIN_TOKEN_LIFETIME / 2


# -- logins per minute ----------------------------------------------------------------------------


def test_a_session_logs_in_at_most_max_logins_times_a_minute_and_the_next_caller_waits(clock):
    """Tokens refused as soon as they are used: each call costs a login, but no more than MAX_LOGINS a minute."""
    session = new_session(password_settings(), clock)
    token = jwt_token()
    run(session.request_json(READ), Script([login(token), call(token)]), session=session, clock=clock)
    waits = []
    for _ in range(MAX_LOGINS):
        new = jwt_token()
        script = Script([call(token, status=401), login(new), call(new)])
        run(session.request_json(READ), script, session=session, clock=clock)
        waits.append(script.sleeps)
        token = new
        clock.advance(1)
    assert waits == [[]] * (MAX_LOGINS - 1) + [[LOGIN_WINDOW - (MAX_LOGINS - 1)]]
