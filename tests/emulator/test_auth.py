"""Login, sessions, refresh, validate and logout."""

from __future__ import annotations

import jwt
import pytest

from automation_anywhere_emulator import ControlRoomEmulator
from automation_anywhere_emulator.config import load_seed
from tests.emulator.conftest import API_KEY_USER, PASSWORD_USER, SINGLE_USER, Client

QUEUE = "/v3/wlm/queues/20"


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("credentials", [PASSWORD_USER, API_KEY_USER], ids=["password", "api_key"])
def test_login_returns_token_and_user(aa_emulator, version, credentials):
    client = Client(aa_emulator.url)
    response = client.login(credentials, version=version)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == credentials["username"]
    assert isinstance(body["user"]["id"], int)
    assert "password" not in body["user"] and "apiKey" not in body["user"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == str(body["user"]["id"])
    assert claims["exp"] - claims["iat"] >= 1200
    assert {"sid", "jti"} <= claims.keys()
    assert client.call("GET", QUEUE).status_code == 200
    assert aa_emulator.counters.logins(credentials["username"]) == 1


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "bot_runner", "password": "wrong"},
        {"username": "nobody", "password": "Emulator-Passw0rd!"},
        {"username": "api_user", "apiKey": "EMUAPIKEY0" + "x" * 30},
        {"username": "bot_runner", "apiKey": "Emulator-Passw0rd!"},  # user without an API key
    ],
)
def test_bad_credentials_are_401_um1101(aa_emulator, credentials):
    response = Client(aa_emulator.url).login(credentials)
    assert response.status_code == 401
    assert response.json()["code"] == "UM1101"
    assert set(response.json()) == {"code", "message", "details"}
    assert aa_emulator.counters.logins() == 0


@pytest.mark.parametrize(
    "body", [[], {"password": "x"}, {"username": "bot_runner"}, {**PASSWORD_USER, "multipleLogin": "yes"}]
)
def test_malformed_login_is_400(aa_emulator, body):
    client = Client(aa_emulator.url)
    assert client.call("POST", "/v2/authentication", json=body).status_code == 400


def test_disabled_auth_versions_answer_404(aa_emulator):
    client = Client(aa_emulator.url)
    aa_emulator.configure(auth_v1_enabled=False)
    response = client.login(version=1)
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert client.login(version=2).status_code == 200
    assert client.call("POST", "/v1/authentication/token", json={"token": client.token}).status_code == 404
    aa_emulator.configure(auth_v1_enabled=True, auth_v2_enabled=False)
    assert client.login(version=2).status_code == 404
    assert client.call("POST", "/v2/authentication/token", json={"token": client.token}).status_code == 404
    assert client.login(version=1).status_code == 200


def test_calls_need_x_authorization(aa_emulator):
    client = Client(aa_emulator.url)
    missing = client.call("GET", QUEUE)
    assert missing.status_code == 401 and missing.json()["code"] == "UM1102"
    client.login()
    bearer = client.http.get(f"{client.url}{QUEUE}", headers={"Authorization": f"Bearer {client.token}"})
    assert bearer.status_code == 401 and "Bearer" in bearer.json()["details"]
    forged = client.call("GET", QUEUE, headers={"X-Authorization": client.token[:-4] + "AAAA"})
    assert forged.status_code == 401 and forged.json()["code"] == "UM1103"


def test_single_login_ends_the_previous_single_session(aa_emulator):
    first, second = Client(aa_emulator.url), Client(aa_emulator.url)
    first.login(SINGLE_USER)
    second.login(SINGLE_USER)
    evicted = first.call("GET", QUEUE)
    assert evicted.status_code == 401
    assert evicted.json()["code"] == "UM1114"
    assert evicted.json()["message"] == "You are logged in twice"
    assert second.call("GET", QUEUE).status_code == 200


def test_multiple_login_sessions_survive_other_logins(aa_emulator):
    multi, other_multi, api_key, single = (Client(aa_emulator.url) for _ in range(4))
    multi.login(multipleLogin=True)
    other_multi.login(multipleLogin=True)
    api_key.login(API_KEY_USER)
    api_key.login(API_KEY_USER)
    single.login()  # a single login ends single sessions only
    for client in (multi, other_multi, api_key, single):
        assert client.call("GET", QUEUE).status_code == 200


def test_api_key_sessions_of_a_user_without_multiple_logins_end_each_other():
    # AA's 2024-08 "multi-login user" page: an API key does not bypass allowMultipleLogin.
    seed = load_seed()
    api_user = next(user for user in seed["users"] if user["username"] == API_KEY_USER["username"])
    api_user["allowMultipleLogin"] = False
    with ControlRoomEmulator(seed=seed) as emulator:
        first, second = Client(emulator.url), Client(emulator.url)
        assert first.login(API_KEY_USER).status_code == 200
        assert second.login(API_KEY_USER).status_code == 200
        evicted = first.call("GET", QUEUE)
        assert evicted.status_code == 401 and evicted.json()["code"] == "UM1114"
        assert second.call("GET", QUEUE).status_code == 200


def test_api_key_sessions_of_a_user_allowed_multiple_logins_coexist(aa_emulator):
    assert aa_emulator.users[API_KEY_USER["username"]]["allowMultipleLogin"] is True
    first, second = Client(aa_emulator.url), Client(aa_emulator.url)
    first.login(API_KEY_USER)
    second.login(API_KEY_USER)
    assert first.call("GET", QUEUE).status_code == 200 and second.call("GET", QUEUE).status_code == 200


def test_multiple_login_refused_for_a_single_session_user(aa_emulator):
    response = Client(aa_emulator.url).login(SINGLE_USER, multipleLogin=True)
    assert response.status_code == 403
    assert "multiple" in response.json()["message"]


def test_evict_ends_all_sessions_of_a_user(aa_emulator):
    client, api_key = Client(aa_emulator.url), Client(aa_emulator.url)
    client.login(multipleLogin=True)
    api_key.login(API_KEY_USER)
    assert aa_emulator.evict("bot_runner") == 1
    assert client.call("GET", QUEUE).json()["code"] == "UM1114"
    assert api_key.call("GET", QUEUE).status_code == 200
    with pytest.raises(ValueError):
        aa_emulator.evict("nobody")


@pytest.mark.parametrize("version", [1, 2])
def test_refresh_gives_a_new_token_for_the_same_session(aa_emulator, version):
    client = Client(aa_emulator.url)
    client.login()
    response = client.call("POST", f"/v{version}/authentication/token", json={"token": client.token})
    assert response.status_code == 200
    new_token = response.json()["token"]
    old, new = (jwt.decode(token, options={"verify_signature": False}) for token in (client.token, new_token))
    assert new["sid"] == old["sid"] and new["jti"] != old["jti"]
    client.token = new_token
    assert client.call("GET", QUEUE).status_code == 200
    assert aa_emulator.counters.refreshes() == 1


def test_expired_token_is_401_and_cannot_be_refreshed(clocked_emulator, clock):
    clocked_emulator.configure(token_lifetime=60)
    client = Client(clocked_emulator.url)
    client.login()
    clock.advance(59)
    refreshed = client.call("POST", "/v2/authentication/token", json={"token": client.token}).json()["token"]
    clock.advance(2)
    expired = client.call("GET", QUEUE)
    assert expired.status_code == 401 and expired.json()["code"] == "UM1110"
    assert client.call("POST", "/v2/authentication/token", json={"token": client.token}).status_code == 401
    client.token = refreshed  # minted at 59 s: lives until 119 s
    assert client.call("GET", QUEUE).status_code == 200


def test_evicted_token_cannot_be_refreshed(aa_emulator):
    client = Client(aa_emulator.url)
    client.login(SINGLE_USER)
    Client(aa_emulator.url).login(SINGLE_USER)
    response = client.call("POST", "/v2/authentication/token", json={"token": client.token})
    assert response.status_code == 401 and response.json()["code"] == "UM1114"
    assert client.call("POST", "/v2/authentication/token", json={}).status_code == 400


def test_validate(aa_emulator):
    client = Client(aa_emulator.url)
    client.login()
    valid = client.http.get(f"{client.url}/v1/authentication/token", params={"token": client.token})
    assert valid.json() == {"valid": True}
    assert client.http.get(f"{client.url}/v1/authentication/token", params={"token": "nope"}).json() == {"valid": False}
    assert all("token=" not in entry["path"] for entry in aa_emulator.request_log.entries())


@pytest.mark.parametrize("in_body", [True, False])
def test_logout_ends_the_session(aa_emulator, in_body):
    client = Client(aa_emulator.url)
    client.login()
    body = {"json": {"token": client.token}} if in_body else {}
    response = client.call("POST", "/v1/authentication/logout", **body)
    assert response.status_code == 204
    after = client.call("GET", QUEUE)
    assert after.status_code == 401 and after.json()["code"] == "UM1103"
    assert client.call("POST", "/v1/authentication/logout").status_code == 401


def test_issued_tokens_work_without_login(aa_emulator):
    client = Client(aa_emulator.url)
    client.token = aa_emulator.issue_token("token_user")
    assert client.call("GET", QUEUE).status_code == 200
    assert aa_emulator.counters.logins() == 0


def test_restart_drops_sessions_and_keeps_data(aa_emulator_server):
    emulator = aa_emulator_server
    emulator.reset()
    client = Client(emulator.url)
    client.login()
    created = client.add(20, {"k": "v"}).json()["list"][0]
    url = emulator.url
    emulator.restart()
    assert emulator.url == url
    gone = client.call("GET", QUEUE)
    assert gone.status_code == 401 and gone.json()["code"] == "UM1103"
    client.login()
    assert client.call("GET", f"{QUEUE}/workitems/{created['id']}").json()["json"] == {"k": "v"}


@pytest.mark.parametrize(
    ("token_claims", "times"),
    [("iat_exp", {"iat": 0, "exp": 60}), ("exp_only", {"exp": 60}), ("exp_equals_iat", {"iat": 0, "exp": 0})],
)
def test_token_claims_say_what_is_configured_and_the_token_lives_its_lifetime(
    clocked_emulator, clock, token_claims, times
):
    clocked_emulator.configure(token_lifetime=60, token_claims=token_claims)
    client = Client(clocked_emulator.url)
    client.login()
    claims = jwt.decode(client.token, options={"verify_signature": False})
    assert {name: claims[name] - int(clock.now) for name in ("iat", "exp") if name in claims} == times
    clock.advance(59)
    assert client.call("GET", QUEUE).status_code == 200
    clock.advance(2)
    assert client.call("GET", QUEUE).status_code == 401


def test_token_claims_must_be_one_of_the_known_ones(aa_emulator):
    with pytest.raises(ValueError, match="token_claims must be one of iat_exp, exp_only, exp_equals_iat"):
        aa_emulator.configure(token_claims="none")
