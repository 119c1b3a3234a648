"""The emulator's run-time settings and the seed data it starts from."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

_FLOAT_FIELDS = ("token_lifetime", "pickup_delay", "work_delay", "activity_delay")
_BOOL_FIELDS = ("numeric_ids", "auth_v1_enabled", "auth_v2_enabled", "pause_bot", "deploy_v4_enabled")


@dataclass(frozen=True)
class EmulatorConfig:
    """
    Settings that can change while the emulator runs (see ``ControlRoomEmulator.configure``).

    ``token_lifetime``: seconds a new JWT stays valid. ``pickup_delay`` / ``work_delay``:
    seconds the emulated bot waits before taking a NEW item / before finishing an ACTIVE one.
    ``numeric_ids``: numeric work item and queue fields as JSON numbers instead of strings.
    ``auth_v1_enabled`` / ``auth_v2_enabled``: whether login and refresh answer on
    ``/v1/...`` / ``/v2/...``. ``pause_bot``: keep items NEW. ``bot_rate``: items per
    second the bot can take, ``None`` for no limit. Deployed bots go ``DEPLOYED → RUNNING``
    after ``pickup_delay`` and finish ``work_delay`` later; ``activity_delay``: seconds
    before a run's activity record is listed. ``deploy_v4_enabled``: whether
    ``/v4/automations/deploy`` answers (off: 404, as on Control Rooms with only v3).
    """

    token_lifetime: float = 1200.0
    pickup_delay: float = 1.0
    work_delay: float = 1.0
    numeric_ids: bool = False
    auth_v1_enabled: bool = True
    auth_v2_enabled: bool = True
    pause_bot: bool = False
    bot_rate: float | None = None
    activity_delay: float = 1.0
    deploy_v4_enabled: bool = True

    def __post_init__(self) -> None:
        for name in _FLOAT_FIELDS:
            _check_number(name, getattr(self, name))
        if self.token_lifetime <= 0:
            raise ValueError("token_lifetime must be greater than 0")
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.bot_rate is not None:
            _check_number("bot_rate", self.bot_rate)
            if self.bot_rate <= 0:
                raise ValueError("bot_rate must be greater than 0, or None for no limit")

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied; an unknown name raises ``TypeError``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative")


def load_seed(source: Mapping[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """
    The seed document: users, queues, login credentials per auth mode and the bot's identity.

    ``source`` is a mapping, a path to a JSON file, or ``None`` for ``default_seed.json``.
    """
    if source is None:
        text = resources.files(__package__).joinpath("default_seed.json").read_text("utf-8")
        seed = json.loads(text)
    elif isinstance(source, Mapping):
        seed = copy.deepcopy(dict(source))
    else:
        seed = json.loads(Path(source).read_text("utf-8"))
    missing = [key for key in ("users", "queues") if not isinstance(seed.get(key), list)]
    if missing:
        raise ValueError(f"the emulator seed needs a list of {' and '.join(missing)}")
    return seed
