"""Fixtures for trigger tests on virtual time (see :mod:`tests.triggers.virtual_time`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient, TriggerClients
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from tests.triggers.virtual_time import VirtualTime


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
