"""
The host's session cache (connection extra ``session_cache``) against the emulator over HTTP:
task processes of one host share one session instead of logging in once each; a rejected,
due or foreign token is never used; an unsafe folder turns the cache off, not the task.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from airflow_provider_aa.control_room.auth import TokenTimes
from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.settings import settings_from_connection
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.transport.session_cache import SessionCache, cache_folder, cache_key

LIST_QUEUES = ("POST", "/v3/wlm/queues/list")
PAGE = {"page": {"offset": 0, "length": 1}}
LOGOUT = "POST /v1/authentication/logout"

#: One task process: a hook, one call, the hook closed as an operator closes it.
TASK = """
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
hook = AutomationAnywhereHook()
hook.run("POST", "/v3/wlm/queues/list", json={"page": {"offset": 0, "length": 1}}, replay_safe=True)
hook.close()
"""


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


def one_call(hook: AutomationAnywhereHook) -> None:
    hook.run(*LIST_QUEUES, json=PAGE, replay_safe=True)


def cached_file(folder) -> dict:
    (entry,) = [path for path in cache_folder().iterdir() if path.suffix == ".json"]
    return json.loads(entry.read_text())


@pytest.mark.usefixtures("runtime_dir")
@pytest.mark.parametrize("auth_type", ["password", "api_key"])
def test_task_processes_of_one_host_share_one_login_and_none_logs_out(aa_emulator, monkeypatch, auth_type):
    extra = {"multiple_login": True} if auth_type == "password" else {}
    aa_emulator.use_connection(monkeypatch, auth_type, session_cache=True, **extra)

    for _ in range(2):  # two task processes, one after the other
        subprocess.run([sys.executable, "-c", TASK], check=True, env=os.environ.copy(), timeout=120)

    assert aa_emulator.counters.logins() == 1
    assert aa_emulator.counters.requests(LOGOUT) == 0  # the session is the next task's
    assert aa_emulator.counters.requests("POST /v3/wlm/queues/list") == 2


@pytest.mark.usefixtures("runtime_dir")
def test_task_processes_starting_at_once_log_in_once(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, multiple_login=True, session_cache=True)
    # A slow login: the processes that start meanwhile wait on the lock, then read its token.
    aa_emulator.faults.add("latency", seconds=1.0, path="/authentication$")

    tasks = [subprocess.Popen([sys.executable, "-c", TASK], env=os.environ.copy()) for _ in range(3)]

    assert [task.wait(timeout=120) for task in tasks] == [0, 0, 0]
    assert aa_emulator.counters.logins() == 1
    assert aa_emulator.counters.requests("POST /v3/wlm/queues/list") == 3


@pytest.mark.usefixtures("runtime_dir")
def test_without_the_cache_each_task_process_logs_in_and_out(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, multiple_login=True)

    for _ in range(2):
        subprocess.run([sys.executable, "-c", TASK], check=True, env=os.environ.copy(), timeout=120)

    assert aa_emulator.counters.logins() == 2
    assert aa_emulator.counters.requests(LOGOUT) == 2


def test_the_file_is_private_and_holds_the_token_but_no_credential(aa_emulator, monkeypatch, runtime_dir):
    aa_emulator.use_connection(monkeypatch, "api_key", session_cache=True)
    hook = AutomationAnywhereHook()
    one_call(hook)

    folder = cache_folder()
    assert folder.parent == runtime_dir and stat.S_IMODE(folder.stat().st_mode) == 0o700
    (entry,) = [path for path in folder.iterdir() if path.suffix == ".json"]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert entry.name == f"{cache_key(hook.settings)}.json"
    text = entry.read_text()
    assert json.loads(text)["token"] == hook.session.token()[0]
    assert hook.settings.api_key not in text and hook.settings.username not in text


@pytest.mark.usefixtures("runtime_dir")
def test_a_token_the_control_room_ended_is_replaced_for_every_process(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, multiple_login=True, session_cache=True)
    first = AutomationAnywhereHook()
    one_call(first)
    ended = first.session.token()[0]
    aa_emulator.evict(first.settings.username)

    second = AutomationAnywhereHook()
    one_call(second)  # the cached token: 401, a new login, written back

    assert aa_emulator.counters.logins() == 2
    renewed = cached_file(cache_folder())["token"]
    assert renewed != ended and renewed == second.session.token()[0]
    third = AutomationAnywhereHook()
    one_call(third)
    assert aa_emulator.counters.logins() == 2 and third.session.token()[0] == renewed


@pytest.mark.usefixtures("runtime_dir")
def test_a_cached_token_past_its_end_is_not_used(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, "api_key", session_cache=True)
    hook = AutomationAnywhereHook()
    SessionCache(hook.settings, cache_folder()).write("stale-token", TokenTimes(0.0, 1.0, 2.0, "test"))

    one_call(hook)

    assert aa_emulator.counters.logins() == 1 and hook.session.token()[0] != "stale-token"
    assert cached_file(cache_folder())["token"] == hook.session.token()[0]


@pytest.mark.usefixtures("runtime_dir")
def test_a_cached_token_due_for_renewal_is_renewed_once_not_replaced_by_a_login(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, "api_key", session_cache=True)
    hook = AutomationAnywhereHook()
    due = aa_emulator.issue_token(hook.settings.username)
    now = time.time()
    SessionCache(hook.settings, cache_folder()).write(due, TokenTimes(now - 600, now - 1, now + 600, "test"))

    one_call(hook)

    assert (aa_emulator.counters.logins(), aa_emulator.counters.refreshes()) == (0, 1)
    renewed = hook.session.token()[0]
    assert renewed != due and cached_file(cache_folder())["token"] == renewed


def test_another_connection_or_a_rotated_secret_is_another_file():
    settings = settings_from_connection(host="https://cr.example.com", login="u", password="p1", extra={})
    rotated = settings_from_connection(host="https://cr.example.com", login="u", password="p2", extra={})
    other = settings_from_connection(host="https://cr2.example.com", login="u", password="p1", extra={})
    assert len({cache_key(settings), cache_key(rotated), cache_key(other)}) == 3


@pytest.mark.parametrize("mode", [0o755, 0o770])
def test_a_folder_open_to_others_turns_the_cache_off_not_the_task(aa_emulator, monkeypatch, tmp_path, mode, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    folder = shared / f"airflow-provider-automation-anywhere-{os.getuid()}"
    folder.mkdir()
    folder.chmod(mode)
    aa_emulator.use_connection(monkeypatch, "api_key", session_cache=True)

    hook = AutomationAnywhereHook()
    one_call(hook)
    hook.close()

    logged = capsys.readouterr().out
    assert "session cache is off" in logged and "open to other users" in logged
    assert list(folder.iterdir()) == []
    assert aa_emulator.counters.requests(LOGOUT) == 1  # an unshared session is ended as without the cache


def test_a_symlinked_folder_is_not_followed(aa_emulator, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / f"airflow-provider-automation-anywhere-{os.getuid()}").symlink_to(elsewhere)
    aa_emulator.use_connection(monkeypatch, "api_key", session_cache=True)

    one_call(AutomationAnywhereHook())

    assert "is not a folder" in capsys.readouterr().out and list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"auth_type": "token", "token": "t"}, "auth_type='token'"),
        ({"auth_type": "password"}, "multiple_login false"),
        ({"auth_type": "password", "multiple_login": True, "session_cache": "maybe"}, "expected true or false"),
    ],
)
def test_the_cache_is_refused_where_a_token_cannot_be_shared(extra, named):
    with pytest.raises(InvalidInputError, match=named):
        settings_from_connection(
            host="https://cr.example.com", login="u", password="p", extra={"session_cache": True, **extra}
        )
