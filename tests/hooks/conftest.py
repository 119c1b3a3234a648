"""Fixtures of the hook tests: a password connection and a clock the tests move."""

from __future__ import annotations

import pytest

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
