"""The hook and the trigger against the Control Room emulator: HTTPS with its own CA, dripping and oversized answers."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.session import RetryPolicy
from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES, WORK_ITEM_RUNNING_STATUSES
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger
from tests.transport.conftest import MIB

LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"
ONCE = RetryPolicy(max_attempts=1)


@pytest.fixture
def bogus_ca_environment(monkeypatch, tmp_path):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "no-such-bundle.pem"))


def test_the_connection_test_trusts_the_connections_ca_file_whatever_the_environment_says(
    aa_emulator_tls, monkeypatch, bogus_ca_environment
):
    aa_emulator_tls.use_connection(monkeypatch, verify_ssl=aa_emulator_tls.ca_file)

    ok, message = AutomationAnywhereHook().test_connection()

    assert ok, message
    assert message.startswith(f"Connected to {aa_emulator_tls.url}")


def test_a_dripping_answer_fails_the_hook_call_at_the_timeout(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, timeout=2)
    hook = AutomationAnywhereHook(retry=ONCE)
    hook.get_work_items(20, [1])  # logged in
    aa_emulator.faults.add(kind="drip", bytes_per_second=20, path="/workitems/list")

    started = time.monotonic()
    with pytest.raises(AutomationAnywhereError, match="the answer did not complete within 2 s"):
        hook.get_work_items(20, [1])

    assert time.monotonic() - started < 3.5


def test_a_gzip_bomb_fails_the_hook_call_once(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, max_response_bytes=MIB)
    aa_emulator.faults.add(kind="oversized", bytes=50 * MIB, gzip=True, path="/workitems/list")

    with pytest.raises(
        AutomationAnywhereError,
        match=r"the answer exceeded max_response_bytes \(1048576 bytes\) once decoded \(Content-Encoding gzip\)",
    ):
        AutomationAnywhereHook().get_work_items(20, [1])

    assert aa_emulator.counters.requests(LIST) == 1


def test_an_oversized_answer_ends_a_trigger_with_an_error_event_after_one_request(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, max_response_bytes=MIB)
    aa_emulator.faults.add(kind="oversized", bytes=8 * MIB, path="/workitems/list", count=None)
    trigger = AutomationAnywhereWorkItemTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        queue_id="20",
        work_item_ids=["1"],
        pending_statuses=list(WORK_ITEM_RUNNING_STATUSES),
        failure_statuses=list(WORK_ITEM_FAILURE_STATUSES),
        deadline=time.time() + 30,
        poke_interval=0.2,
    )

    async def first_event():
        async for event in trigger.run():
            return event.payload

    event = asyncio.run(first_event())

    assert event["status"] == "error"
    assert "the answer exceeded max_response_bytes (1048576 bytes): its Content-Length is 8388608" in event["message"]
    assert aa_emulator.counters.requests(LIST) == 1
