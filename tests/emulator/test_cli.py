"""``python -m automation_anywhere_emulator`` starts, serves and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from email.utils import parsedate_to_datetime

import requests

from tests.emulator.conftest import PASSWORD_USER, TIMEOUT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_serves_until_sigterm(tmp_path):
    seed = {
        "users": [{"id": 7, "username": "ops", "password": "Ops-Passw0rd!"}],
        "queues": [{"id": 5, "name": "Only"}],
        "credentials": {"password": "ops"},
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    port = free_port()
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port), "--seed", str(seed_file)]
    command += ["--numeric-ids", "--no-auth-v1", "--token-lifetime", "30", "--pickup-delay", "0", "--work-delay", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert url in line
        assert requests.post(f"{url}/v1/authentication", json=PASSWORD_USER, timeout=TIMEOUT).status_code == 404
        login = requests.post(
            f"{url}/v2/authentication", json={"username": "ops", "password": "Ops-Passw0rd!"}, timeout=TIMEOUT
        )
        assert login.status_code == 200
        queue = requests.get(
            f"{url}/v3/wlm/queues/5", headers={"X-Authorization": login.json()["token"]}, timeout=TIMEOUT
        )
        assert queue.json()["id"] == 5
        assert requests.get(f"{url}/_emulator/config", timeout=TIMEOUT).json()["token_lifetime"] == 30
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stderr.read() == ""


def test_cli_reports_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port)],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
    assert result.returncode == 2 and "emulator:" in result.stderr


def test_cli_serves_https_with_a_clock_offset():
    port = free_port()
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port), "--tls"]
    command += ["--clock-offset", "-61"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert f"https://127.0.0.1:{port}" in process.stdout.readline()
        ca_file = process.stdout.readline().rsplit(": ", 1)[1].strip()
        answer = requests.get(f"https://127.0.0.1:{port}/_emulator/config", verify=ca_file, timeout=TIMEOUT)
        assert answer.json()["clock_offset"] == -61
        assert abs(parsedate_to_datetime(answer.headers["Date"]).timestamp() - (time.time() - 61)) < 5
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not os.path.exists(ca_file)  # removed on stop
    assert process.stderr.read() == ""


def test_cli_sets_busy_queues_and_page_quirks():
    port = free_port()
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port), "--busy-queue", "20=50"]
    command += ["--busy-queue", "22=0.5", "--page-cap", "7", "--ignore-offset"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        config = requests.get(f"http://127.0.0.1:{port}/_emulator/config", timeout=TIMEOUT).json()
        assert config["busy_queues"] == {"20": 50.0, "22": 0.5}
        assert (config["page_cap"], config["ignore_offset"]) == (7, True)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stderr.read() == ""


def test_cli_issues_tokens_with_the_claims_asked_for():
    port = free_port()
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port), "--token-claims", "exp_only"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        config = requests.get(f"http://127.0.0.1:{port}/_emulator/config", timeout=TIMEOUT).json()
        assert config["token_claims"] == "exp_only"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stderr.read() == ""


def test_cli_refuses_a_bad_busy_queue():
    for value in ("20", "20=fast", "99=1", "20=-1"):
        result = subprocess.run(
            [sys.executable, "-m", "automation_anywhere_emulator", "--port", "0", "--busy-queue", value],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        assert result.returncode == 2 and ("busy" in result.stderr), (value, result.stderr)


def test_cli_has_two_days_of_history_to_export_unless_told_otherwise():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    totals = []
    for extra in ([], ["--history-runs", "0"]):
        command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port), *extra]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert url in process.stdout.readline()
            token = requests.post(f"{url}/v2/authentication", json=PASSWORD_USER, timeout=TIMEOUT).json()["token"]
            answer = requests.post(
                f"{url}/v3/activity/list",
                json={"page": {"offset": 0, "length": 1}},
                headers={"X-Authorization": token},
                timeout=TIMEOUT,
            ).json()
            totals.append(int(answer["page"]["totalFilter"]))
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
    assert totals == [600, 0]
