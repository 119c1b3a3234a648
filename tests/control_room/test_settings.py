"""Connection fields → settings: inference of the auth mode and clear errors before any request."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.settings import settings_from_connection

URL = "https://cr.example.test"


def settings(host=URL, login="jdoe", password=None, port=None, **extra):
    return settings_from_connection(host=host, login=login, password=password, port=port, extra=extra)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"password": "pw"}, "password"),
        ({"api_key": "k" * 40}, "api_key"),
        ({"api_key": "k" * 40, "password": "pw"}, "api_key"),
        ({"token": "t", "login": None}, "token"),
        ({"token": "t", "password": "pw"}, "password"),
    ],
)
def test_auth_type_is_inferred_when_absent(fields, expected):
    assert settings(**fields).auth_type == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"auth_type": "password"}, "'password' must be set for auth_type='password'"),
        ({"auth_type": "password", "password": "pw", "login": None}, "'login' must be set"),
        ({"auth_type": "api_key"}, "'extra.api_key' must be set for auth_type='api_key'"),
        ({"auth_type": "token", "password": "pw"}, "'extra.token' must be set for auth_type='token'"),
        ({"auth_type": "oauth", "password": "pw"}, "expected one of password, api_key, token"),
        ({"password": "pw", "timeout": -1}, "'extra.timeout' is -1: expected a positive number"),
        ({"password": "pw", "timeout": "soon"}, "'extra.timeout'"),
        ({"password": "pw", "multiple_login": "maybe"}, "'extra.multiple_login'"),
        ({"password": "pw", "host": ""}, "'host' .*is empty"),
        ({"password": "pw", "host": None}, "'host' .*is empty"),
        ({"password": "pw", "host": "ftp://cr.example.test"}, "scheme 'ftp': expected http or https"),
        ({"password": "pw", "host": "https://u:p@cr.example.test"}, "must not contain credentials"),
    ],
)
def test_bad_connections_are_rejected_naming_the_field(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        settings(**fields)


def test_values_are_read_from_json_extras_and_strings():
    result = settings_from_connection(
        host="cr.example.test/", login="jdoe", password="pw", port=8443,
        extra='{"multiple_login": "true", "verify_ssl": "/etc/ca.pem", "timeout": "12.5"}',
    )
    assert result.base_url == "https://cr.example.test:8443"
    assert (result.multiple_login, result.verify_ssl, result.timeout) == (True, "/etc/ca.pem", 12.5)
    assert settings(password="pw").timeout == 30.0
    assert settings(password="pw").verify_ssl is True


def test_secrets_are_listed_and_kept_out_of_repr():
    result = settings(password="pw-secret", api_key="k" * 40, token="tok-secret")
    assert set(result.secrets) == {"pw-secret", "k" * 40, "tok-secret"}
    assert not any(secret in repr(result) for secret in result.secrets)


def test_plain_http_is_fine_on_loopback_only():
    assert settings(password="pw", host="http://127.0.0.1:8765").plain_http_warning is None
    assert settings(password="pw", host="http://localhost").plain_http_warning is None
    assert "plain http" in settings(password="pw", host="http://cr.internal").plain_http_warning
