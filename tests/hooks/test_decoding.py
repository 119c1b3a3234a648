"""hook.run given hostile answers: a clear AutomationAnywhereError, within bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.conftest import BASE_URL, make_token

LIST = f"{BASE_URL}/v1/devices/list"
#: 1.2 million empty objects in 3.6 MB: about 100 MB once decoded.
MANY_OBJECTS = b"[" + b"{}," * 1_200_000 + b"{}]"


@pytest.fixture
def hook(requests_mock, password_conn):
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    return AutomationAnywhereHook()


def test_a_huge_answer_fails_clearly_without_being_built(hook, requests_mock):
    requests_mock.post(LIST, content=MANY_OBJECTS, headers={"Content-Type": "application/json"})
    tracemalloc.start()
    try:
        with pytest.raises(AutomationAnywhereError, match="too large to decode"):
            hook.run("POST", "/v1/devices/list", json={}, replay_safe=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * len(MANY_OBJECTS)


def test_an_answer_nested_200000_deep_fails_clearly(hook, requests_mock):
    requests_mock.post(LIST, content=b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(AutomationAnywhereError, match="too large to decode"):
        hook.run("POST", "/v1/devices/list", json={}, replay_safe=True)
