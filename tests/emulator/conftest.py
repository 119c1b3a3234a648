"""Helpers for talking to the emulator over plain HTTP, and over raw sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

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


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def raw_exchange(url: str, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it (``TimeoutError`` if it does not)."""
    with socket.create_connection(address(url), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one raw HTTP answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


def handler_threads() -> set[threading.Thread]:
    """The server's request threads now alive (of every emulator in this process)."""
    return {thread for thread in threading.enumerate() if "process_request_thread" in thread.name}


def assert_threads_end(threads: set[threading.Thread], timeout: float = 5) -> None:
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread.name} still runs"


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
