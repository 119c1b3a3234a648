"""Connection fields → settings: inference of the auth mode and clear errors before any request."""

from __future__ import annotations

import json
import os

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.settings import settings_from_connection
from tests.transport.conftest import make_certificate

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


def test_values_are_read_from_json_extras_and_strings(ca_bundle):
    result = settings_from_connection(
        host="cr.example.test/",
        login="jdoe",
        password="pw",
        port=8443,
        extra=json.dumps(
            {"multiple_login": "true", "verify_ssl": str(ca_bundle), "timeout": "12.5", "max_response_bytes": "1048576"}
        ),
    )
    assert result.base_url == "https://cr.example.test:8443"
    assert (result.multiple_login, result.verify_ssl, result.timeout) == (True, str(ca_bundle), 12.5)
    assert result.max_response_bytes == 1048576
    assert settings(password="pw").timeout == 30.0
    assert settings(password="pw").verify_ssl is True
    assert settings(password="pw").max_response_bytes == 64 * 1024 * 1024


@pytest.fixture
def ca_bundle(tmp_path):
    """A readable PEM file holding one CA certificate."""
    return make_certificate(tmp_path, "ca").cert_file


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), (" off ", False), ("1", True), (None, True)],
)
def test_verify_ssl_booleans_and_their_strings(value, expected):
    assert settings(password="pw", verify_ssl=value).verify_ssl is expected


def test_verify_ssl_a_ca_bundle_path_is_kept(ca_bundle):
    assert settings(password="pw", verify_ssl=f" {ca_bundle} ").verify_ssl == str(ca_bundle)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "/no/such/ca.pem",
            r"'extra.verify_ssl' is '/no/such/ca.pem': expected true, false or the path of a readable CA bundle file .*, but the file does not exist",
        ),
        ("{tmp}", "is a directory"),
        ("{tmp}/garbage.pem", "holds no CA certificate"),
        ("{tmp}/locked.pem", "cannot be read"),
        (5, r"'extra.verify_ssl' is 5: expected true, false or the path"),
        ([], r"'extra.verify_ssl' is \[\]: expected true, false or the path"),
    ],
)
def test_a_bad_verify_ssl_is_rejected_naming_the_field(tmp_path, ca_bundle, value, message):
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    locked = tmp_path / "locked.pem"
    locked.write_bytes(ca_bundle.read_bytes())
    locked.chmod(0)
    if value == "{tmp}/locked.pem" and os.access(locked, os.R_OK):
        pytest.skip("running as a user who reads any file (root)")
    with pytest.raises(InvalidInputError, match=message):
        settings(password="pw", verify_ssl=value.format(tmp=tmp_path) if isinstance(value, str) else value)


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("2048", 2048), (" 4096 ", 4096), (8192.0, 8192), (None, 67108864), ("", 67108864)]
)
def test_max_response_bytes_is_a_positive_whole_number(value, expected):
    assert settings(password="pw", max_response_bytes=value).max_response_bytes == expected


@pytest.mark.parametrize("value", [0, -1, "0", "-5", 1.5, "1.5", "lots", True, False, float("inf"), float("nan"), [1]])
def test_a_bad_max_response_bytes_is_rejected_naming_the_field(value):
    with pytest.raises(
        InvalidInputError, match=r"'extra.max_response_bytes' is .*: expected a positive whole number of bytes"
    ):
        settings(password="pw", max_response_bytes=value)


def test_secrets_are_listed_and_kept_out_of_repr():
    result = settings(password="pw-secret", api_key="k" * 40, token="tok-secret")
    assert set(result.secrets) == {"pw-secret", "k" * 40, "tok-secret"}
    assert not any(secret in repr(result) for secret in result.secrets)


def test_plain_http_is_fine_on_loopback_only():
    assert settings(password="pw", host="http://127.0.0.1:8765").plain_http_warning is None
    assert settings(password="pw", host="http://localhost").plain_http_warning is None
    assert "plain http" in settings(password="pw", host="http://cr.internal").plain_http_warning


@pytest.mark.parametrize(
    ("extra", "hint"),
    [
        ({"apiKey": "k"}, "did you mean 'api_key'?"),
        ({"multipleLogin": True}, "did you mean 'multiple_login'?"),
        ({"verify-ssl": False}, "did you mean 'verify_ssl'?"),
        ({"timout": 5}, "did you mean 'timeout'?"),
        ({"colour": "blue"}, "(known: auth_type, api_key"),
    ],
)
def test_an_unknown_extra_key_is_warned_about_with_the_nearest_known_one(extra, hint):
    settings = settings_from_connection(host="cr.example.test", login="u", password="p", extra=extra)
    (warning,) = settings.warnings
    assert f"Connection extra {next(iter(extra))!r} is not a setting of this provider" in warning and hint in warning


@pytest.mark.parametrize(
    ("host", "schema", "url"),
    [
        ("127.0.0.1", "http", "http://127.0.0.1:8765"),
        ("cr.example.test", "https", "https://cr.example.test:8765"),
        ("cr.example.test", None, "https://cr.example.test:8765"),
        ("https://cr.example.test", "http", "https://cr.example.test:8765"),  # an explicit scheme wins
    ],
)
def test_the_schema_field_is_the_scheme_of_a_host_without_one(host, schema, url):
    settings = settings_from_connection(host=host, login="u", password="p", port=8765, schema=schema)
    assert settings.base_url == url


def test_a_uri_connection_can_say_http(monkeypatch):
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
        "automation-anywhere://user:pass@127.0.0.1:8765/http?auth_type=password",
    )
    assert AutomationAnywhereHook().settings.base_url == "http://127.0.0.1:8765"


def test_a_schema_that_is_no_url_scheme_is_refused():
    with pytest.raises(InvalidInputError, match="'schema' is 'ftp'"):
        settings_from_connection(host="cr.example.test", login="u", password="p", schema="ftp")
