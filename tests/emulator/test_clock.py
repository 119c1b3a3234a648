"""``clock_offset``: the Control Room's clock ahead of or behind ours, and what it moves."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import jwt
import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.config import MAX_SECONDS
from automation_anywhere_emulator.models import instant
from tests.emulator.conftest import TIMEOUT, Client

QUEUE = "/v3/wlm/queues/20"


def date_header(response: requests.Response) -> float:
    return parsedate_to_datetime(response.headers["Date"]).timestamp()


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("offset", [-61, 3600])
def test_offset_moves_date_tokens_and_timestamps(clocked_emulator, clock, offset):
    clocked_emulator.configure(clock_offset=offset)
    client = Client(clocked_emulator.url)
    login = client.login()
    shown = clock.now + offset
    assert date_header(login) == shown
    assert (claims(client.token)["iat"], claims(client.token)["exp"]) == (shown, shown + 1200)
    item = client.add(20, {"a": "x"}).json()["list"][0]
    assert item["createdOn"] == item["updatedOn"] == instant(shown)
    queue = client.call("GET", QUEUE)
    assert queue.status_code == 200  # the token is accepted: it is judged on the same clock
    assert queue.json()["createdOn"] == instant(clock.now)  # seeded before the offset was set


def test_an_offset_set_at_start_shows_on_seeded_queues(clock):
    with ControlRoomEmulator(EmulatorConfig(clock_offset=-61), clock=clock) as emulator:
        client = Client(emulator.url)
        client.login()
        assert client.call("GET", QUEUE).json()["createdOn"] == instant(clock.now - 61)


@pytest.mark.parametrize("offset", [-61, 3600])
def test_a_token_issued_with_an_offset_lives_its_lifetime(clocked_emulator, clock, offset):
    clocked_emulator.configure(clock_offset=offset, token_lifetime=60)
    client = Client(clocked_emulator.url)
    client.login()
    clock.advance(59)
    assert client.call("GET", QUEUE).status_code == 200
    clock.advance(2)
    expired = client.call("GET", QUEUE)
    assert expired.status_code == 401 and expired.json()["code"] == "UM1110"


def test_a_clock_jump_expires_tokens_keeps_history_and_leaves_delays_alone(clocked_emulator, clock):
    client = Client(clocked_emulator.url)
    client.login()
    created = clock.now
    item_id = client.add(20, {"a": "x"}).json()["list"][0]["id"]
    clocked_emulator.configure(clock_offset=1200)  # the token's exp is now the Control Room's now
    expired = client.call("GET", QUEUE)
    assert expired.status_code == 401 and expired.json()["code"] == "UM1110"
    client.login()
    clock.advance(1)  # pickup_delay is 1 s of real time, whatever the clock shows
    item = client.call("GET", f"{QUEUE}/workitems/{item_id}").json()
    assert item["status"] == "ACTIVE"
    assert item["createdOn"] == instant(created)  # shown before the jump: kept
    assert item["updatedOn"] == instant(created + 1 + 1200)


def test_a_clock_set_back_does_not_hold_the_bot(clocked_emulator, clock):
    client = Client(clocked_emulator.url)
    client.login()
    client.add(20, {"a": "x"})
    clocked_emulator.configure(clock_offset=-3600)
    clock.advance(2)
    assert [item["status"] for item in clocked_emulator.work_items(20)] == ["COMPLETED"]
    assert claims(client.login().json()["token"])["iat"] == clock.now - 3600


def test_bot_runs_show_the_offset(clocked_emulator, clock):
    clocked_emulator.configure(clock_offset=-61, activity_delay=0)
    client = Client(clocked_emulator.url)
    client.login()
    deployed = clock.now
    body = {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    assert client.call("POST", "/v4/automations/deploy", json=body).status_code == 200
    clock.advance(5)
    (record,) = client.call("POST", "/v3/activity/list", json={}).json()["list"]
    assert record["status"] == "COMPLETED"
    assert (record["createdOn"], record["startDateTime"], record["endDateTime"]) == (
        instant(deployed - 61),
        instant(deployed + 1 - 61),
        instant(deployed + 2 - 61),
    )


def test_every_answer_has_a_date_on_the_control_rooms_clock(aa_emulator, client):
    configured = requests.post(f"{aa_emulator.url}/_emulator/config", json={"clock_offset": 300}, timeout=TIMEOUT)
    assert configured.status_code == 200 and configured.json()["clock_offset"] == 300
    aa_emulator.faults.add("rate_limit", path="/workitems/list")
    answers = [
        configured,
        client.call("GET", QUEUE),
        client.call("GET", "/nowhere"),
        client.list(20),  # 429 from the fault
        Client(aa_emulator.url).call("GET", QUEUE),  # 401
        requests.post(f"{aa_emulator.url}/v2/authentication", data=b"{", timeout=TIMEOUT),  # 400
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 404, 429, 401, 400]
    for answer in answers:
        assert abs(date_header(answer) - (time.time() + 300)) < 5


def test_reset_restores_the_offset(aa_emulator):
    aa_emulator.configure(clock_offset=-61)
    aa_emulator.reset()
    assert aa_emulator.config.clock_offset == 0
    answer = requests.get(f"{aa_emulator.url}/_emulator/config", timeout=TIMEOUT)
    assert abs(date_header(answer) - time.time()) < 5


@pytest.mark.parametrize("offset", [MAX_SECONDS + 1, -MAX_SECONDS - 1, float("nan"), float("inf"), 10**400])
def test_absurd_offsets_are_refused(offset):
    with pytest.raises(ValueError, match="clock_offset"):
        EmulatorConfig(clock_offset=offset)


def test_offsets_of_up_to_ten_years_either_way_are_fine():
    assert EmulatorConfig(clock_offset=-MAX_SECONDS).clock_offset == -MAX_SECONDS
    with pytest.raises(TypeError):
        EmulatorConfig(clock_offset="5")  # type: ignore[arg-type]
