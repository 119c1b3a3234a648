"""Connection fields → validated settings, before any request is sent."""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_aa.control_room.errors import InvalidInputError

AUTH_TYPES = ("password", "api_key", "token")
DEFAULT_TIMEOUT = 30.0
#: The largest answer read, decoded (gzip/deflate): 64 MiB.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class ConnectionSettings:
    """
    Everything needed to talk to one Control Room as one user.

    Secret fields are excluded from ``repr`` so that a settings object can be logged.
    """

    base_url: str
    auth_type: str
    username: str | None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    multiple_login: bool = False
    #: Share the session's token with the other task processes of this host (the hook's
    #: session cache): mode ``api_key``, or ``password`` with ``multiple_login``.
    session_cache: bool = False
    #: ``True`` (the default trust store), ``False`` (no verification: test servers only), or
    #: the path of a CA bundle file. Passed to every request, so it wins over
    #: ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``.
    verify_ssl: bool | str = True
    #: The longest one request may take in all: connecting, sending, and reading the answer.
    timeout: float = DEFAULT_TIMEOUT
    #: The largest answer body accepted, counted after gzip/deflate decoding.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: Things about the connection worth a warning (e.g. an unknown extra key); not an error.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def secrets(self) -> list[str]:
        """The values that must never be shown: register them with the secret masker."""
        return [value for value in (self.password, self.api_key, self.token) if value]

    @property
    def plain_http_warning(self) -> str | None:
        """A warning when credentials would cross a network in clear text."""
        parts = urlsplit(self.base_url)
        if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
            return None
        return (
            f"The Control Room URL {self.base_url} uses plain http: credentials and tokens "
            "travel unencrypted. Use https unless this is a local test server."
        )

    @property
    def single_session_warning(self) -> str | None:
        """
        A warning when the connection asks for single-session tokens (password mode without
        ``multiple_login``): the triggerer and the workers each log in, and a Control Room
        ends a user's older session at each new login (code UM1114), so deferrable tasks, or
        tasks of the connection running at the same time, end each other's sessions.

        None in API-key mode: its sessions coexist when the user has the Control Room setting
        "Allow multiple sessions" and end each other when not (an API key does not bypass it:
        AA's 2024-08 "multi-login user" page), and which one holds cannot be read from the
        connection. A warning at every deferral of a well-set-up connection would be noise;
        the error after repeated evictions names the setting (``session.eviction_advice``).
        """
        if self.auth_type != "password" or self.multiple_login:
            return None
        return (
            f"User {self.username!r} logs in without multipleLogin (extra 'multiple_login' is false): "
            "the triggerer and the workers, and tasks running at the same time, each hold a session, "
            "and each new login ends the user's other sessions (UM1114). For deferrable tasks or "
            "parallel tasks, set the extra 'multiple_login' to true and allow the user multiple "
            "sessions in the Control Room ('Allow multiple sessions'), which an API key needs too."
        )


def settings_from_connection(
    *,
    host: str | None,
    login: str | None,
    password: str | None,
    port: int | None = None,
    extra: Mapping[str, Any] | str | None = None,
    schema: str | None = None,
) -> ConnectionSettings:
    """
    Validate an Airflow connection's fields and return :class:`ConnectionSettings`.

    ``schema`` (the connection's Schema field, the path of a connection URI) is the URL
    scheme of a host given without one, as in Airflow's HTTP provider:
    ``automation-anywhere://user:pass@127.0.0.1:8765/http`` talks http; default https.

    :raises InvalidInputError: naming the connection field and what was expected.
    """
    extras = _extras(extra)
    api_key = _optional_text(extras.get("api_key"))
    token = _optional_text(extras.get("token"))
    auth_type = _auth_type(extras.get("auth_type"), api_key=api_key, token=token, password=password)
    username = _optional_text(login)
    needed = {
        "password": (("login", username), ("password", password)),
        "api_key": (("login", username), ("extra.api_key", api_key)),
        "token": (("extra.token", token),),
    }[auth_type]
    missing = [name for name, value in needed if not value]
    if missing:
        raise InvalidInputError(
            f"Connection field(s) {', '.join(repr(name) for name in missing)} must be set for "
            f"auth_type={auth_type!r} (needs {', '.join(name for name, _ in needed)})."
        )
    multiple_login = _boolean(extras.get("multiple_login"), "extra.multiple_login", default=False)
    session_cache = _boolean(extras.get("session_cache"), "extra.session_cache", default=False)
    if session_cache and (auth_type == "token" or (auth_type == "password" and not multiple_login)):
        # One token used by several processes at once must be a multi-session token, and a
        # pre-issued token is already shared by whoever issued it.
        raise InvalidInputError(
            "Connection field 'extra.session_cache' is true: expected auth_type 'api_key', or 'password' with "
            f"'extra.multiple_login' true (got auth_type={auth_type!r}"
            f"{', multiple_login false' if auth_type == 'password' else ''})."
        )
    return ConnectionSettings(
        base_url=base_url(host, port, schema),
        auth_type=auth_type,
        username=username,
        password=password or None,
        api_key=api_key,
        token=token,
        multiple_login=multiple_login,
        session_cache=session_cache,
        verify_ssl=_verify_ssl(extras.get("verify_ssl")),
        timeout=_timeout(extras.get("timeout")),
        max_response_bytes=_max_response_bytes(extras.get("max_response_bytes")),
        warnings=tuple(_unknown_extras(extras)),
    )


#: The extras this provider reads.
KNOWN_EXTRAS = (
    "auth_type",
    "api_key",
    "token",
    "multiple_login",
    "session_cache",
    "verify_ssl",
    "timeout",
    "max_response_bytes",
)


def _unknown_extras(extras: Mapping[str, Any]) -> list[str]:
    """A warning per extra key this provider does not read, naming the nearest known one."""
    warnings = []
    for key in extras:
        if key in KNOWN_EXTRAS:
            continue
        # camelCase and dashes as AA's API or a URI may spell them: apiKey -> api_key.
        spelled = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(key)).replace("-", "_").lower()
        nearest = difflib.get_close_matches(spelled, KNOWN_EXTRAS, n=1, cutoff=0.6)
        hint = f": did you mean {nearest[0]!r}?" if nearest else f" (known: {', '.join(KNOWN_EXTRAS)})"
        warnings.append(f"Connection extra {key!r} is not a setting of this provider and is ignored{hint}")
    return warnings


def settings_of(conn: Any) -> ConnectionSettings:
    """:func:`settings_from_connection` for an Airflow ``Connection`` (or anything with its fields)."""
    return settings_from_connection(
        host=conn.host,
        login=conn.login,
        password=conn.password,
        port=conn.port,
        extra=conn.extra,
        schema=conn.schema,
    )


def _extras(extra: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if extra is None or extra == "":
        return {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            raise InvalidInputError("Connection field 'extra' is not valid JSON: expected a JSON object.") from None
    if not isinstance(extra, Mapping):
        raise InvalidInputError("Connection field 'extra' must be a JSON object.")
    return extra


def _auth_type(value: Any, *, api_key: str | None, token: str | None, password: str | None) -> str:
    if value in (None, ""):
        if api_key:
            return "api_key"
        if token and not password:
            return "token"
        return "password"
    if value not in AUTH_TYPES:
        raise InvalidInputError(
            f"Connection field 'extra.auth_type' is {value!r}: expected one of {', '.join(AUTH_TYPES)}."
        )
    return str(value)


def base_url(host: str | None, port: int | None, schema: str | None = None) -> str:
    """
    The Control Room URL of a connection's ``host`` (with ``port`` and ``schema`` where the host
    lacks them): scheme, host, port and path prefix, without a trailing slash, query or
    fragment. A host with credentials in it is refused, so the URL never carries a secret.
    """
    raw = (host or "").strip()
    if not raw:
        raise InvalidInputError(
            "Connection field 'host' (Control Room URL) is empty: expected a URL such as "
            "https://mycompany.my.automationanywhere.digital"
        )
    if "://" not in raw:
        scheme = (schema or "").strip().lower() or "https"
        if scheme not in ("http", "https"):
            raise InvalidInputError(
                f"Connection field 'schema' is {schema!r}: expected http or https (the URL scheme of the host)."
            )
        raw = f"{scheme}://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise InvalidInputError(f"Connection field 'host' uses the scheme {parts.scheme!r}: expected http or https.")
    if not parts.hostname:
        raise InvalidInputError(f"Connection field 'host' ({raw!r}) has no host name.")
    if parts.username or parts.password:
        raise InvalidInputError("Connection field 'host' must not contain credentials: put them in login/password.")
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _boolean(value: Any, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInputError(f"Connection field {name!r} is {value!r}: expected true or false.")


def _verify_ssl(value: Any) -> bool | str:
    if value is None or isinstance(value, bool):
        return True if value is None else value
    if not isinstance(value, str):
        raise InvalidInputError(f"Connection field 'extra.verify_ssl' is {value!r}: expected {_VERIFY_SSL_VALUES}.")
    text = value.strip()
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    problem = _ca_bundle_problem(text)
    if problem:
        raise InvalidInputError(
            f"Connection field 'extra.verify_ssl' is {value!r}: expected {_VERIFY_SSL_VALUES}, but the file {problem}."
        )
    return text


_VERIFY_SSL_VALUES = (
    "true, false or the path of a readable CA bundle file (PEM) on the machine running the task or trigger"
)


def _ca_bundle_problem(path: str) -> str | None:
    """Why ``path`` cannot serve as a CA bundle, or ``None`` when it can."""
    if not os.path.exists(path):
        return "does not exist"
    if os.path.isdir(path):
        return "is a directory (a bundle file is needed)"
    if not os.access(path, os.R_OK):
        return "cannot be read by this process"
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError) as problem:
        return f"holds no CA certificate in PEM form ({problem})"
    except OSError as problem:
        return f"cannot be read ({problem.strerror or problem})"
    return None


def _timeout(value: Any) -> float:
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidInputError(
            f"Connection field 'extra.timeout' is {value!r}: expected a positive number of seconds."
        )
    return seconds


def _max_response_bytes(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_MAX_RESPONSE_BYTES
    count: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        count = int(value.strip())
    if count is None or count <= 0:
        raise InvalidInputError(
            f"Connection field 'extra.max_response_bytes' is {value!r}: expected a positive whole number of "
            f"bytes (default {DEFAULT_MAX_RESPONSE_BYTES}, 64 MiB), the largest answer to accept after decoding."
        )
    return count


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
