"""
The Control Room the ``control_room_verified`` tests meet: a real one when
``AIRFLOW_CONN_AUTOMATION_ANYWHERE_REAL`` is set (never in CI), else the emulator, as moto's
``aws_verified`` tests run against AWS or moto.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

#: The connection id of the real Control Room (``AIRFLOW_CONN_AUTOMATION_ANYWHERE_REAL``).
REAL_CONN_ID = "automation_anywhere_real"
REAL_CONN_ENV = "AIRFLOW_CONN_AUTOMATION_ANYWHERE_REAL"
#: The queue the tests add one work item to (and delete it from), and that item's data.
QUEUE_ENV = "AA_REAL_QUEUE_NAME"
ITEM_ENV = "AA_REAL_WORK_ITEM"


@dataclass
class ControlRoomUnderTest:
    """
    ``conn_id``: the connection the tests use. ``modes``: auth_type → a connection id that logs
    in that way (those the connection's fields allow). ``queue_name`` / ``work_item``: where the
    add test adds its item and what it holds. ``emulator``: ``None`` on a real Control Room.
    """

    conn_id: str
    modes: dict[str, str]
    queue_name: str | None
    work_item: dict[str, Any]
    emulator: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def real(self) -> bool:
        return self.emulator is None


def mode_connections(fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """
    The auth modes a connection's fields allow, each as connection fields with that ``auth_type``:
    password (login and password; its ``multiple_login`` kept), api_key (login and extra
    ``api_key``), token (extra ``token``).
    """
    extra = fields.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    modes = {}
    if fields.get("login") and fields.get("password"):
        modes["password"] = {**fields, "extra": {**extra, "auth_type": "password"}}
    if fields.get("login") and extra.get("api_key"):
        modes["api_key"] = {**fields, "extra": {**extra, "auth_type": "api_key"}}
    if extra.get("token"):
        modes["token"] = {**fields, "extra": {**extra, "auth_type": "token"}}
    return modes


def _fields_of(conn_id: str) -> dict[str, Any]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return {
        "conn_type": conn.conn_type,
        "host": conn.host,
        "schema": conn.schema,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password,
        "extra": conn.extra_dejson,
    }


def _use_modes(monkeypatch: pytest.MonkeyPatch, modes: dict[str, dict[str, Any]]) -> dict[str, str]:
    ids = {}
    for auth_type, fields in modes.items():
        conn_id = f"aa_verified_{auth_type}"
        shown = {key: value for key, value in fields.items() if value is not None}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(shown))
        ids[auth_type] = conn_id
    return ids


@pytest.fixture
def control_room(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ControlRoomUnderTest:
    """The real Control Room when ``AIRFLOW_CONN_AUTOMATION_ANYWHERE_REAL`` is set, else the emulator."""
    if os.environ.get(REAL_CONN_ENV):
        item = json.loads(os.environ[ITEM_ENV]) if os.environ.get(ITEM_ENV) else {"note": f"aa-verified-{uuid.uuid4()}"}
        return ControlRoomUnderTest(
            conn_id=REAL_CONN_ID,
            modes=_use_modes(monkeypatch, mode_connections(_fields_of(REAL_CONN_ID))),
            queue_name=os.environ.get(QUEUE_ENV) or None,
            work_item=item,
        )
    emulator = request.getfixturevalue("aa_emulator")
    emulator.configure(pause_bot=True)  # the item added must stay NEW to be deleted
    monkeypatch.setenv(REAL_CONN_ENV, emulator.connection_env_value("password", multiple_login=True))
    modes = {auth_type: json.loads(emulator.connection_env_value(auth_type)) for auth_type in ("api_key", "token")}
    modes["password"] = json.loads(emulator.connection_env_value("password", multiple_login=True))
    return ControlRoomUnderTest(
        conn_id=REAL_CONN_ID,
        modes=_use_modes(monkeypatch, modes),
        queue_name="Invoices",
        work_item={"note": f"aa-verified-{uuid.uuid4()}"},
        emulator=emulator,
    )
