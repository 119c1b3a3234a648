"""Fixtures for driving protocol operations without I/O (see :mod:`tests.control_room.scripted`)."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.session import ControlRoomSession
from tests.control_room.scripted import FakeClock, jwt_token, new_session


@pytest.fixture
def clock() -> FakeClock:
    """Our wall clock, moved only by the operation's sleeps and the test."""
    return FakeClock()


@pytest.fixture
def token() -> str:
    """A token the scripted Control Room issues."""
    return jwt_token()


@pytest.fixture
def session(clock: FakeClock) -> ControlRoomSession:
    """A password-mode session on ``clock``, not logged in yet."""
    return new_session(clock=clock)
