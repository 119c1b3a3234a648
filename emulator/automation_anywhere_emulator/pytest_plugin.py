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

After each reset the fixtures call the callables that installed distributions register in
the entry point group ``automation_anywhere_emulator.reset`` (no arguments), so that a
client library forgets what it cached of the emulator: the Airflow provider registers its
hooks' ``forget_capabilities`` (a test may switch API versions off). The emulator itself
imports no client.

Both behave as the default, lenient emulator (every API version); ``pytest
--aa-emulator-profile NAME`` makes them a Control Room version (see :mod:`.profiles`), and
``--aa-emulator-strict`` refuses what the API reference does not document (see :mod:`.strict`).

Importing this module is cheap: the emulator is imported when a fixture is first used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aa_emulator", "Automation Anywhere Control Room emulator")
    group.addoption(
        "--aa-emulator-profile",
        metavar="NAME",
        help="the aa_emulator fixtures behave as this Control Room version (python -m "
        "automation_anywhere_emulator --list-profiles)",
    )
    group.addoption(
        "--aa-emulator-strict",
        action="store_true",
        help="the aa_emulator fixtures refuse body fields, filter fields and headers the API reference does not document",
    )


#: Entry point group of callables (no arguments) the fixtures call after each reset.
RESET_HOOKS = "automation_anywhere_emulator.reset"


@functools.cache
def _reset_hooks() -> tuple[Callable[[], object], ...]:
    """The registered reset hooks, loaded once per process (loading imports their modules)."""
    return tuple(entry_point.load() for entry_point in entry_points(group=RESET_HOOKS))


def _reset(emulator: ControlRoomEmulator) -> ControlRoomEmulator:
    emulator.reset()
    for hook in _reset_hooks():
        hook()
    return emulator


def _config(config: pytest.Config) -> EmulatorConfig:
    from automation_anywhere_emulator import EmulatorConfig

    profile = config.getoption("aa_emulator_profile")
    strict = bool(config.getoption("aa_emulator_strict"))
    return EmulatorConfig.for_profile(profile, strict=strict) if profile else EmulatorConfig(strict=strict)


@pytest.fixture(scope="session")
def aa_emulator_server(pytestconfig: pytest.Config) -> Iterator[ControlRoomEmulator]:
    """One Control Room emulator on a free port for the whole test session."""
    from automation_anywhere_emulator import ControlRoomEmulator

    with ControlRoomEmulator(_config(pytestconfig)) as emulator:
        yield emulator


@pytest.fixture
def aa_emulator(aa_emulator_server: ControlRoomEmulator) -> ControlRoomEmulator:
    """
    The session's emulator, freshly reset to its seed and default settings; the reset hooks
    ran (the provider's hooks forget the API versions they learned of it).
    """
    return _reset(aa_emulator_server)


@pytest.fixture(scope="session")
def aa_emulator_tls_server(pytestconfig: pytest.Config) -> Iterator[ControlRoomEmulator]:
    """One Control Room emulator serving HTTPS (self-signed certificate) for the whole test session."""
    from automation_anywhere_emulator import ControlRoomEmulator

    with ControlRoomEmulator(_config(pytestconfig), tls=True) as emulator:
        yield emulator


@pytest.fixture
def aa_emulator_tls(aa_emulator_tls_server: ControlRoomEmulator) -> ControlRoomEmulator:
    """The session's HTTPS emulator, freshly reset to its seed and default settings; the reset hooks ran."""
    return _reset(aa_emulator_tls_server)
