"""Any Control Room API: the checks before any request, and the call through a real session."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.any_api import any_request, call
from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError, AutomationAnywhereError, InvalidInputError
from tests.control_room.scripted import Script, answer, expect, login, lost, run

# -- what is sent -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "replay_safe", "expected"),
    [
        ("get", None, True),
        ("PUT", None, True),
        ("Delete", None, True),
        ("POST", None, False),
        ("patch", None, False),
        ("POST", True, True),
        ("GET", False, False),
    ],
)
def test_the_method_is_upper_case_and_decides_replay_safety_unless_told(method, replay_safe, expected):
    request = any_request(method, "/v1/x", replay_safe=replay_safe)
    assert request.method == method.upper()
    assert request.replay_safe is expected


@pytest.mark.parametrize("path", ["v3/wlm/queues/list", "/v3/wlm/queues/list"])
def test_the_path_gets_one_leading_slash(path):
    assert any_request("POST", path).path == "/v3/wlm/queues/list"


def test_params_become_a_percent_encoded_query_string():
    request = any_request(
        "GET",
        "/v1/things",
        params={"name": "a b&c=d/é", "n": 5, "ratio": 0.5, "flag": True, "off": False, "id": [1, "2"]},
    )
    assert request.path == "/v1/things?name=a%20b%26c%3Dd%2F%C3%A9&n=5&ratio=0.5&flag=true&off=false&id=1&id=2"
    assert any_request("GET", "/v1/things", params={}).path == "/v1/things"


def test_the_body_is_sent_as_given():
    body = {"filter": {"operator": "eq", "field": "name", "value": "x"}, "page": {"offset": 0, "length": 5}}
    assert any_request("POST", "/v1/x/list", json=body).json == body


# -- what is refused before any request ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("https://evil.example/v1/x", "scheme or a host"),
        ("//evil.example/v1/x", "scheme or a host"),
        ("javascript:alert(1)", "scheme or a host"),
        ("/v1/../v2/x", "'..'"),
        ("/v1/./x", "'..'"),
        ("/v1/%2e%2e/x", "'..'"),
        ("/v1/%2E%2E%2Fetc", "'..'"),
        ("/v1/%252e%252e/x", "'..'"),
        ("/v1//x", "empty segment"),
        ("/v1/x?a=b", "params"),
        ("/v1/x#top", "params"),
        ("/v1/a b", "whitespace"),
        ("/v1/x\n", "whitespace"),
        ("/v1/x\x00", "control"),
        ("/v1\\x", "backslash"),
        ("/v2/authentication", "authentication API"),
        ("v1/authentication/token", "authentication API"),
        ("/V2/Authentication/logout", "authentication API"),
        ("/v1/%61uthentication", "authentication API"),
        # What a lenient server may read as the authentication API (suffix patterns, trimming).
        ("/v2/authentication.json", "authentication API"),
        ("/v2/authentication%20", "authentication API"),
        ("/v2/authentication%c2%a0", "authentication API"),
        ("/V2/AUTHENTICATION.JSON", "authentication API"),
        ("/v2/authentication%2ejson", "authentication API"),
        ("/v2/authentication%252Ejson", "authentication API"),
        ("/v1/authentication%2Ftoken", "authentication API"),
        ("/v2/authentication-token", "authentication API"),
        ("/v2%20/authentication", "authentication API"),
        ("/v2/%20authentication", "authentication API"),
        ("/v2/authentication%EF%BC%8Ejson", "authentication API"),  # a fullwidth dot
        # Java servers read '..;' as '..' and drop ';...' from a segment.
        ("/v3/..;/v1/authentication", "';'"),
        ("/v1/authentication;x", "';'"),
        ("/v2;/authentication/token", "';'"),
        ("/v3/wlm/%3b/x", "encodes ';'"),
        ("/v1/x%00", "encodes ';' or control"),
        ("/v1/\uff0e\uff0e/x", "non-ASCII"),
        ("/v1/%EF%BC%8E%EF%BC%8E/x", "'..'"),  # fullwidth dots, percent-encoded
    ],
)
def test_a_path_that_could_leave_the_control_room_or_reach_tokens_is_refused(path, reason):
    with pytest.raises(InvalidInputError, match="path") as refused:
        any_request("GET", path)
    assert reason in str(refused.value)


@pytest.mark.parametrize("path", [None, "", 7, b"/v1/x"])
def test_a_path_must_be_text(path):
    with pytest.raises(InvalidInputError, match="path must be a non-empty string"):
        any_request("GET", path)


def test_paths_that_merely_look_alike_pass():
    assert any_request("GET", "/v1/authentications/x").path == "/v1/authentications/x"
    assert any_request("GET", "/v1/files/..x/a.b").path == "/v1/files/..x/a.b"
    assert any_request("GET", "/v1/x/").path == "/v1/x/"


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "CONNECT", "", None, 1])
def test_other_methods_are_refused(method):
    with pytest.raises(InvalidInputError, match="method must be one of GET, POST, PUT, PATCH, DELETE"):
        any_request(method, "/v1/x")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["a", 1], "params must be a mapping"),
        ({"": 1}, "non-empty string"),
        ({1: 1}, "non-empty string"),
        ({"a": None}, "params['a'] must be a str"),
        ({"a": {"b": 1}}, "params['a'] must be a str"),
        ({"a": [1, [2]]}, "params['a'] must be a str"),
        ({"a": float("nan")}, "finite"),
    ],
)
def test_bad_params_are_refused(params, message):
    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        any_request("GET", "/v1/x", params=params)


@pytest.mark.parametrize("body", [{"a": object()}, {"a": float("inf")}, {1j: 1}, {"a": {1, 2}}])
def test_a_body_that_is_not_json_is_refused(body):
    with pytest.raises(InvalidInputError, match="json must be JSON-serialisable"):
        any_request("POST", "/v1/x", json=body)


def test_replay_safe_must_be_a_bool_or_none():
    with pytest.raises(InvalidInputError, match="replay_safe"):
        any_request("POST", "/v1/x", replay_safe="yes")


# -- the call -------------------------------------------------------------------------------------


def test_the_answer_is_the_decoded_json_and_an_empty_one_is_none(session, clock, token):
    script = Script(
        [
            login(token),
            (expect("GET", "/v1/x?a=1", token=token), answer(200, {"list": [1, 2]})),
            (expect("DELETE", "/v1/x/7", token=token), answer(204)),
        ]
    )

    def both():
        first = yield from call(session, any_request("GET", "/v1/x", params={"a": 1}))
        second = yield from call(session, any_request("DELETE", "/v1/x/7"))
        return first, second

    assert run(both(), script, session=session, clock=clock) == ({"list": [1, 2]}, None)


def test_a_post_without_a_clear_answer_is_not_sent_again(session, clock, token):
    script = Script([login(token), (expect("POST", "/v1/things?dry=false", replay_safe=False), lost("timeout"))])

    with pytest.raises(AmbiguousOutcomeError, match="may or may not have processed it") as failed:
        run(call(session, any_request("POST", "/v1/things", params={"dry": False})), script, session=session)

    assert failed.value.path == "/v1/things"
    assert "dry" not in str(failed.value)  # the query never reaches an error


def test_a_post_marked_replay_safe_is_sent_again(session, clock, token):
    request = any_request("POST", "/v1/things/list", json={}, replay_safe=True)
    script = Script(
        [
            login(token),
            (expect("POST", "/v1/things/list", replay_safe=True), lost("timeout")),
            (expect("POST", "/v1/things/list"), answer(200, {"list": []})),
        ]
    )
    assert run(call(session, request), script, session=session, clock=clock) == {"list": []}
    assert script.sleeps == [1.0]


def test_a_refusal_carries_the_control_rooms_fields_and_no_query(session, clock, token):
    refusal = {"code": "UM_ACCESS_DENIED", "message": "No permission", "details": "needs a role"}
    script = Script([login(token), (expect("GET", "/v1/secret?page=2"), answer(403, refusal))])

    with pytest.raises(AutomationAnywhereError) as failed:
        run(call(session, any_request("GET", "/v1/secret", params={"page": 2})), script, session=session)

    error = failed.value
    assert (error.status, error.code, error.message, error.details) == (403, *refusal.values())
    assert (error.method, error.path) == ("GET", "/v1/secret")
    assert "page=2" not in str(error)
    assert type(error) is AutomationAnywhereError


def test_an_answer_that_is_not_json_is_an_error(session, clock, token):
    script = Script([login(token), (expect("GET", "/v1/file"), answer(200, raw=b"%PDF-1.7 not json"))])
    with pytest.raises(AutomationAnywhereError, match="malformed JSON"):
        run(call(session, any_request("GET", "/v1/file")), script, session=session)
