"""
Deferring with a connection whose sessions end each other (password mode without
``multiple_login``) is warned of at the deferral, in each task that defers.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from tests.operators.test_names import TaskDeferred


def deferring_sensor(emulator):
    emulator.configure(pause_bot=True)  # the item stays NEW: the sensor defers
    (item,) = emulator.add_work_items(20, [{"n": 1}])
    return AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=[item["id"]], deferrable=True)


def deferral_warnings(capsys):
    """The task log's warnings about deferring (Airflow's task logger writes to stdout)."""
    return [line for line in capsys.readouterr().out.splitlines() if "warning" in line and "Deferring" in line]


@pytest.mark.parametrize(
    ("auth_type", "extra", "warned"),
    [("password", {}, True), ("password", {"multiple_login": True}, False), ("api_key", {}, False)],
    ids=["password", "password-multiple-login", "api-key"],
)
def test_the_sensor_warns_of_single_session_logins_when_it_defers(
    aa_emulator, monkeypatch, capsys, auth_type, extra, warned
):
    aa_emulator.use_connection(monkeypatch, auth_type=auth_type, **extra)
    sensor = deferring_sensor(aa_emulator)
    with pytest.raises(TaskDeferred):
        sensor.poke({})
    messages = deferral_warnings(capsys)
    assert bool(messages) is warned
    if warned:
        (message,) = messages
        assert "'multiple_login'" in message and "Allow multiple sessions" in message and "UM1114" in message


def test_the_add_operator_warns_when_it_hands_its_wait_to_the_triggerer(aa_emulator, monkeypatch, capsys):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(pause_bot=True)
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=20, work_items=[{"n": 1}], wait_for_completion=True, deferrable=True
    )
    with pytest.raises(TaskDeferred):
        add.execute({"ti": None})
    assert len(deferral_warnings(capsys)) == 1
