"""Airflow connection fields pointing at an emulator, for each auth mode of the provider."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import Connection

CONN_TYPE = "automation_anywhere"
AUTH_TYPES = ("password", "api_key", "token")


def connection_fields(url: str, credentials: dict[str, str], auth_type: str, **extra: Any) -> dict[str, Any]:
    """
    ``conn_type``, ``host``, ``login``, ``password`` and ``extra`` (a dict) for ``auth_type``:

    - ``password``: login + password (single session, the provider's default; pass
      ``multiple_login=True`` for a multi-session login);
    - ``api_key``: login, extra ``api_key``;
    - ``token``: no login, extra ``token``.

    ``extra`` keyword arguments (``timeout``, ``verify_ssl``, ...) are added to the extras.
    """
    extras: dict[str, Any] = {"auth_type": auth_type}
    if auth_type == "api_key":
        extras["api_key"] = credentials["api_key"]
    elif auth_type == "token":
        extras["token"] = credentials["token"]
    extras.update(extra)
    fields: dict[str, Any] = {"conn_type": CONN_TYPE, "host": url}
    if credentials.get("login"):
        fields["login"] = credentials["login"]
    if credentials.get("password"):
        fields["password"] = credentials["password"]
    fields["extra"] = extras
    return fields


def airflow_connection(conn_id: str, fields: dict[str, Any]) -> Connection:
    """An ``airflow.sdk.Connection`` (imported only here) with ``extra`` as a JSON string."""
    from airflow.sdk import Connection

    return Connection(
        conn_id=conn_id,
        conn_type=fields["conn_type"],
        host=fields["host"],
        login=fields.get("login"),
        password=fields.get("password"),
        extra=json.dumps(fields["extra"]),
    )


def env_var_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"
