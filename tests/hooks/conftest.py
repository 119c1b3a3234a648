"""Fixtures of the hook tests: a password connection, a hook on the emulator, and a clock the tests move."""

from __future__ import annotations

import pytest

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.conftest import PASSWORD


@pytest.fixture
def password_conn(use_connection):
    return use_connection(login="jdoe", password=PASSWORD, extra={"auth_type": "password"})


@pytest.fixture
def clock():
    """Wall-clock seconds that only move when a test moves them."""

    class Clock:
        now = 1_000_000.0

        def __call__(self):
            return self.now

    return Clock()


@pytest.fixture
def hook(aa_emulator, monkeypatch):
    """A hook on the emulator with an API key connection (a test file may bring its own); closed afterwards."""
    aa_emulator.use_connection(monkeypatch, auth_type="api_key")
    hook = AutomationAnywhereHook()
    yield hook
    hook.close()
