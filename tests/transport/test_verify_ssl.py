"""verify_ssl is honoured as given, whatever REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE say; TLS failures are clear."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient
from tests.transport.conftest import connection_settings, hook_for

PING = ApiRequest("GET", "/v1/ping")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
FAST_RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.01)


@pytest.fixture(autouse=True)
def no_ca_variables(monkeypatch):
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def set_ca_variables(monkeypatch, value):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, str(value))


def test_verify_ssl_false_wins_over_a_bogus_bundle_in_the_environment(send, tls_server, monkeypatch, tmp_path):
    set_ca_variables(monkeypatch, tmp_path / "no-such-bundle.pem")

    answer = send(connection_settings(tls_server.url, verify_ssl=False), PING)

    assert isinstance(answer, ApiResponse), answer
    assert answer.status == 200


@pytest.mark.parametrize("verify_ssl", ["false", "False", False])
def test_verify_ssl_false_strings_too(send, tls_server, monkeypatch, tmp_path, verify_ssl):
    set_ca_variables(monkeypatch, tmp_path / "no-such-bundle.pem")

    answer = send(connection_settings(tls_server.url, verify_ssl=verify_ssl), PING)

    assert isinstance(answer, ApiResponse), answer


def test_ca_path_wins_over_a_wrong_bundle_in_the_environment(send, tls_server, certificates, monkeypatch):
    server_cert, stranger = certificates
    set_ca_variables(monkeypatch, stranger.cert_file)

    answer = send(connection_settings(tls_server.url, verify_ssl=str(server_cert.cert_file)), PING)

    assert isinstance(answer, ApiResponse), answer
    assert answer.status == 200


def test_a_wrong_ca_path_is_a_tls_error_even_when_the_environment_would_trust_the_server(
    send, tls_server, certificates, monkeypatch
):
    server_cert, stranger = certificates
    set_ca_variables(monkeypatch, server_cert.cert_file)

    answer = send(connection_settings(tls_server.url, verify_ssl=str(stranger.cert_file)), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith("TLS error: ")


def test_default_verification_reports_a_self_signed_certificate_as_a_tls_error(send, tls_server):
    answer = send(connection_settings(tls_server.url), PING)

    assert isinstance(answer, TransportFailure), answer
    assert (answer.kind, answer.not_sent) == ("other", False)
    assert answer.description.startswith("TLS error: ")
    assert "certificate" in answer.description.lower()


def test_the_hook_sends_a_request_failing_on_tls_once(tls_server):
    hook = hook_for(connection_settings(tls_server.url), retry=FAST_RETRY)

    with pytest.raises(AutomationAnywhereError, match="The Control Room call failed: TLS error: "):
        hook._request_json(PING)

    assert tls_server.connections == 1


def test_the_trigger_sends_a_request_failing_on_tls_once(tls_server):
    async def call():
        client = AsyncControlRoomClient(ControlRoomSession(connection_settings(tls_server.url), retry=FAST_RETRY))
        try:
            await client._request_json(PING)
        finally:
            await client._http.aclose()

    with pytest.raises(AutomationAnywhereError, match="The Control Room call failed: TLS error: "):
        asyncio.run(call())

    assert tls_server.connections == 1


@pytest.mark.parametrize(
    ("verify_ssl", "expected"),
    [
        ("/no/such/ca-bundle.pem", "does not exist"),
        ("{tmp}", "is a directory"),
        ("{tmp}/not-a-bundle.pem", "holds no CA certificate"),
    ],
)
def test_a_bad_verify_ssl_fails_the_connection_test_before_any_request(
    server, use_connection, tmp_path, verify_ssl, expected
):
    (tmp_path / "not-a-bundle.pem").write_text("hello\n")
    use_connection(host=server.url, login="jdoe", password="pw", extra={"verify_ssl": verify_ssl.format(tmp=tmp_path)})

    ok, message = AutomationAnywhereHook().test_connection()

    assert ok is False
    assert "'extra.verify_ssl'" in message and expected in message
    assert server.connections == 0
