"""Helpers for talking to the emulator over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_aa.emulator import ControlRoomEmulator, EmulatorConfig

PASSWORD_USER = {"username": "bot_runner", "password": "Emulator-Passw0rd!"}
API_KEY_USER = {"username": "api_user", "apiKey": "EMUAPIKEY0Qx7Rt2Lm9Vb4Nc8Hs3Kd6Wp1Zf5Gj8"}
SINGLE_USER = {"username": "single_user", "password": "Single-Passw0rd!"}
TIMEOUT = 5


class FakeClock:
    """A settable clock for deterministic token expiry and bot timing."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Client:
    """A requests session against one emulator; ``token`` goes into ``X-Authorization``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.token: str | None = None

    def login(self, credentials: dict[str, Any] = PASSWORD_USER, version: int = 2, **extra: Any) -> requests.Response:
        response = self.http.post(
            f"{self.url}/v{version}/authentication", json={**credentials, **extra}, timeout=TIMEOUT
        )
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("X-Authorization", self.token)
        return self.http.request(
            method, self.url + path, headers=headers, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs
        )

    def add(self, queue_id: int, *datas: dict[str, Any]) -> requests.Response:
        body = {"workItems": [{"json": data} for data in datas]}
        return self.call("POST", f"/v3/wlm/queues/{queue_id}/workitems", json=body)

    def list(self, queue_id: int, body: dict[str, Any] | None = None) -> requests.Response:
        return self.call("POST", f"/v3/wlm/queues/{queue_id}/workitems/list", json=body or {})


@pytest.fixture
def client(aa_emulator: ControlRoomEmulator) -> Client:
    """A client logged in as the password-mode user (multi session)."""
    client = Client(aa_emulator.url)
    assert client.login(multipleLogin=True).status_code == 200
    return client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_emulator(clock: FakeClock) -> Iterator[ControlRoomEmulator]:
    """A separate emulator driven by the fake clock (bot delays 1 s each)."""
    with ControlRoomEmulator(EmulatorConfig(pickup_delay=1.0, work_delay=1.0), clock=clock) as emulator:
        yield emulator
