"""HTTPS: the self-signed certificate, trusting it, and handshakes that never finish."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import urllib.request

import pytest
import requests
from cryptography import x509

from automation_anywhere_emulator import ControlRoomEmulator
from tests.emulator.conftest import PASSWORD_USER, TIMEOUT, address, assert_threads_end, handler_threads


def test_https_with_the_ca_file_works_and_default_trust_fails(aa_emulator_tls):
    assert aa_emulator_tls.url.startswith("https://127.0.0.1:")
    login = requests.post(
        f"{aa_emulator_tls.url}/v2/authentication", json=PASSWORD_USER, verify=aa_emulator_tls.ca_file, timeout=TIMEOUT
    )
    assert login.status_code == 200
    queue = requests.get(
        f"{aa_emulator_tls.url}/v3/wlm/queues/20",
        headers={"X-Authorization": login.json()["token"]},
        verify=aa_emulator_tls.ca_file,
        timeout=TIMEOUT,
    )
    assert queue.json()["name"] == "Invoices"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{aa_emulator_tls.url}/_emulator/config", verify=True, timeout=TIMEOUT)
    localhost = aa_emulator_tls.url.replace("127.0.0.1", "localhost")
    assert requests.get(f"{localhost}/_emulator/config", verify=aa_emulator_tls.ca_file, timeout=TIMEOUT).ok


def test_strict_verification_accepts_the_certificate(aa_emulator_tls):
    """Python 3.13 and urllib3 2 verify with VERIFY_X509_STRICT: the certificate must pass it."""
    context = ssl.create_default_context(cafile=aa_emulator_tls.ca_file)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with urllib.request.urlopen(f"{aa_emulator_tls.url}/_emulator/config", context=context, timeout=TIMEOUT) as answer:
        assert answer.status == 200


def test_the_certificate(aa_emulator_tls):
    with open(aa_emulator_tls.ca_file, "rb") as pem:
        certificate = x509.load_pem_x509_certificate(pem.read())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert certificate.not_valid_before_utc < now - datetime.timedelta(hours=23)
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == datetime.timedelta(days=30)


def test_a_client_that_never_shakes_hands_blocks_nobody():
    with ControlRoomEmulator(tls=True, request_read_timeout=0.5) as emulator:
        before = handler_threads()
        silent = socket.create_connection(address(emulator.url), timeout=TIMEOUT)
        half = socket.create_connection(address(emulator.url), timeout=TIMEOUT)
        half.sendall(b"\x16\x03\x01\x00\xff")  # the start of a ClientHello, and then nothing
        assert requests.get(f"{emulator.url}/_emulator/config", verify=emulator.ca_file, timeout=TIMEOUT).ok
        assert silent.recv(1) == b""  # closed by the server after the read timeout
        assert half.recv(1) == b""
        assert_threads_end(handler_threads() - before)
        silent.close()
        half.close()


def test_plain_http_has_no_ca_file():
    emulator = ControlRoomEmulator()
    assert emulator.ca_file is None and emulator.url.startswith("http://")


def test_the_certificate_lives_from_start_through_restart_to_stop():
    emulator = ControlRoomEmulator(tls=True)
    assert emulator.ca_file is None
    with emulator:
        ca_file = emulator.ca_file
        assert ca_file is not None and os.path.exists(ca_file)
        emulator.restart()
        assert emulator.ca_file == ca_file
        assert requests.get(f"{emulator.url}/_emulator/config", verify=ca_file, timeout=TIMEOUT).ok
    assert emulator.ca_file is None and not os.path.exists(os.path.dirname(ca_file))


def test_tls_faults_and_errors_work_alike(aa_emulator_tls):
    aa_emulator_tls.faults.add("oversized", bytes=5000, path="/authentication$")
    answer = requests.post(
        f"{aa_emulator_tls.url}/v2/authentication", json=PASSWORD_USER, verify=aa_emulator_tls.ca_file, timeout=TIMEOUT
    )
    assert len(answer.content) == 5000
    deep = requests.post(
        f"{aa_emulator_tls.url}/v2/authentication", data=b"[" * 100_000, verify=aa_emulator_tls.ca_file, timeout=TIMEOUT
    )
    assert deep.status_code == 400 and deep.json()["code"] == "INVALID_JSON"
