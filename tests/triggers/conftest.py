"""Fixtures for trigger tests on virtual time (see :mod:`tests.triggers.virtual_time`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.statuses import WORK_ITEM_RUNNING_STATUSES
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient, TriggerClients
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from tests.triggers.virtual_time import VirtualTime


def add(*items: Any) -> list[str]:
    """Work items added to queue 20 of the test's emulator; their ids."""
    return [item["id"] for item in AutomationAnywhereHook().add_work_items(20, list(items))]


def sensor_for(ids: Any) -> AutomationAnywhereWorkItemSensor:
    """A sensor waiting for ``ids`` of queue 20 to leave the running statuses."""
    return AutomationAnywhereWorkItemSensor(
        task_id="wait", queue_id=20, work_item_ids=ids, pending_statuses=WORK_ITEM_RUNNING_STATUSES
    )


@pytest.fixture
def emulator(aa_emulator: ControlRoomEmulator, monkeypatch: pytest.MonkeyPatch) -> ControlRoomEmulator:
    """The session's emulator as ``automation_anywhere_default``, its bot quick (0.2 s + 0.3 s)."""
    aa_emulator.configure(pickup_delay=0.2, work_delay=0.3)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def virtual_emulator(virtual_time: VirtualTime, monkeypatch: pytest.MonkeyPatch) -> Iterator[ControlRoomEmulator]:
    """An emulator of its own on virtual time, as ``automation_anywhere_default``."""
    with ControlRoomEmulator(EmulatorConfig(pickup_delay=60.0, work_delay=60.0), clock=virtual_time) as emulator:
        emulator.use_connection(monkeypatch)
        yield emulator


class VirtualTriggerClients(TriggerClients):
    """Trigger clients whose requests stop virtual time while they are on their way."""

    def __init__(self, virtual_time: VirtualTime, **options: Any) -> None:
        # Look-ups go at once: triggers woken at one virtual instant run in one loop turn,
        # so they still share requests.
        super().__init__(clock=virtual_time, sleep=virtual_time.sleep, **{"lookup_window": 0.0, **options})
        self._virtual_time = virtual_time

    async def client(self, conn_id: str, *, reread: bool = False) -> AsyncControlRoomClient:
        client = await super().client(conn_id, reread=reread)
        if "_send" not in vars(client):
            send = client._send

            async def send_in_flight(request: ApiRequest) -> ApiResponse | TransportFailure:
                async with self._virtual_time.in_flight():
                    return await send(request)

            client._send = send_in_flight  # type: ignore[method-assign]
        return client


@pytest.fixture
def virtual_clients(virtual_time: VirtualTime) -> TriggerClients:
    """Trigger clients on virtual time: pass as ``clients=`` to a trigger."""
    return VirtualTriggerClients(virtual_time)
