"""
A host with the wrong scheme, and a host name that does not resolve: the hook and the trigger
say what to fix, and do not retry what no retry can mend.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient
from tests.transport.conftest import Connection, connection_settings, hook_for

PING = ApiRequest("GET", "/v1/ping")
#: Retries that would take 17 s in all, as by default, if a wrong scheme were retried.
SLOW_RETRY = RetryPolicy(initial_delay=1.0, max_delay=8.0)


def swapped(url: str) -> str:
    """The emulator's URL with the other scheme."""
    scheme, rest = url.split("://", 1)
    return f"{'http' if scheme == 'https' else 'https'}://{rest}"


def address(url: str) -> str:
    return url.split("://", 1)[1]


def test_a_plain_http_url_of_an_https_server_names_the_scheme(send, aa_emulator_tls):
    url = swapped(aa_emulator_tls.url)

    answer = send(connection_settings(url, verify_ssl=aa_emulator_tls.ca_file), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(f"the server at {address(url)} speaks HTTPS, not plain HTTP (")
    assert answer.description.endswith(
        f"check the scheme in the connection's host (use https://{address(url)}) or its Schema field (https)"
    )


def test_an_https_url_of_a_plain_http_server_names_the_scheme(send, aa_emulator):
    url = swapped(aa_emulator.url)

    answer = send(connection_settings(url), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(f"the server at {address(url)} speaks plain HTTP, not HTTPS (TLS error: ")
    assert answer.description.endswith(
        f"check the scheme in the connection's host (use http://{address(url)}) or its Schema field (http)"
    )


def nginx_https_port(connection: Connection) -> None:
    """What nginx answers a plain HTTP request on its HTTPS port."""
    body = (
        b"<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body>"
        b"<center><h1>400 Bad Request</h1></center><center>The plain HTTP request was sent to HTTPS port"
        b"</center></body></html>"
    )
    head = f"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    connection.send(head.encode() + body)


def test_a_web_front_refusing_plain_http_names_the_scheme(send, server):
    server.answer = nginx_https_port

    answer = send(connection_settings(server.url), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(f"the server at {address(server.url)} speaks HTTPS, not plain HTTP (")


def tls_alert(connection: Connection) -> None:
    """A TLS server that answers anything but a ClientHello with an alert record, then closes."""
    connection.keep_alive = False
    connection.send(b"\x15\x03\x01\x00\x02\x02\x46")


def hang_up(connection: Connection) -> None:
    connection.keep_alive = False


def test_a_tls_alert_to_a_plain_request_names_the_scheme_but_a_plain_server_hanging_up_does_not(send, server):
    server.answer = tls_alert
    alerted = send(connection_settings(server.url), PING)
    server.answer = hang_up
    hung_up = send(connection_settings(server.url), PING)

    assert isinstance(alerted, TransportFailure), alerted
    assert alerted.description.startswith(f"the server at {address(server.url)} speaks HTTPS, not plain HTTP (")
    # The probe's ClientHello gets no TLS record back: a plain server's hang-up stays one (retried).
    assert hung_up == TransportFailure("dropped", "the connection was closed before an answer arrived")


@pytest.fixture(params=["hook", "trigger"])
def request_once_counted(request):
    """Send ``PING`` with the session's retries through the hook or the trigger's client; count the sends."""

    def call(settings) -> tuple[Exception, int]:
        sends: list[ApiResponse | TransportFailure] = []
        if request.param == "hook":
            hook = hook_for(settings, retry=SLOW_RETRY)
            send = hook._send

            def counted(api_request):
                sends.append(send(api_request))
                return sends[-1]

            hook._send = counted  # type: ignore[method-assign]
            try:
                with pytest.raises(AutomationAnywhereError) as failed:
                    hook.run_operation(hook.session._exchange(PING))
            finally:
                hook.get_conn().close()
            return failed.value, len(sends)

        async def run():
            client = AsyncControlRoomClient(ControlRoomSession(settings, retry=SLOW_RETRY))
            send = client._send

            async def counted(api_request):
                sends.append(await send(api_request))
                return sends[-1]

            client._send = counted  # type: ignore[method-assign]
            try:
                await client.run_operation(client.session._exchange(PING))
            finally:
                await client._http.aclose()

        with pytest.raises(AutomationAnywhereError) as failed:
            asyncio.run(run())
        return failed.value, len(sends)

    return call


def test_a_wrong_scheme_fails_at_the_first_attempt(request_once_counted, aa_emulator, aa_emulator_tls):
    for url in (swapped(aa_emulator.url), swapped(aa_emulator_tls.url)):
        error, sends = request_once_counted(connection_settings(url, verify_ssl=aa_emulator_tls.ca_file))

        assert sends == 1
        assert str(error).startswith("The Control Room call failed: the server at ")
        assert "check the scheme in the connection's host" in str(error)


def test_the_connection_test_names_the_schema_field(aa_emulator_tls, monkeypatch):
    fields = json.loads(aa_emulator_tls.connection_env_value())
    fields["host"], fields["schema"] = address(aa_emulator_tls.url), "http"
    monkeypatch.setenv("AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT", json.dumps(fields))

    ok, message = AutomationAnywhereHook().test_connection()

    assert not ok
    assert "speaks HTTPS, not plain HTTP" in message and "or its Schema field (https)" in message


#: A host name no resolver knows (RFC 6761 reserves .invalid), longer than a library's text is kept.
UNKNOWN_HOST = ".".join(letter * 63 for letter in "abc") + ".invalid"


def test_a_host_name_that_does_not_resolve_is_named_whole_with_the_cause(send):
    answer = send(connection_settings(f"https://{UNKNOWN_HOST}"), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "connect"
    prefix = f"could not resolve the host name {UNKNOWN_HOST!r}: [Errno "
    assert answer.description.startswith(prefix), answer.description
    assert len(answer.description) > len(prefix) + 5
