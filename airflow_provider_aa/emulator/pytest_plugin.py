"""
pytest fixtures for testing against the Control Room emulator, registered on install.

- ``aa_emulator_server`` (session): one running :class:`ControlRoomEmulator`.
- ``aa_emulator``: the same emulator, reset to the seed (data, settings, faults, counters,
  sessions) before the test. Besides the emulator's own API it offers
  ``connection(auth_type, conn_id)``, ``connection_env_value(auth_type)`` and
  ``use_connection(monkeypatch, auth_type, conn_id)``::

      def test_my_dag(aa_emulator, monkeypatch):
          aa_emulator.use_connection(monkeypatch, auth_type="api_key")
          ...  # hooks and DAGs now reach the emulator as automation_anywhere_default
          assert aa_emulator.work_items(20)[0]["status"] == "NEW"

- ``aa_emulator_tls_server`` (session) and ``aa_emulator_tls``: the same over HTTPS
  (``url`` is ``https://...``), reset alike; trust ``aa_emulator_tls.ca_file``, e.g.
  ``requests.get(aa_emulator_tls.url + ..., verify=aa_emulator_tls.ca_file)``.

Importing this module is cheap: the emulator is imported when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_aa.emulator import ControlRoomEmulator


@pytest.fixture(scope="session")
def aa_emulator_server() -> Iterator[ControlRoomEmulator]:
    """One Control Room emulator on a free port for the whole test session."""
    from airflow_provider_aa.emulator import ControlRoomEmulator

    with ControlRoomEmulator() as emulator:
        yield emulator


@pytest.fixture
def aa_emulator(aa_emulator_server: ControlRoomEmulator) -> ControlRoomEmulator:
    """The session's emulator, freshly reset to its seed and default settings."""
    aa_emulator_server.reset()
    return aa_emulator_server


@pytest.fixture(scope="session")
def aa_emulator_tls_server() -> Iterator[ControlRoomEmulator]:
    """One Control Room emulator serving HTTPS (self-signed certificate) for the whole test session."""
    from airflow_provider_aa.emulator import ControlRoomEmulator

    with ControlRoomEmulator(tls=True) as emulator:
        yield emulator


@pytest.fixture
def aa_emulator_tls(aa_emulator_tls_server: ControlRoomEmulator) -> ControlRoomEmulator:
    """The session's HTTPS emulator, freshly reset to its seed and default settings."""
    aa_emulator_tls_server.reset()
    return aa_emulator_tls_server
