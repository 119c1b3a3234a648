"""Airflow connections to an emulator, for each auth mode of the provider: as fields, a Connection, or a URI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

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


def connection_uri(url: str, credentials: dict[str, str], auth_type: str, **extra: Any) -> str:
    """
    The same connection as :func:`connection_fields`, as an Airflow connection URI for an
    ``AIRFLOW_CONN_<ID>`` variable, e.g.
    ``automation-anywhere://bot_runner:Emulator-Passw0rd%21@127.0.0.1:8765/http?auth_type=password``.

    ``url`` is ``http(s)://host:port`` without a path: the URI's path is the connection's
    schema, which the provider takes as the URL scheme. Login, password and extras are
    percent-encoded, so any character survives Airflow's parsing.
    """
    parts = urlsplit(url)
    if parts.path.strip("/") or parts.query:
        raise ValueError(f"a connection URI holds no path or query of the Control Room URL: {url!r}")
    fields = connection_fields(url, credentials, auth_type, **extra)
    userinfo = ""
    if "login" in fields:
        userinfo = quote(fields["login"], safe="")
        if "password" in fields:
            userinfo += ":" + quote(fields["password"], safe="")
        userinfo += "@"
    # Airflow's URI parsing makes every extra a string (or JSON-decodes it): write booleans
    # as JSON, which the provider reads either way.
    query = {key: value if isinstance(value, str) else json.dumps(value) for key, value in fields["extra"].items()}
    return (
        f"{CONN_TYPE.replace('_', '-')}://{userinfo}{parts.netloc}/{parts.scheme}?{urlencode(query, quote_via=quote)}"
    )
